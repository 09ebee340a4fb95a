"""Fixtures of the fault suite: the platform as real processes behind fault proxies, the
load driver, the independent observer and the checker; the checker's figures of every
fault are printed at the end of the run."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from booster.platform import SERVICE_NAMES
from shared import testing
from shared.config import BusSettings
from tests.faults.burst import Burst
from tests.faults.checker import REGISTERED, Checker, Figures
from tests.faults.cluster import Cluster
from tests.faults.load import LoadDriver
from tests.faults.observer import Observer
from tests.faults.platform import HEARTBEAT, Platform, Process, in_background

FIGURES: list[Figures] = []
LOAD_RATE = 50.0
"""Writes a second the load driver makes (25 before): a test's "N writes before (or
after) the fault" take N/50 s, and every fault meets twice the writes in flight."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("fault suite: the checker's figures")
    for figures in FIGURES:
        terminalreporter.write_line(figures.line())


def require_rabbitmqctl() -> None:
    if shutil.which("rabbitmqctl") is None:
        testing.unavailable("rabbitmqctl", "not on PATH (the fault suite reads queue states)")


@dataclass
class Rig:
    """One test's platform, observer and load, and the checker over them."""

    platform: Platform
    observer: Observer
    driver: LoadDriver | Burst | None = None
    started: float = field(default_factory=time.monotonic)

    def start(
        self,
        *,
        api: bool = True,
        hooked_registry: Path | None = None,
        env: dict[str, dict[str, str]] | None = None,
        replicas: dict[str, int] | None = None,
    ) -> None:
        """The registry's API (``api``) and worker (with the relay's fault hook armed by
        the file ``hooked_registry``), and the consumers' workers; ``env``: more
        variables per service; ``replicas``: workers per service (1 by default), named
        ``<service>-worker-<i>``, each with its own PostgreSQL application name."""
        platform, env, replicas = self.platform, env or {}, replicas or {}
        processes = [platform.api_process()] if api else []
        for service in ("registry", "notifications", "events"):
            count = replicas.get(service, 1)
            if count == 1 and service == "registry" and hooked_registry is not None:
                processes.append(platform.hooked_worker_process(service, hooked_registry))
                continue
            for index in range(1, count + 1):
                name = f"{service}-worker" if count == 1 else f"{service}-worker-{index}"
                extra = dict(env.get(service, {}))
                if count > 1:
                    extra["PGAPPNAME"] = f"faults-{service}-{index}"
                processes.append(platform.worker_process(service, name, **extra))
        platform.launch(*processes)

    def worker(self, service: str) -> Process:
        return self.platform.processes[f"{service}-worker"]

    def load(self, rate: float = LOAD_RATE) -> LoadDriver:
        self.driver = LoadDriver(self.platform.api, self.platform.token(), rate=rate)
        self.driver.start()
        return self.driver

    def wait_for_writes(self, count: int, timeout: float = 60.0) -> None:
        """Until ``count`` more writes were acknowledged from now on."""
        assert self.driver is not None
        target = len(self.driver.acknowledged) + count
        deadline = time.monotonic() + timeout
        while len(self.driver.acknowledged) < target:
            assert time.monotonic() < deadline, f"{count} writes not acknowledged in {timeout}s"
            time.sleep(0.1)

    def checker(self) -> Checker:
        assert self.driver is not None
        return Checker(self.platform, self.driver, self.observer)

    def finish(self, fault: str, drain_timeout: float = 180.0, **notes: object) -> Figures:
        """Stop the load, drain, run the checker; its figures are printed and kept."""
        assert self.driver is not None
        self.driver.stop()
        checker = self.checker()
        drained = checker.drain(drain_timeout)
        figures = checker.check(fault)
        figures.dead = self.platform.dead_letters()
        figures.notes.update(notes)
        figures.notes["drained in"] = f"{drained:.1f}s"
        figures.notes["run"] = f"{time.monotonic() - self.started:.0f}s"
        FIGURES.append(figures)
        print(figures.line())
        return figures


LOGS = Path(__file__).resolve().parents[2] / "var" / "faults"
"""Each test's process logs stay here after the run (var/ is not versioned)."""


@contextmanager
def _rig(
    admin_url: str, bus: BusSettings, name: str, broker_urls: list[str] | None = None
) -> Iterator[Rig]:
    with ExitStack() as stack:
        var = LOGS / name
        shutil.rmtree(var, ignore_errors=True)
        var.mkdir(parents=True)
        platform = Platform(admin_url, bus, var, stack, broker_urls=broker_urls or [])
        platform.prepare()
        observer = Observer(bus.broker_urls, bus.exchange, [REGISTERED])
        observer.declare()
        stack.callback(observer.delete)
        stack.callback(observer.stop)
        observer.start()
        rig = Rig(platform, observer)
        try:
            yield rig
        finally:
            if rig.driver is not None:
                rig.driver.stop()


@pytest.fixture
def rig(
    postgres_admin_url: str, bus_settings: BusSettings, request: pytest.FixtureRequest
) -> Iterator[Rig]:
    """Databases, proxies and the observer (declared before any write), on the machine's
    broker; processes are started by the test (``rig.start``). Everything is stopped and
    removed afterwards (``bus_settings`` deletes the services' queues and the exchange).
    The processes' logs stay in var/faults/<test>/."""
    require_rabbitmqctl()
    with _rig(postgres_admin_url, bus_settings, request.node.name) as rig:
        yield rig


class SessionCluster:
    """The session's one three-node cluster, started and stopped in the background.

    Booting three nodes and joining them takes half a minute, stopping them ten seconds:
    the cluster tests run after the first fault test (``pytest_collection_modifyitems``),
    which covers the boot, and the nodes stop while the next fault tests run. The
    session's end waits for the stop."""

    def __init__(self) -> None:
        self.started: Future[Cluster] | None = None
        self.stopped: Future[None] | None = None
        self.last_user = ""
        """The node id of the session's last cluster test: the nodes stop after it."""

    def start(self) -> None:
        if self.started is None:
            self.started = in_background(Cluster.start)

    def get(self) -> Cluster:
        self.start()
        assert self.started is not None
        return self.started.result(timeout=360)

    def stop(self) -> None:
        """Stop the nodes in the background (once); a start still under way first ends."""
        if self.started is not None and self.stopped is None:
            self.stopped = in_background(_stop_started, self.started)

    def wait_stopped(self) -> None:
        self.stop()
        if self.stopped is not None:
            self.stopped.result(timeout=360)


def _stop_started(started: Future[Cluster]) -> None:
    try:
        cluster = started.result(timeout=360)
    except Exception:  # noqa: BLE001 - it failed to start: reported by the tests using it
        return
    cluster.await_restarts()
    cluster.stop()


SESSION_CLUSTER = SessionCluster()


def _uses_cluster(item: pytest.Item) -> bool:
    return item.get_closest_marker("cluster") is not None


@pytest.hookimpl(trylast=True)  # after ``-m`` deselected what does not run
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The cluster tests run after the first fault test (so that the cluster boots
    while it runs); otherwise the order is kept."""
    cluster = [item for item in items if _uses_cluster(item)]
    rest = [item for item in items if not _uses_cluster(item)]
    faults = [i for i, item in enumerate(rest) if item.get_closest_marker("faults")]
    if cluster and faults:
        items[:] = [*rest[: faults[0] + 1], *cluster, *rest[faults[0] + 1 :]]


@pytest.fixture(scope="session", autouse=True)
def _session_cluster(request: pytest.FixtureRequest) -> Iterator[None]:
    """Starts the session's cluster in the background as soon as the first test of
    tests/faults runs, if a cluster test is to run; stops it at the end at the latest."""
    users = [item for item in request.session.items if _uses_cluster(item)]
    if users and shutil.which("rabbitmqctl") and shutil.which("rabbitmq-server"):
        SESSION_CLUSTER.last_user = users[-1].nodeid
        SESSION_CLUSTER.start()
    try:
        yield
    finally:
        SESSION_CLUSTER.wait_stopped()


@pytest.fixture(scope="session")
def rabbit_cluster(_session_cluster: None) -> Cluster:
    """Three RabbitMQ nodes joined in a cluster (scripts/rabbitmq-cluster), beside the
    machine's broker; stopped, and their data deleted, after the session's last cluster
    test."""
    require_rabbitmqctl()
    if shutil.which("rabbitmq-server") is None:
        testing.unavailable("rabbitmq-server", "not installed (the cluster tests start nodes)")
    return SESSION_CLUSTER.get()


@pytest.fixture
def cluster_rig(
    postgres_admin_url: str,
    rabbit_cluster: Cluster,
    unique: str,
    request: pytest.FixtureRequest,
) -> Iterator[Rig]:
    """Like ``rig``, with every process and the observer on the cluster: the three nodes'
    URLs in BOOSTER_BROKER_URL (heartbeat 3 s), no proxy in front of the broker."""
    bus = BusSettings(
        broker_url=";".join(rabbit_cluster.urls()), exchange=f"booster.events.{unique}"
    )
    try:
        with _rig(
            postgres_admin_url, bus, request.node.name, rabbit_cluster.urls(HEARTBEAT)
        ) as rig:
            yield rig
    finally:
        try:
            rabbit_cluster.await_restarts()  # a test that failed before it waited
        finally:
            for node in range(1, rabbit_cluster.nodes + 1):
                if node not in rabbit_cluster.running():
                    rabbit_cluster.start_node(node)  # a test that failed half-way
            for service in SERVICE_NAMES:
                testing.delete_queues(service, bus)
            if request.node.nodeid == SESSION_CLUSTER.last_user:
                SESSION_CLUSTER.stop()  # no cluster test follows: the nodes stop meanwhile
