"""Rate limits: a 429 problem with ``Retry-After`` after the configured
number of failed authentications per client, and after the configured number of writes
per subject; counters in memory and in Redis (127.0.0.1:6379), shared by processes."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.test import TestResponse

from shared.auth import mint_token, requires
from shared.config import ConfigError, Settings
from shared.http.app import create_service_app
from tests.conftest import TEST_SECRET
from tests.security.helpers import Log, assert_refused

REDIS_URL = "redis://127.0.0.1:6379/0"
SERVICES = ("registry", "mentoring", "events", "notifications")


def blueprint() -> Blueprint:
    bp = Blueprint("things", __name__, url_prefix="/api/v1")

    @bp.route("/things")
    class Things(MethodView):
        @requires("demo:read")
        @bp.response(200)
        def get(self) -> dict[str, Any]:
            return {"ok": True}

        @requires("demo:write")
        @bp.response(204)
        def post(self) -> None:
            return None

    return bp


def app_with(tmp_path: Path, **limits: Any) -> Flask:
    settings = Settings(environment="test", var_dir=tmp_path, jwt_secret=TEST_SECRET, **limits)
    return create_service_app("demo", settings, blueprints=[blueprint()])


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def a_client_address() -> str:
    """An address of this test's own (Redis counters outlive a test by their window)."""
    raw = uuid.uuid4().bytes
    return f"127.{raw[0]}.{raw[1]}.{raw[2] or 1}"


def bad_token(client: FlaskClient) -> TestResponse:
    return client.get("/api/v1/things", headers={"Authorization": "Bearer forged.token.here"})


def good(scope: str = "demo:read", sub: str = "p1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(TEST_SECRET, sub, scope)}"}


def assert_429(response: TestResponse, log: Log) -> int:
    body = assert_refused(response, log, 429)
    assert body["title"] == "Too many requests"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    return retry_after


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    with socket.create_connection(("127.0.0.1", 6379), timeout=2):
        pass  # Redis runs on this machine (and in compose); no Redis is a failure
    return REDIS_URL


def test_failed_authentications_end_in_429(tmp_path: Path, log: Log, storage: str) -> None:
    app = app_with(tmp_path, ratelimit_storage_url=storage, ratelimit_auth_failures="3/minute")
    attacker = client_at(app, a_client_address())
    for _ in range(3):
        assert_refused(bad_token(attacker), log, 401)
    assert_429(bad_token(attacker), log)
    assert_429(attacker.get("/api/v1/things"), log)  # no token: still a failed attempt
    # the client is held off the API whatever it sends now, for the window
    assert_429(attacker.get("/api/v1/things", headers=good()), log)
    # the metrics need a token, so they are held off too; health is not
    assert_429(attacker.get("/metrics"), log)
    assert attacker.get("/healthz").status_code == 200
    # another client is not affected
    other = client_at(app, a_client_address())
    assert other.get("/api/v1/things", headers=good()).status_code == 200
    assert_refused(bad_token(other), log, 401)


def test_successful_requests_do_not_count(tmp_path: Path, storage: str) -> None:
    app = app_with(tmp_path, ratelimit_storage_url=storage, ratelimit_auth_failures="2/minute")
    client = client_at(app, a_client_address())
    for _ in range(10):
        assert client.get("/api/v1/things", headers=good()).status_code == 200
    # a valid token without the scope (403) is not a failed authentication either
    for _ in range(5):
        assert client.post("/api/v1/things", headers=good("demo:read")).status_code == 403
    assert bad_token(client).status_code == 401


def test_processes_share_the_redis_counters(tmp_path: Path, log: Log) -> None:
    """Two apps (as two gunicorn workers, or two services) count failures together."""
    first, second = (
        app_with(
            tmp_path / name, ratelimit_storage_url=REDIS_URL, ratelimit_auth_failures="4/minute"
        )
        for name in ("first", "second")
    )
    address = a_client_address()
    for app in (first, second, first, second):
        assert_refused(bad_token(client_at(app, address)), log, 401)
    assert_429(bad_token(client_at(second, address)), log)
    assert_429(bad_token(client_at(first, address)), log)


def test_without_redis_the_limits_go_on_in_memory(tmp_path: Path, log: Log) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = app_with(
        tmp_path,
        ratelimit_storage_url=f"redis://127.0.0.1:{closed}/0",
        ratelimit_auth_failures="2/minute",
    )
    client = client_at(app, a_client_address())
    assert client.get("/api/v1/things", headers=good()).status_code == 200
    for _ in range(2):
        assert_refused(bad_token(client), log, 401)
    log.since_mark()  # the fallback's one warning
    assert_429(bad_token(client), log)


def test_writes_per_subject_end_in_429(tmp_path: Path, log: Log, storage: str) -> None:
    app = app_with(tmp_path, ratelimit_storage_url=storage, ratelimit_writes="3/minute")
    client = client_at(app, a_client_address())
    subject = f"writer-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        assert client.post("/api/v1/things", headers=good("demo:write", subject)).status_code == 204
    assert_429(client.post("/api/v1/things", headers=good("demo:write", subject)), log)
    # reads are not writes; another subject has its own budget, from the same address
    assert client.get("/api/v1/things", headers=good("demo:read", subject)).status_code == 200
    other = f"writer-{uuid.uuid4().hex[:8]}"
    assert client.post("/api/v1/things", headers=good("demo:write", other)).status_code == 204


def test_the_limits_are_configured_by_environment(tmp_path: Path) -> None:
    env = {"BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_JWT_SECRET": TEST_SECRET}
    settings = Settings.from_env(env, services=SERVICES)
    assert settings.ratelimit_storage_url == "memory://"
    assert settings.ratelimit_auth_failures == "10/minute"
    assert settings.ratelimit_writes == "300/minute"
    configured = Settings.from_env(
        {
            **env,
            "BOOSTER_RATELIMIT_STORAGE_URL": REDIS_URL,
            "BOOSTER_RATELIMIT_AUTH_FAILURES": "5 per hour",
            "BOOSTER_RATELIMIT_WRITES": "off",
        },
        services=SERVICES,
    )
    assert configured.ratelimit_storage_url == REDIS_URL
    assert configured.ratelimit_auth_failures == "5 per hour"
    assert configured.ratelimit_writes is None
    for name, value in [
        ("BOOSTER_RATELIMIT_AUTH_FAILURES", "lots"),
        ("BOOSTER_RATELIMIT_WRITES", "10/fortnight"),
        ("BOOSTER_RATELIMIT_STORAGE_URL", "memcached://127.0.0.1"),
    ]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({**env, name: value}, services=SERVICES)
