"""The operator's commands as real processes: ``booster run``, ``serve`` and ``worker``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

from booster.platform import SERVICE_NAMES
from shared.config import BusSettings
from shared.testing import delete_queues
from tests.e2e.running import BOOSTER, SERVICE_PORTS
from tests.e2e.running import free_offset as _free_offset
from tests.e2e.running import get_json as _get
from tests.e2e.running import output as _output
from tests.e2e.running import process as _process
from tests.e2e.running import wait_http as _wait_http
from tests.e2e.running import wait_log as _wait_log


def test_booster_run_starts_every_service_on_embedded_defaults(tmp_path: Path) -> None:
    offset = _free_offset()
    env = {"BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_LOG_JSON": "false"}
    with _process(["run", "--port-offset", str(offset)], env, tmp_path / "run.log") as process:
        for service, port in SERVICE_PORTS.items():
            base = f"http://127.0.0.1:{port + offset}"
            _wait_http(f"{base}/healthz", process)
            # ready or not only: which check failed is for operators (tests/security)
            assert _get(f"{base}/readyz") == (200, {"status": "ready"})
            status, spec = _get(f"{base}/openapi.json")
            assert status == 200 and spec["info"]["title"] == f"Booster Track {service} API"
        _write_and_see_it_relayed(tmp_path, SERVICE_PORTS["registry"] + offset, env)
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    for service in SERVICE_PORTS:
        assert (tmp_path / f"{service}.db").exists()
    assert (tmp_path / "jwt_secret").exists()


def _write_and_see_it_relayed(var: Path, port: int, env: dict[str, str]) -> None:
    """A write through the API reaches the embedded bus: its outbox row gets sent."""
    token = subprocess.run(
        [BOOSTER, "token", "--sub", "e2e", "--scope", "registry:write"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/clusters",
        data=json.dumps({"name": "Cluster Marbre", "country": "TN", "kind": "cluster"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201
    deadline = time.monotonic() + 10
    with sqlite3.connect(var / "registry.db") as db:
        while time.monotonic() < deadline:
            total, sent = db.execute("SELECT count(*), count(sent_at) FROM outbox").fetchone()
            if total == sent == 1:
                return
            time.sleep(0.1)
    raise AssertionError(f"outbox rows: {total}, sent: {sent}")


def test_serve_and_worker_on_postgres_and_rabbitmq(
    tmp_path: Path, postgres_url: str, bus_settings: BusSettings
) -> None:
    port = _free_offset() + 8001
    admin = port + 1000  # /metrics on the operators' listener (BOOSTER_ADMIN_BIND)
    env = {
        "BOOSTER_VAR_DIR": str(tmp_path),
        "BOOSTER_REGISTRY_DATABASE_URL": postgres_url,
        "BOOSTER_BROKER_URL": bus_settings.broker_url,
        # the test's own exchange, hence its own queues (the worker declares every
        # subscribing service's queue before it publishes)
        "BOOSTER_EXCHANGE": bus_settings.exchange,
        "BOOSTER_WEB_CONCURRENCY": "2",
        "BOOSTER_ADMIN_BIND": f"127.0.0.1:{admin}",
    }
    migrate = subprocess.run(
        [BOOSTER, "db", "upgrade", "registry"],
        env={**os.environ, **env},
        capture_output=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stderr.decode()
    bind = f"127.0.0.1:{port}"
    with _process(["serve", "registry", "--bind", bind], env, tmp_path / "api.log") as api:
        _wait_http(f"http://127.0.0.1:{port}/healthz", api)
        for _ in range(10):
            assert _get(f"http://127.0.0.1:{port}/readyz")[0] == 200
        # two workers answer; /metrics adds both up (prometheus multiprocess mode)
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        served = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("booster_http_requests_total{") and 'route="/readyz"' in line
        ]
        assert sum(served) == 10
        status, problem = _get(f"http://127.0.0.1:{port}/api/v1/nothing-here")
        assert status == 404 and problem["status"] == 404
    try:
        with _process(["worker", "registry"], env, tmp_path / "worker.log") as worker:
            _wait_log(worker, "worker started")  # its SIGTERM handler is in place
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(20) == 0
            assert "worker stopped" in _output(worker)
    finally:
        for service in SERVICE_NAMES:
            delete_queues(service, bus_settings)


def test_worker_refuses_the_in_process_bus(tmp_path: Path) -> None:
    result = subprocess.run(
        [BOOSTER, "worker", "registry"],
        env={**os.environ, "BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_BROKER_URL": "memory://"},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert b"needs a real broker" in result.stderr


def test_invalid_configuration_names_the_variable(tmp_path: Path) -> None:
    result = subprocess.run(
        [BOOSTER, "db", "upgrade", "registry"],
        env={**os.environ, "BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_PREFETCH": "zero"},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert b"BOOSTER_PREFETCH" in result.stderr
