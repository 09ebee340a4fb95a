"""Memory: resident set size of every service's processes, idle and at work.

VmRSS (now) and VmHWM (peak since start) from /proc for each process: the gunicorn
master and workers of ``booster serve SERVICE`` (2 workers), and ``booster worker
SERVICE``. The registry's API is also measured under a short wrk load (GET
/api/v1/clusters, 1,000 clusters), and its worker while relaying 5,000 outbox rows
(1,000 quick; people registered through ``operations.register_person``) to a bench
exchange and queue. Baselines, measured the same way in the same run: a bare Flask app
under the same gunicorn settings (for API processes), and a bare Python process that
imports kombu, SQLAlchemy and psycopg (for workers). Goal: every process < 120 MB.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from kombu import Connection, Exchange, Queue
from sqlalchemy import func, select

from bench import scale
from bench.apps import (
    VENV_BIN,
    Process,
    Rss,
    booster_env,
    free_port,
    gunicorn_command,
    registry_runtime,
    rss,
    rss_tree,
    secret,
    token,
    wrk,
)
from bench.common import BROKER_URL, Report, Result, Sizes, fresh_database, unique
from booster.bootstrap import platform_topologies
from booster.platform import SERVICE_NAMES
from booster.platform import spec as load_spec
from services.registry import operations
from services.registry.adapters.tables import outbox
from services.registry.domain.commands import RegisterPerson
from services.registry.domain.model import Language
from shared.config import BusSettings, Settings
from shared.migrations import upgrade
from shared.testing import delete_queues

LIMIT_MB = 120.0
FR = Language.FR
GOAL = f"< {LIMIT_MB:.0f} MB"
SETTLE_SECONDS = 1.0
BOOSTER = str(VENV_BIN / "booster")
BARE_WORKER = "import time, kombu, sqlalchemy, psycopg; time.sleep(3600)"
WORKER_WITHOUT_PLATFORM_QUEUES = (
    "import sys, booster.bootstrap as b; b.platform_topologies = lambda bus: []; "
    "from booster.cli import main; main(['worker', sys.argv[1]])"
)


class Sampler:
    """Samples VmRSS of a process tree every 100 ms; the largest value per pid."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            parent, kids = rss_tree(self.pid)
            for item in [parent, *kids]:
                if item is not None:
                    self.peak[item.pid] = max(self.peak.get(item.pid, 0.0), item.rss_mb)
            self._stop.wait(0.1)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _api(pid: int) -> tuple[Rss, list[Rss]]:
    master, workers = rss_tree(pid)
    if master is None or not workers:
        raise RuntimeError(f"no gunicorn master/workers at pid {pid}")
    return master, workers


def _wait_log(process: Process, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in process.output():
            return
        if process.popen is not None and process.popen.poll() is not None:
            raise RuntimeError(f"exited early:\n{process.output()[-3000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"no {text!r} after {timeout}s:\n{process.output()[-3000:]}")


def _worker_command(service: str, settings: Settings) -> tuple[list[str], str]:
    """``booster worker SERVICE``; if some service subscribes to events, the same command
    with the platform's queues left undeclared, so that the events it relays do not pile
    up in other services' queues on the bench exchange while it is measured."""
    if not platform_topologies(settings.bus):
        return [BOOSTER, "worker", service], "booster worker"
    python = str(VENV_BIN / "python")
    return [python, "-c", WORKER_WITHOUT_PLATFORM_QUEUES, service], (
        "booster worker without the other services' queues (nothing consumes them here)"
    )


@contextmanager
def _bench_exchange() -> Iterator[str]:
    """A bench exchange with a queue bound to everything; both deleted afterwards."""
    name = f"booster.events.{unique('benchmem')}"
    exchange = Exchange(name, type="topic", durable=True)
    queue = Queue(name, exchange, routing_key="#", durable=True)
    with Connection(BROKER_URL) as connection:
        queue.bind(connection.default_channel).declare()
    try:
        yield name
    finally:
        bus = BusSettings(broker_url=BROKER_URL, exchange=name)
        for service in SERVICE_NAMES:  # what the workers declared on the bench exchange
            delete_queues(service, bus)
        with Connection(BROKER_URL) as connection:
            connection.default_channel.queue_delete(name)
            connection.default_channel.exchange_delete(name)


def _queued(name: str) -> int:
    with Connection(BROKER_URL) as connection:
        return connection.default_channel.queue_declare(name, passive=True).message_count


def _mb(values: list[float]) -> float:
    return max(values) if values else float("nan")


def _row(
    metric: str, value: float, baseline: float | None, baseline_name: str, **extra: Any
) -> Result:
    return Result(
        "memory",
        metric,
        value,
        "MB",
        baseline,
        baseline_name if baseline is not None else None,
        goal=GOAL,
        met=value < LIMIT_MB,
        notes=extra.pop("notes", ""),
        extra=extra,
    )


def _relayed(sizes: Sizes) -> int:
    """How many outbox rows the registry's worker relays while measured."""
    return 1_000 if sizes.name == "quick" else 5_000


def _load_seconds(sizes: Sizes) -> int:
    return 2 if sizes.name == "quick" else sizes.rest_seconds


# -- baselines ---------------------------------------------------------------------------
def bare_api(seconds: float, bearer: str) -> dict[str, float]:
    port = free_port()
    with Process(gunicorn_command("bare_app()", port), booster_env(), port) as server:
        time.sleep(SETTLE_SECONDS)
        master, workers = _api(server.pid)
        idle = _mb([w.rss_mb for w in workers])
        wrk(server.base_url + "/api/v1/clusters", seconds, token=bearer)
        master, workers = _api(server.pid)
        return {
            "master_hwm": master.hwm_mb,
            "worker_idle": idle,
            "worker_hwm": _mb([w.hwm_mb for w in workers]),
        }


def bare_worker() -> float:
    python = str(VENV_BIN / "python")
    with Process([python, "-c", BARE_WORKER], booster_env()) as process:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.5)
            found = rss(process.pid)
            if found is not None and found.rss_mb > 25:  # the imports are done
                time.sleep(SETTLE_SECONDS)
                break
        found = rss(process.pid)
        return found.hwm_mb if found else float("nan")


# -- the registry ------------------------------------------------------------------------
def registry(report: Report, sizes: Sizes, bare: dict[str, float], bare_py: float) -> None:
    jwt_secret = secret()
    bearer = token(jwt_secret)
    rows = _relayed(sizes)
    seconds = _load_seconds(sizes)
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database("bench_memory"))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        exchange = stack.enter_context(_bench_exchange())
        runtime = registry_runtime(url, jwt_secret)
        stack.callback(runtime.database.dispose)
        scale.load(url, 1_000, people_per_cluster=0)
        env = booster_env(
            BOOSTER_REGISTRY_DATABASE_URL=url,
            BOOSTER_JWT_SECRET=jwt_secret,
            BOOSTER_BROKER_URL=BROKER_URL,
            BOOSTER_EXCHANGE=exchange,
            BOOSTER_VAR_DIR=tmp,
        )
        port = free_port()
        serve = [BOOSTER, "serve", "registry", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        with Process(serve, env, port) as server:
            time.sleep(SETTLE_SECONDS)
            master, workers = _api(server.pid)
            idle = {w.pid: w.rss_mb for w in workers}
            with Sampler(server.pid) as sampler:
                wrk(server.base_url + "/api/v1/clusters?limit=20", seconds, token=bearer)
            master, workers = _api(server.pid)
        procs = {"master": master.__dict__, "workers": [w.__dict__ for w in workers]}
        report.add(
            _row(
                "registry api master, peak",
                master.hwm_mb,
                bare["master_hwm"],
                "bare Flask, same gunicorn",
                processes=procs,
            )
        )
        report.add(
            _row(
                "registry api worker, idle",
                _mb(list(idle.values())),
                bare["worker_idle"],
                "bare Flask, same gunicorn",
            )
        )
        report.add(
            _row(
                "registry api worker peak, loaded",
                _mb([w.hwm_mb for w in workers]),
                bare["worker_hwm"],
                "bare Flask, same gunicorn",
                rss_under_load=sampler.peak,
                notes=f"wrk GET /clusters?limit=20 for {seconds}s",
            )
        )

        command, how = _worker_command("registry", Settings(environment="test"))
        with Process(command, env) as worker:
            _wait_log(worker, "worker started")
            time.sleep(SETTLE_SECONDS)
            idle_worker = rss(worker.pid)
            with Sampler(worker.pid) as sampler:
                for start in range(0, rows, 100):
                    with runtime.uow.begin():
                        for n in range(start, start + 100):
                            operations.register_person(
                                runtime.uow,
                                RegisterPerson(
                                    name=f"Person {n}", email=f"p{n}@bench.org", language=FR
                                ),
                            )
                _wait_unsent(runtime, 0, timeout=120)
            at_work = rss(worker.pid)
        if idle_worker is None or at_work is None:
            raise RuntimeError("the worker process vanished")
        if (queued := _queued(exchange)) != rows:
            raise RuntimeError(f"{queued} events reached the bench queue, not {rows}")
        report.add(
            _row(
                "registry worker, idle",
                idle_worker.rss_mb,
                bare_py,
                "python + kombu/SQLAlchemy/psycopg",
                notes=how,
            )
        )
        report.add(
            _row(
                f"registry worker peak, relay {rows:,}",
                at_work.hwm_mb,
                bare_py,
                "python + kombu/SQLAlchemy/psycopg",
                rss_now=at_work.rss_mb,
                rss_sampled_max=max(sampler.peak.values(), default=None),
                notes=how,
            )
        )


def _wait_unsent(runtime: Any, target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.database.session() as session:
            unsent = session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )
        if unsent <= target:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the worker left {unsent} outbox rows unsent")


# -- the other services (idle) -------------------------------------------------------------
def others(report: Report, bare: dict[str, float], bare_py: float) -> None:
    names = [name for name in SERVICE_NAMES if name != "registry"]
    with ExitStack() as stack:
        exchange = stack.enter_context(_bench_exchange())
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        env = booster_env(
            BOOSTER_BROKER_URL=BROKER_URL,
            BOOSTER_EXCHANGE=exchange,
            BOOSTER_JWT_SECRET=secret(),
            BOOSTER_VAR_DIR=tmp,
        )
        for name in names:
            url = stack.enter_context(fresh_database(f"bench_memory_{name}"))
            upgrade(load_spec(name), url)
            env[f"BOOSTER_{name.upper()}_DATABASE_URL"] = url
        started: dict[str, tuple[Process, Process, str]] = {}
        for name in names:
            port = free_port()
            serve = [BOOSTER, "serve", name, "--bind", f"127.0.0.1:{port}", "--workers", "2"]
            command, how = _worker_command(name, Settings(environment="test"))
            api = stack.enter_context(Process(serve, env, port))
            worker = stack.enter_context(Process(command, env))
            started[name] = (api, worker, how)
        for _, worker, _ in started.values():
            _wait_log(worker, "worker started")
        time.sleep(SETTLE_SECONDS)
        for name, (api, worker, how) in started.items():
            master, workers = _api(api.pid)
            largest = max([master, *workers], key=lambda r: r.rss_mb)
            report.add(
                _row(
                    f"{name} api idle (max)",
                    largest.rss_mb,
                    bare["worker_idle"],
                    "bare Flask worker, idle",
                    notes="the largest of the gunicorn master and its 2 workers",
                    master=master.__dict__,
                    workers=[w.__dict__ for w in workers],
                )
            )
            found = rss(worker.pid)
            report.add(
                _row(
                    f"{name} worker, idle",
                    found.rss_mb if found else float("nan"),
                    bare_py,
                    "python + kombu/SQLAlchemy/psycopg",
                    hwm_mb=found.hwm_mb if found else None,
                    notes=how,
                )
            )
        for api, worker, _ in started.values():  # all at once; the stack then waits
            api.terminate()
            worker.terminate()


def run(report: Report, sizes: Sizes) -> None:
    if not sys.platform.startswith("linux"):
        report.add(Result("memory", "skipped", float("nan"), "", notes="needs /proc"))
        return
    bearer = token(secret())
    bare = bare_api(_load_seconds(sizes), bearer)
    bare_py = bare_worker()
    registry(report, sizes, bare, bare_py)
    others(report, bare, bare_py)
