"""The Procfile and ``make up``: every API and worker as a process of its own (honcho),
on the real RabbitMQ and PostgreSQL with an SMTP sink; Ctrl-C stops them all."""

from __future__ import annotations

import json
import os
import random
import signal
import smtplib
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from booster.platform import SERVICE_NAMES
from shared.config import BusSettings
from tests.conftest import TEST_SECRET
from tests.integration.conftest import eventually
from tests.platform.deploy import PORTS, ROOT, parse_booster, procfile, shell_argv

VENV = Path(sys.executable).parent.parent
MARKER = "UP_TEST_RUN"  # tags this test's processes (every child inherits it)


def test_a_process_per_api_and_worker_and_an_smtp_sink() -> None:
    entries = procfile()
    expected = {f"{s}-{role}" for s in SERVICE_NAMES for role in ("api", "worker")} | {"smtp"}
    assert set(entries) == expected
    for offset, host in ((0, None), (100, "0.0.0.0")):
        env = {"PORT_OFFSET": str(offset)} if offset else {}
        if host:
            env["BOOSTER_HOST"] = host
        for service in SERVICE_NAMES:
            api = shell_argv(entries[f"{service}-api"], env)
            bind = f"{host or '127.0.0.1'}:{PORTS[service] + offset}"
            assert api == ["booster", "serve", service, "--bind", bind]
            assert parse_booster(api[1:]).params["bind"] == bind
            worker = shell_argv(entries[f"{service}-worker"], env)
            assert worker == ["booster", "worker", service]
            parse_booster(worker[1:])
    smtp = shell_argv(entries["smtp"], {})
    assert smtp[:3] == ["python", "-m", "aiosmtpd"] and smtp[-2:] == ["-l", "127.0.0.1:1025"]
    assert shell_argv(entries["smtp"], {"SMTP_PORT": "2525"})[-1] == "127.0.0.1:2525"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _free_offset() -> int:
    for _ in range(100):
        offset = random.randrange(20000, 40000, 10)
        try:
            for port in PORTS.values():
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return offset
    raise AssertionError("no free ports")


def _tagged(run: str) -> list[int]:
    """The processes started by this run (their environment holds its tag)."""
    found = []
    tag = f"{MARKER}={run}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if tag in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def _lines(text: str, process: str) -> list[str]:
    """What ``process`` (a Procfile name) printed, from honcho's ``TIME NAME.N | LINE``."""
    found = []
    for line in text.splitlines():
        prefix, separator, rest = line.partition(" | ")
        if separator and prefix.split()[-1].split(".")[0] == process:
            found.append(rest)
    return found


def _logged(text: str, process: str, event: str) -> bool:
    """Whether ``process`` logged ``event`` (its JSON log lines)."""
    for line in _lines(text, process):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == event:
            return True
    return False


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


@pytest.fixture
def up_databases(postgres_admin_url: str) -> Iterator[dict[str, str]]:
    """Database URLs for make up, not created yet (make up creates them); dropped after."""
    admin = make_url(postgres_admin_url)
    run = uuid.uuid4().hex[:10]
    urls = {
        service: admin.set(database=f"booster_test_up_{run}_{service}").render_as_string(
            hide_password=False
        )
        for service in SERVICE_NAMES
    }
    yield urls
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for url in urls.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def test_make_up_runs_the_platform_and_ctrl_c_stops_every_process(
    tmp_path: Path, up_databases: dict[str, str], bus_settings: BusSettings
) -> None:
    assert (VENV / "bin" / "honcho").exists(), "the test extra installs honcho"
    run, offset, smtp_port = uuid.uuid4().hex, _free_offset(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOOSTER_", "MAKE"))}
    env.update(
        {
            "BOOSTER_BROKER_URL": bus_settings.broker_url,
            "BOOSTER_EXCHANGE": bus_settings.exchange,  # this test's own queues
            "BOOSTER_VAR_DIR": str(tmp_path / "var"),
            "BOOSTER_JWT_SECRET": TEST_SECRET,
            "BOOSTER_WEB_CONCURRENCY": "1",
            "BOOSTER_LOG_JSON": "true",
            "PORT_OFFSET": str(offset),
            "SMTP_PORT": str(smtp_port),
            MARKER: run,
        }
    )
    for service, url in up_databases.items():
        env[f"BOOSTER_{service.upper()}_DATABASE_URL"] = url
    log = tmp_path / "up.log"
    with log.open("wb") as sink:
        make = subprocess.Popen(
            ["make", "-s", f"VENV={VENV}", "-o", f"{VENV}/.installed", "up"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    output = lambda: log.read_text(errors="replace")  # noqa: E731
    try:
        api = {s: f"http://127.0.0.1:{PORTS[s] + offset}" for s in SERVICE_NAMES}

        def everything_up() -> bool:
            assert make.poll() is None, output()[-4000:]
            text = output()
            return all(_status(f"{url}/readyz") == 200 for url in api.values()) and all(
                _logged(text, f"{s}-worker", "worker started") for s in SERVICE_NAMES
            )

        eventually(everything_up, timeout=150)
        for url in api.values():
            assert _status(f"{url}/healthz") == 200
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as smtp:
            assert smtp.noop()[0] == 250
        # make up created every database itself (then migrated them: /readyz answered)
        for service in SERVICE_NAMES:
            assert f"{service}: created " in output()

        # a person registered through the registry's API gets the welcome email: the
        # workers carry the event over RabbitMQ, the sender reaches the SMTP sink
        token = subprocess.run(
            [str(VENV / "bin" / "booster"), "token", "--sub", "up-test", "--scope", "admin"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        email = f"amal.{run[:8]}@example.org"
        request = urllib.request.Request(
            f"{api['registry']}/api/v1/people",
            data=json.dumps({"name": "Amal Haddad", "email": email, "language": "en"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        eventually(lambda: f"To: {email}" in _lines(output(), "smtp"), timeout=60)

        started = _tagged(run)
        # make, honcho (and its helpers), 4 gunicorn masters with a worker each,
        # 4 workers, the SMTP sink
        assert len(started) >= 1 + 1 + 4 * 2 + 4 + 1, started

        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C at the terminal
        make.wait(90)
        eventually(lambda: not _tagged(run), timeout=15)
        text = output()
        assert "SIGINT received" in text
        assert "SIGKILL" not in text, "a process had to be killed"
        for service in SERVICE_NAMES:
            assert _logged(text, f"{service}-worker", "worker stopped"), service
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(30)
        for pid in _tagged(run):  # only this test's own processes
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
