"""/readyz reports the real database and broker: 200 when both answer, else 503."""

from __future__ import annotations

import socket
from pathlib import Path

from booster.bootstrap import bootstrap, create_app
from shared.auth import mint_token
from shared.config import BusSettings, Settings
from shared.db import Database
from tests.conftest import TEST_SECRET


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def _readyz(tmp_path: Path, broker_url: str, database_url: str) -> tuple[int, dict]:
    settings = Settings(
        environment="test",
        var_dir=tmp_path,
        jwt_secret=TEST_SECRET,
        bus=BusSettings(broker_url=broker_url),
        database_urls={"registry": database_url},
    )
    runtime = bootstrap("registry", settings, Database(database_url))
    try:
        # each check's result is shown to operators only (ops:read; shared.http.admin)
        operator = {"Authorization": f"Bearer {mint_token(TEST_SECRET, 'ops', 'ops:read')}"}
        response = create_app(runtime).test_client().get("/readyz", headers=operator)
        return response.status_code, response.get_json()
    finally:
        runtime.database.dispose()


def test_ready_with_the_real_services(tmp_path: Path, broker_url: str, postgres_url: str) -> None:
    status, body = _readyz(tmp_path, broker_url, postgres_url)
    assert status == 200
    assert body == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_not_ready_without_the_broker(tmp_path: Path, postgres_url: str) -> None:
    status, body = _readyz(
        tmp_path, f"amqp://guest:guest@127.0.0.1:{_closed_port()}//", postgres_url
    )
    assert status == 503
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unavailable")


def test_not_ready_without_the_database(tmp_path: Path, broker_url: str) -> None:
    database = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nowhere"
    status, body = _readyz(tmp_path, broker_url, database)
    assert status == 503
    assert body["status"] == 503 and body["title"] == "Service unavailable"
    assert body["checks"] == {"database": "unavailable: OperationalError", "broker": "ok"}
