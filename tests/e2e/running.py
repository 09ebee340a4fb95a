"""The platform as an operator starts it, for end-to-end tests: real OS processes.

- :func:`embedded`: ``booster run`` (one process: SQLite under a temporary folder, the
  in-process ``memory://`` bus), on free ports.
- :func:`separate_processes`: ``booster db upgrade all``, then ``booster serve`` (gunicorn)
  and ``booster worker`` for every service, on PostgreSQL databases of the test's own and
  the real RabbitMQ on an exchange of the test's own (so its queues are its own too).

Each yields a :class:`Platform`: the services' base URLs and a token minter. Every
process is stopped with SIGTERM at the end (killed if it lingers); its output is kept in
a log file under the test's temporary folder, shown when something fails.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from booster.platform import SERVICE_NAMES, all_specs, spec
from shared.auth import mint_token
from shared.config import BusSettings
from shared.migrations import upgrade
from shared.testing import fresh_postgres_database
from tests.conftest import TEST_SECRET

SERVICE_PORTS = {spec.name: spec.port for spec in all_specs()}
BOOSTER = str(Path(sys.executable).with_name("booster"))


def free_offset() -> int:
    """A port offset at which all four service ports are free right now."""
    for _ in range(100):
        offset = random.randrange(20000, 40000, 10)
        try:
            for port in SERVICE_PORTS.values():
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return offset
    raise AssertionError("no free ports")


def get_json(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def output(process: subprocess.Popen[bytes]) -> str:
    """The end of a process's log (for failure messages)."""
    return Path(process.log).read_text(errors="replace")[-4000:]  # type: ignore[attr-defined]


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Until ``url`` answers (any status); fail if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited: {output(process)}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout}s: {output(process)}")


LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
"""gunicorn's line naming the port it bound."""


def wait_log(
    process: subprocess.Popen[bytes], text: str | re.Pattern[str], timeout: float = 60.0
) -> re.Match[str]:
    """Until ``text`` (a string or a pattern) is in the process's log; fail if it exits
    first. The match."""
    pattern = re.compile(re.escape(text)) if isinstance(text, str) else text
    deadline = time.monotonic() + timeout
    while True:
        found = pattern.search(Path(process.log).read_text(errors="replace"))  # type: ignore[attr-defined]
        if found:
            return found
        if process.poll() is not None:
            raise AssertionError(f"process exited: {output(process)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern.pattern!r} in {timeout}s: {output(process)}")
        time.sleep(0.1)


@contextmanager
def process(
    args: list[str],
    env: Mapping[str, str],
    log: Path,
    *,
    inherit: Mapping[str, str] | None = None,
    **popen: Any,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``booster ARGS`` with ``env`` over ``inherit`` (default: this process's
    environment), its output in ``log``; SIGTERM (then kill) at the end."""
    with log.open("wb") as sink:
        started = subprocess.Popen(
            [BOOSTER, *args],
            env={**(os.environ if inherit is None else inherit), **env},
            stdout=popen.pop("stdout", sink),
            stderr=popen.pop("stderr", subprocess.STDOUT),
            **popen,
        )
    started.log = log  # type: ignore[attr-defined]
    try:
        yield started
    finally:
        stop(started)


def stop(*processes: subprocess.Popen[bytes], timeout: float = 60) -> list[int]:
    """SIGTERM to each (at once, so they stop side by side), wait, kill any that
    lingers; their exit codes."""
    for started in processes:
        if started.poll() is None:
            started.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for started in processes:
        try:
            started.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            started.kill()
            started.wait()
    return [started.returncode for started in processes]


@dataclass
class Platform:
    """A running platform: each service's base URL; tokens signed with its secret."""

    mode: str
    urls: dict[str, str]
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bus: BusSettings | None = None
    """The real broker's settings (separate processes); None for ``memory://``."""

    def token(self, scope: str, sub: str = "e2e") -> str:
        return mint_token(TEST_SECRET, sub, scope)

    def headers(self, scope: str = "admin", sub: str = "e2e") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scope, sub)}"}

    def alive(self) -> None:
        for started in self.processes:
            assert started.poll() is None, f"a process exited: {output(started)}"


def base_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """What every process of a test platform runs with."""
    return {
        "BOOSTER_VAR_DIR": str(var_dir),
        "BOOSTER_JWT_SECRET": TEST_SECRET,
        "BOOSTER_LOG_JSON": "true",
        **extra,
    }


@contextmanager
def embedded(var_dir: Path, **extra: str) -> Iterator[Platform]:
    """``booster run`` on embedded defaults, every service answering."""
    offset = free_offset()
    env = base_env(var_dir, **extra)
    urls = {name: f"http://127.0.0.1:{port + offset}" for name, port in SERVICE_PORTS.items()}
    with process(["run", "--port-offset", str(offset)], env, var_dir / "run.log") as run:
        for url in urls.values():
            wait_http(f"{url}/healthz", run)
        yield Platform("embedded", urls, env, [run])
        assert stop(run) == [0], output(run)


@contextmanager
def separate_processes(
    var_dir: Path, admin_url: str, bus: BusSettings, **extra: str
) -> Iterator[Platform]:
    """Every service's gunicorn API and worker as OS processes of their own, on
    PostgreSQL databases made for the test and ``bus`` (its exchange and queues)."""
    with ExitStack() as stack:
        databases = {
            f"BOOSTER_{name.upper()}_DATABASE_URL": stack.enter_context(
                fresh_postgres_database(admin_url)
            )
            for name in SERVICE_NAMES
        }
        env = base_env(
            var_dir,
            **databases,
            BOOSTER_BROKER_URL=bus.broker_url,
            BOOSTER_EXCHANGE=bus.exchange,
            BOOSTER_RETRY_DELAYS=",".join(str(d) for d in bus.retry_delays),
            BOOSTER_MAX_ATTEMPTS=str(bus.max_attempts),
            BOOSTER_WEB_CONCURRENCY="1",
            **extra,
        )
        for name in SERVICE_NAMES:  # `booster db upgrade` does the same (test_processes)
            upgrade(spec(name), databases[f"BOOSTER_{name.upper()}_DATABASE_URL"])
        started: dict[str, tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]] = {}
        for name in SERVICE_NAMES:
            worker = stack.enter_context(
                process(["worker", name], env, var_dir / f"{name}-worker.log")
            )
            # port 0: the system picks a free one (no race with other tests for it)
            api = stack.enter_context(
                process(["serve", name, "--bind", "127.0.0.1:0"], env, var_dir / f"{name}-api.log")
            )
            started[name] = worker, api
        urls = {}
        for name, (worker, api) in started.items():
            port = wait_log(api, LISTENING)[1]
            urls[name] = f"http://127.0.0.1:{port}"
            wait_http(f"{urls[name]}/readyz", api)
            wait_log(worker, "worker started")
        processes = [p for pair in started.values() for p in pair]
        platform = Platform("processes", urls, env, processes, bus)
        yield platform
        platform.alive()
        codes = stop(*processes)
        assert codes == [0] * len(processes), [
            output(p) for p, c in zip(processes, codes, strict=True) if c
        ]
