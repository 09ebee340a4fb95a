"""The HTTP apps the benchmarks serve, and how they serve and load them.

App factories for gunicorn (``"bench.apps:service_app('registry')"``), all configured from the
``BOOSTER_*`` environment like ``booster serve``:

- :func:`service_app` -- a service's real app (auth, logging, metrics, problems);
- :func:`registry_app_without_outbox` -- the same, with ``Outbox.add`` a no-op (the
  write path without the event row: the baseline of the outbox's cost);
- :func:`bare_app` -- a bare Flask app that serves fixed JSON bytes (the baseline of
  the framework's and the platform's cost per request);
- the REST peers (other stacks serving the same list) are in ``bench/peers.py``.

Helpers: :func:`service_runtime` and :func:`registry_runtime` (a service, the registry,
in the bench process), :class:`EventsApi` and :func:`events_people` (events created and
published over HTTP, people to register for them), :class:`Process` (a subprocess
served on a free port, ready on ``/healthz``, terminated on exit), :func:`wrk` (run wrk,
parse its figures), :func:`interleave` and :func:`combine` (load several servers in turn,
in short slices, and sum the slices up) and :func:`rss_tree` (VmRSS/VmHWM of a process
and its children, from ``/proc``).

Only the standard library is imported at module level: gunicorn imports this module
in the measured processes, and the bare app's memory is a baseline.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
WRK_SCRIPTS = ROOT / "bench" / "wrk"
BARE_BODY_ENV = "BENCH_BARE_BODY"
BARE_DETAIL_ENV = "BENCH_BARE_DETAIL"
BARE_EVENT_ENV = "BENCH_BARE_EVENT"
GUNICORN_WORKERS = 2


# -- app factories (run inside gunicorn workers) -----------------------------------------
def service_app(name: str) -> Any:
    """A service's HTTP app as ``booster serve NAME`` builds it."""
    from booster.bootstrap import bootstrap, create_app, load_settings
    from shared.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(bootstrap(name, settings))


def registry_app_without_outbox() -> Any:
    """The registry's app with the outbox row left out of every write."""
    from shared.outbox import Outbox

    def add(self: Outbox, session: Any, event_: Any) -> None:
        return None

    Outbox.add = add  # type: ignore[method-assign]
    return service_app("registry")


def _file_bytes(env: str) -> bytes:
    """The bytes of the file named by the environment variable ``env`` (``{}`` without it)."""
    path = os.environ.get(env)
    return Path(path).read_bytes() if path else b"{}"


def bare_app() -> Any:
    """A bare Flask app: ``GET /api/v1/clusters`` returns the bytes of the file named by
    ``BENCH_BARE_BODY`` (``{}`` without it), ``GET /api/v1/clusters/<id>`` those of
    ``BENCH_BARE_DETAIL``, ``GET /api/v1/events/<id>`` those of ``BENCH_BARE_EVENT``;
    ``/healthz`` answers ok."""
    from flask import Flask, Response

    body = _file_bytes(BARE_BODY_ENV)
    detail = _file_bytes(BARE_DETAIL_ENV)
    event_detail = _file_bytes(BARE_EVENT_ENV)
    app = Flask("bench.bare")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', mimetype="application/json")

    @app.get("/api/v1/clusters")
    def clusters() -> Response:
        return Response(body, mimetype="application/json")

    @app.get("/api/v1/clusters/<cluster_id>")
    def cluster(cluster_id: str) -> Response:
        return Response(detail, mimetype="application/json")

    @app.get("/api/v1/events/<event_id>")
    def event(event_id: str) -> Response:
        return Response(event_detail, mimetype="application/json")

    return app


# -- the services in this process, and over HTTP ---------------------------------------------
def secret() -> str:
    """A fresh JWT secret for one benchmark."""
    import secrets

    return secrets.token_urlsafe(40)


def token(jwt_secret: str, scopes: str = "registry:read registry:write") -> str:
    """A bearer token with ``scopes`` (by default: may read and write the registry)."""
    from shared.auth import mint_token

    return mint_token(jwt_secret, "bench", scopes, ttl=3600)


def quiet_logs() -> None:
    """In this process, the services' logs as ``booster`` configures them, at WARNING:
    unconfigured, structlog would print every request line to stdout."""
    from shared.logging import configure_logging

    configure_logging("WARNING", json=True)


def service_runtime(name: str, url: str, jwt_secret: str) -> Any:
    """The service ``name`` on ``url`` (migrated first), in this process."""
    from booster.bootstrap import bootstrap
    from booster.platform import spec
    from shared.config import Settings
    from shared.migrations import upgrade

    upgrade(spec(name), url)
    settings = Settings(
        environment="test",
        jwt_secret=jwt_secret,
        database_urls={name: url},
        ratelimit_writes=None,  # as booster_env: no write limit on the bench's subject
    )
    return bootstrap(name, settings)


def registry_runtime(url: str, jwt_secret: str) -> Any:
    """The registry on ``url`` (migrated first), in this process."""
    return service_runtime("registry", url, jwt_secret)


class EventsApi:
    """A few calls to the events service, over HTTP, with ``token``."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            payload = json.dumps(body) if body is not None else None
            connection.request(method, path, body=payload, headers=self.headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def published_event(self, **fields: Any) -> str:
        """A new event, published: its id. ``fields`` go into ``POST /events`` over the
        defaults: a two-day business trip to Lyon, 30 days from now, no seat limit."""
        start = datetime.now(UTC) + timedelta(days=30)
        status, event = self.call(
            "POST",
            "/api/v1/events",
            {
                "kind": "business_trip",
                "title": "Business trip to Lyon",
                "format": "in_person",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(days=2)).isoformat(),
                "timezone": "Europe/Paris",
                "city": "Lyon",
                "country": "FR",
                **fields,
            },
        )
        assert status == 201, event
        status, event = self.call("POST", f"/api/v1/events/{event['id']}/publish")
        assert status == 200, event
        return str(event["id"])


def events_people(runtime: Any, count: int, name: str = "Racer") -> list[str]:
    """``count`` new people in the events service's read copy (as the registry's events
    put them there), through ``runtime`` (the events service in this process): their ids."""
    from booster.catalogue import platform_catalogue
    from services.events.handlers import keep_people

    ids = [str(uuid.uuid4()) for _ in range(count)]
    registered = [
        platform_catalogue().make_event(
            "registry.person.registered",
            subject=person_id,
            data={
                "id": person_id,
                "name": name,
                "email": f"{person_id}@example.org",
                "language": "fr",
                "role": "cluster_manager",
            },
        )
        for person_id in ids
    ]
    with runtime.uow.begin() as tx:
        keep_people(registered, tx)
    return ids


# -- processes -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def booster_env(**overrides: str) -> dict[str, str]:
    """The environment of a measured process: ours, minus inherited BOOSTER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOSTER_")}
    env.update(
        BOOSTER_ENV="test",
        BOOSTER_LOG_LEVEL="INFO",
        BOOSTER_LOG_JSON="true",
        # one bench subject writes far more than a person would (300/minute by default):
        # measure the writes, not the 429s
        BOOSTER_RATELIMIT_WRITES="off",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def gunicorn_command(
    factory: str,
    port: int,
    workers: int = GUNICORN_WORKERS,
    threads: int = 1,
    worker_class: str | None = None,
    module: str = "bench.apps",
) -> list[str]:
    """The same gunicorn settings for every app: sync workers on loopback (``threads``
    > 1: gthread workers, for loads that must be in flight together; ``worker_class``:
    e.g. uvicorn's, for an ASGI app)."""
    return [
        str(VENV_BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        *(["--worker-class", worker_class] if worker_class else []),
        "--bind",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "20",
        f"{module}:{factory}",
    ]


class Process:
    """A subprocess started from the project's root, its output in a temporary file;
    ``with`` waits for readiness (``/healthz`` on ``port`` if given) and ends it."""

    def __init__(
        self, command: Sequence[str], env: Mapping[str, str], port: int | None = None
    ) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.port = port
        self.popen: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False)

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Process:
        """Start the process without waiting for it (``with`` then waits): several start
        up at once."""
        if self.popen is None:
            self.popen = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        return self

    def __enter__(self) -> Process:
        self.start()
        try:
            if self.port is not None:
                self.wait_http("/healthz")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_http(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited early:\n{self.output()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base_url + path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"not ready after {timeout}s: {self.command}\n{self.output()[-3000:]}")

    def output(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM) without waiting; ``stop`` waits."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


def get(url: str, token: str | None = None) -> bytes:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


# -- load ------------------------------------------------------------------------------------
@dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def ok_per_second(self) -> float:
        """Requests/s that got a 2xx/3xx answer."""
        if not self.requests:
            return 0.0
        return self.requests_per_second * (self.requests - self.non_2xx) / self.requests

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
            "p50_ms": self.p50_ms,
        }


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and total and p50 and p99):
        raise RuntimeError(f"could not parse wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        requests=int(total.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=(
            dict(
                zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
            )
            if errors
            else {}
        ),
    )


def wrk(
    url: str,
    seconds: float,
    *,
    token: str | None = None,
    script: str | None = None,
    threads: int = 2,
    connections: int = 32,
) -> WrkResult:
    """Load ``url`` for ``seconds`` with wrk (``script``: a file in bench/wrk)."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if script:
        command += ["-s", str(WRK_SCRIPTS / script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def combine(results: Sequence[WrkResult]) -> WrkResult:
    """Slices of one load as one: requests over the time they took; the slices' median
    percentiles (wrk gives no raw latencies to merge)."""
    requests = sum(r.requests for r in results)
    seconds = sum(r.requests / r.requests_per_second for r in results if r.requests_per_second)
    errors: dict[str, int] = {}
    for r in results:
        for key, value in r.socket_errors.items():
            errors[key] = errors.get(key, 0) + value
    return WrkResult(
        requests_per_second=requests / seconds if seconds else 0.0,
        requests=requests,
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=errors,
    )


def interleave(loads: Sequence[Callable[[], WrkResult]], rounds: int) -> list[list[WrkResult]]:
    """Run each load once per round, in ABBA order, so that whatever else the machine
    does meanwhile weighs on every side alike; each load's slices."""
    slices: list[list[WrkResult]] = [[] for _ in loads]
    for round_ in range(rounds):
        order = range(len(loads)) if round_ % 2 == 0 else reversed(range(len(loads)))
        for index in order:
            slices[index].append(loads[index]())
    return slices


def round_ratios(ours: Sequence[WrkResult], base: Sequence[WrkResult]) -> list[float]:
    """Throughput ratio of each round (how much the figure wanders)."""
    return [
        round(a.ok_per_second / b.ok_per_second, 3) if b.ok_per_second else math.nan
        for a, b in zip(ours, base, strict=True)
    ]


# -- CPU -------------------------------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_role() -> dict[str, float]:
    """CPU seconds used so far by every process on the machine, summed by role: ``api``
    (gunicorn), ``postgres``, ``rabbitmq`` (beam.smp), ``bench`` (this process: a relay
    thread when one runs here) and ``other``. Differences between two calls show where
    the CPU of a load went (processes that ended in between, like wrk, are missed)."""
    totals = dict.fromkeys(("api", "postgres", "rabbitmq", "bench", "other"), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        name, fields_ = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1].split()
        seconds = (int(fields_[11]) + int(fields_[12])) / CLOCK_TICKS  # utime + stime
        if int(entry.name) == os.getpid():
            role = "bench"
        elif "gunicorn" in command:
            role = "api"
        elif name.startswith("postgres") or command.startswith("postgres"):
            role = "postgres"
        elif name == "beam.smp":
            role = "rabbitmq"
        else:
            role = "other"
        totals[role] += seconds
    return totals


def timed_cpu(call: Callable[[], WrkResult], into: dict[str, float]) -> Callable[[], WrkResult]:
    """``call``, adding the CPU seconds each role spent during it to ``into``."""

    def measured() -> WrkResult:
        before = cpu_by_role()
        result = call()
        after = cpu_by_role()
        for role, seconds in after.items():
            into[role] = into.get(role, 0.0) + seconds - before.get(role, 0.0)
        return result

    return measured


def cpu_ms_per_request(cpu: Mapping[str, float], load: WrkResult) -> dict[str, float]:
    """CPU milliseconds per successful request of ``load``, by role (see ``timed_cpu``)."""
    done = load.requests - load.non_2xx
    return {role: round(seconds * 1000 / done, 3) for role, seconds in cpu.items()} if done else {}


# -- memory ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rss:
    pid: int
    name: str
    rss_mb: float
    hwm_mb: float


def _status(pid: int) -> dict[str, str]:
    fields_: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields_[key] = value.strip()
    return fields_


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (scanning /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss(pid: int) -> Rss | None:
    try:
        status = _status(pid)
    except OSError:
        return None
    kb = lambda key: int(status.get(key, "0 kB").split()[0])  # noqa: E731
    return Rss(pid, status.get("Name", "?"), kb("VmRSS") / 1024, kb("VmHWM") / 1024)


def rss_tree(pid: int) -> tuple[Rss | None, list[Rss]]:
    """(the process, its children): VmRSS and VmHWM in MB."""
    kids = [r for r in (rss(child) for child in children(pid)) if r is not None]
    return rss(pid), kids
