"""Fixtures of the fault suite: the platform as real processes behind fault proxies, the
load driver, the independent observer and the checker; the checker's figures of every
fault are printed at the end of the run."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
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
from tests.faults.platform import HEARTBEAT, Platform, Process

FIGURES: list[Figures] = []


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

    def load(self, rate: float = 25.0) -> LoadDriver:
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


@pytest.fixture(scope="session")
def rabbit_cluster() -> Iterator[Cluster]:
    """Three RabbitMQ nodes joined in a cluster (scripts/rabbitmq-cluster), beside the
    machine's broker; stopped, and their data deleted, after the session."""
    require_rabbitmqctl()
    if shutil.which("rabbitmq-server") is None:
        testing.unavailable("rabbitmq-server", "not installed (the cluster tests start nodes)")
    cluster = Cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


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
        for node in range(1, rabbit_cluster.nodes + 1):
            if node not in rabbit_cluster.running():
                rabbit_cluster.start_node(node)  # a test that failed half-way
        for service in SERVICE_NAMES:
            testing.delete_queues(service, bus)
