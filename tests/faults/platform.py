"""The platform under fault: real ``booster serve`` / ``booster worker`` processes on
their own PostgreSQL databases and their own exchange, each link to a server through a
:class:`~tests.faults.proxy.FaultProxy`.

- registry: its API (gunicorn, two workers) takes the load; its worker relays the
  outbox (``registry.person.registered`` per write);
- notifications and events: their workers consume those events (a welcome notification,
  a read copy of the person) and are the consumers the checker reads.

Every process reaches PostgreSQL through its service's own proxy and RabbitMQ through
one broker proxy; the test's observer and checker go to the servers directly.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
import requests
from kombu import Connection
from sqlalchemy.engine import make_url

from booster.platform import spec
from shared.auth import mint_token
from shared.bus.topology import dead_queue_name, queue_name
from shared.config import BusSettings
from shared.migrations import upgrade
from shared.testing import fresh_postgres_database
from tests.conftest import TEST_SECRET
from tests.faults.proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]
BOOSTER = str(Path(sys.executable).with_name("booster"))
SERVICES = ("registry", "notifications", "events")
CONSUMERS = ("notifications", "events")
T = TypeVar("T")
HEARTBEAT = 3
"""Seconds: short, so that a hung broker is noticed within the test (the platform's
default is 60; a URL's ``?heartbeat=`` sets it)."""


def wait_until(check: Callable[[], object], timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(poll)


def in_background(function: Callable[..., T], *args: object) -> Future[T]:
    """``function(*args)`` in a thread of its own; its result (or exception) in the future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for it
            future.set_exception(exc)

    threading.Thread(target=run, name=f"background-{function.__name__}", daemon=True).start()
    return future


def conninfo(url: str) -> str:
    """A psycopg connection string from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def children(pid: int) -> set[int]:
    """The child processes of ``pid`` (e.g. gunicorn's workers)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def established(pid: int) -> list[tuple[int, int]]:
    """(local port, remote port) of each established TCP connection of a process (/proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == "01" and inode in inodes:  # 01: ESTABLISHED
                found.append((int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)))
    return found


def rss_kib(pid: int) -> int:
    """The resident set size of a process, in KiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


@dataclass
class Process:
    """One of the platform's processes, its output in a log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        assert self.popen is None or self.popen.poll() is not None, f"{self.name} is running"
        with self.log.open("ab") as sink:
            sink.write(f"\n=== start {self.starts + 1}: {' '.join(self.args)}\n".encode())
            sink.flush()
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, no warning (the process and, for gunicorn, nothing else)."""
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)

    def terminate(self) -> None:
        """SIGTERM (the platform's own way to stop); see ``stop``."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM, then wait; SIGKILL after 30 s."""
        self.terminate()
        if self.popen is None:
            return
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.output()))


@dataclass
class Platform:
    """Databases, proxies, processes and the test's own exchange."""

    admin_url: str
    bus: BusSettings
    var: Path
    stack: ExitStack
    db_urls: dict[str, str] = field(default_factory=dict)
    pg: dict[str, FaultProxy] = field(default_factory=dict)
    broker: FaultProxy | None = None
    processes: dict[str, Process] = field(default_factory=dict)
    api_port: int = 0
    broker_urls: Sequence[str] = ()
    extra_env: dict[str, str] = field(default_factory=dict)

    # -- set-up ------------------------------------------------------------------------
    def prepare(self) -> None:
        for service in SERVICES:
            url = self.stack.enter_context(fresh_postgres_database(self.admin_url, "faults"))
            upgrade(spec(service), url)
            self.db_urls[service] = url
            parts = make_url(url)
            self.pg[service] = FaultProxy(
                f"pg-{service}", (parts.host or "127.0.0.1", parts.port or 5432)
            )
            self.stack.callback(self.pg[service].close)
        broker = urlsplit(self.bus.broker_urls[0])
        self.broker = FaultProxy(
            "broker", (broker.hostname or "127.0.0.1", broker.port or 5672), amqp=True
        )
        self.stack.callback(self.broker.close)
        self.stack.callback(self.stop_all)

    def stop_all(self) -> None:
        """Stop every process, all at once."""
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            process.stop()

    def env(self, service: str, **extra: str) -> dict[str, str]:
        """The process environment of ``service``: its database and the broker through
        the proxies, this test's exchange."""
        assert self.broker is not None
        urls = self.broker_urls or [
            f"amqp://guest:guest@127.0.0.1:{self.broker.port}//?heartbeat={HEARTBEAT}"
        ]
        env = {name: value for name, value in os.environ.items() if not name.startswith("BOOSTER_")}
        env.update(
            PYTHONPATH=str(ROOT),
            PGAPPNAME=f"faults-{service}",
            BOOSTER_ENV="test",
            BOOSTER_VAR_DIR=str(self.var),
            BOOSTER_JWT_SECRET=TEST_SECRET,
            BOOSTER_LOG_JSON="true",
            BOOSTER_BROKER_URL=";".join(urls),
            BOOSTER_EXCHANGE=self.bus.exchange,
            BOOSTER_WEB_CONCURRENCY="2",
            # one subject writes all the load: no per-subject write budget
            BOOSTER_RATELIMIT_WRITES="off",
        )
        env[f"BOOSTER_{service.upper()}_DATABASE_URL"] = through(
            self.db_urls[service], self.pg[service].port
        )
        env.update(self.extra_env)
        env.update(extra)
        return env

    def add(self, name: str, service: str, args: list[str], **env: str) -> Process:
        process = Process(name, args, self.env(service, **env), self.var / f"{name}.log")
        self.processes[name] = process
        return process

    def api_process(self) -> Process:
        self.api_port = _free_port()
        bind = f"127.0.0.1:{self.api_port}"
        return self.add("registry-api", "registry", [BOOSTER, "serve", "registry", "--bind", bind])

    def _api_ready(self) -> bool:
        process = self.processes["registry-api"]
        assert process.running(), process.output()[-3000:]
        try:
            return requests.get(f"{self.api}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def worker_process(self, service: str, name: str | None = None, **env: str) -> Process:
        """``booster worker SERVICE`` (not started)."""
        name = name or f"{service}-worker"
        return self.add(name, service, [BOOSTER, "worker", service], **env)

    def hooked_worker_process(self, service: str, trigger: Path) -> Process:
        """The worker with the relay's fault hook armed by ``trigger`` (see hooked_worker)."""
        return self.add(
            f"{service}-worker",
            service,
            [sys.executable, "-m", "tests.faults.hooked_worker", service],
            BOOSTER_FAULT_RELAY_TRIGGER=str(trigger),
        )

    def launch(self, *processes: Process) -> None:
        """Start the processes together, then wait until each works: the API answers
        /readyz, a consuming worker's consumer consumes, another worker has started."""
        consuming = {p.name: p.count("consumer started") for p in processes}
        for process in processes:
            process.start()
        for process in processes:
            service = process.name.split("-")[0]
            if process.name == "registry-api":
                wait_until(self._api_ready, 90, "the registry's API answers /readyz")
            elif service in CONSUMERS:
                before = consuming[process.name]
                wait_until(
                    lambda p=process, n=before: p.count("consumer started") > n or not p.running(),
                    90,
                    f"{process.name} consumes",
                )
            else:
                wait_until(
                    lambda p=process: p.count("worker started") >= p.starts or not p.running(),
                    90,
                    f"{process.name} starts",
                )
            assert process.running(), process.output()[-3000:]

    # -- observation -------------------------------------------------------------------
    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def token(self) -> str:
        return mint_token(TEST_SECRET, "faults", "registry:write registry:read", ttl=3600)

    def query(self, service: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` on ``service``'s database, directly (not through the proxy)."""
        with psycopg.connect(conninfo(self.db_urls[service]), autocommit=True) as connection:
            return list(connection.execute(sql, args or None).fetchall())

    def broker_connections(self, names: Sequence[str]) -> dict[str, set[int]]:
        """The client ports of each process's connections through the broker's proxy."""
        assert self.broker is not None
        port = self.broker.port
        return {
            name: {
                local for local, remote in established(self.processes[name].pid) if remote == port
            }
            for name in names
        }

    def gave_up(self, connections: dict[str, set[int]], since: float) -> dict[str, bool]:
        """Whether each process gave one of ``connections`` up (a closing method sent, read
        by the broker's proxy) at ``since`` or later: how a worker shows, while the broker
        still says nothing, that it noticed."""
        assert self.broker is not None
        closing = self.broker.closing_since(since)
        return {name: bool(ports & closing) for name, ports in connections.items()}

    def unsent(self, service: str = "registry") -> int:
        return int(self.query(service, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0])

    def terminate_backends(self) -> int:
        """``pg_terminate_backend`` every session of the platform's databases; how many."""
        names = [make_url(url).database for url in self.db_urls.values()]
        with psycopg.connect(conninfo(self.admin_url), autocommit=True) as admin:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
                (names,),
            ).fetchall()
        return sum(1 for (ok,) in rows if ok)

    def ready_messages(self, service: str, queue: str | None = None) -> int:
        """Messages waiting (not yet delivered) in ``service``'s queue (or ``queue``)."""
        with Connection(self.bus.broker_url) as connection:
            channel = connection.channel()
            try:
                name = queue or queue_name(service, self.bus.exchange)
                return int(channel.queue_declare(name, passive=True).message_count)
            finally:
                channel.close()

    def dead_letters(self) -> int:
        """Messages in the consumers' dead-letter queues."""
        return sum(self.ready_messages(s, dead_queue_name(s, self.bus.exchange)) for s in CONSUMERS)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unacknowledged(queue: str) -> int:
    """Messages of ``queue`` delivered and not yet acked (``rabbitmqctl``, machine broker)."""
    result = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name", "messages_unacknowledged"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == queue:
            return int(parts[1])
    raise AssertionError(f"no queue {queue} on the broker")


@contextmanager
def sampling(every: float, sample: Callable[[], None]) -> Iterator[None]:
    """Call ``sample`` every ``every`` seconds in a thread during the block."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                sample()
            except Exception:  # noqa: BLE001 - a sample may fail while a fault is on
                pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
