"""Operational endpoints: ``/metrics`` and the detail of ``/readyz`` are for operators
only (a token with ``ops:read``, or the admin listener ``BOOSTER_ADMIN_BIND``); the
admin listener serves nothing else. Security headers on every response; ``no-store``
on personal data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from booster.bootstrap import bootstrap, create_app
from booster.testing import ServiceHarness, service_harness
from shared.config import ConfigError, Settings
from tests.conftest import TEST_SECRET
from tests.security.helpers import Log, assert_refused

ADMIN_PORT = 9101
ADMIN = f"http://localhost:{ADMIN_PORT}"
SERVICES = ("registry", "mentoring", "events", "notifications")


@pytest.fixture
def registry_with_admin(tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness(
        "registry", f"sqlite:///{tmp_path / 'r.db'}", tmp_path, TEST_SECRET
    ) as harness:
        runtime = harness.runtime
        settings = runtime.settings.with_overrides(admin_bind=f"0.0.0.0:{ADMIN_PORT}")
        admin_runtime = bootstrap("registry", settings, runtime.database)
        yield ServiceHarness(admin_runtime, create_app(admin_runtime), TEST_SECRET)


def test_metrics_need_the_ops_scope(registry: ServiceHarness, log: Log) -> None:
    client = registry.client
    assert_refused(client.get("/metrics"), log, 401)
    assert_refused(client.get("/metrics", headers={"Authorization": "Bearer nope"}), log, 401)
    assert_refused(client.get("/metrics", headers=registry.headers("registry:read")), log, 403)
    for scope in ("ops:read", "admin"):
        response = client.get("/metrics", headers=registry.headers(scope))
        assert response.status_code == 200
        assert "booster_http_requests_total" in response.get_data(as_text=True)


def test_readyz_shows_its_checks_to_operators_only(registry: ServiceHarness) -> None:
    client = registry.client
    assert client.get("/readyz").get_json() == {"status": "ready"}
    assert client.get("/readyz", headers={"Authorization": "Bearer nope"}).get_json() == {
        "status": "ready"
    }
    assert client.get("/readyz", headers=registry.headers("registry:read")).get_json() == {
        "status": "ready"
    }
    detailed = client.get("/readyz", headers=registry.headers("ops:read")).get_json()
    assert detailed["status"] == "ready" and set(detailed["checks"]) == {"database", "broker"}


def test_the_admin_listener_serves_operators_without_a_token(
    registry_with_admin: ServiceHarness, log: Log
) -> None:
    client = registry_with_admin.client
    metrics = client.get("/metrics", base_url=ADMIN)
    assert metrics.status_code == 200 and "booster_http" in metrics.get_data(as_text=True)
    assert "checks" in client.get("/readyz", base_url=ADMIN).get_json()
    assert client.get("/healthz", base_url=ADMIN).status_code == 200
    # nothing else on it, the API included, even with a token
    headers = registry_with_admin.headers("admin")
    assert_refused(client.get("/api/v1/clusters", base_url=ADMIN, headers=headers), log, 404)
    assert_refused(client.get("/openapi.json", base_url=ADMIN), log, 404)
    # the public listener still needs the scope; a Host header naming the admin port is
    # not the admin listener
    assert_refused(client.get("/metrics"), log, 401)
    spoofed = client.get("/metrics", headers={"Host": f"localhost:{ADMIN_PORT}"})
    assert_refused(spoofed, log, 401)
    assert client.get("/api/v1/clusters", headers=headers).status_code == 200


@pytest.mark.parametrize("value", ["9000", "host:", "host:0", "host:70000", "host:²"])
def test_a_bad_admin_bind_is_refused(tmp_path: Path, value: str) -> None:
    env = {"BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_ADMIN_BIND": value}
    with pytest.raises(ConfigError, match="BOOSTER_ADMIN_BIND"):
        Settings.from_env(env, services=SERVICES)


# --- headers ----------------------------------------------------------------------------

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def test_security_headers_on_every_response(registry: ServiceHarness) -> None:
    client = registry.client
    admin = registry.headers("admin")
    responses = {
        "healthz": client.get("/healthz"),
        "readyz": client.get("/readyz"),
        "openapi": client.get("/openapi.json"),
        "docs": client.get("/docs"),
        "404": client.get("/nowhere"),
        "401": client.get("/api/v1/clusters"),
        "405": client.open("/healthz", method="BREW"),
        "list": client.get("/api/v1/clusters", headers=admin),
        "422": client.post("/api/v1/clusters", json={}, headers=admin),
    }
    for name, response in responses.items():
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy, name
        if response.mimetype == "text/html":
            assert "default-src 'self'" in policy
        else:
            assert policy.startswith("default-src 'none'"), name
        assert "Server" not in response.headers  # the servers set it: test_servers.py


def test_personal_data_is_never_stored_by_caches(registry: ServiceHarness) -> None:
    admin = registry.headers("admin")
    person = registry.client.post(
        "/api/v1/people",
        json={"name": "Salma Idrissi", "email": "salma@example.org", "language": "fr"},
        headers=admin,
    )
    assert person.status_code == 201
    for response in (
        person,
        registry.client.get(f"/api/v1/people/{person.get_json()['id']}", headers=admin),
        registry.client.get("/api/v1/people", headers=admin),
        registry.client.get("/api/v1/people"),  # a refusal too
        registry.client.get("/metrics", headers=registry.headers("ops:read")),
        registry.client.get("/readyz", headers=registry.headers("ops:read")),
    ):
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("service", "path", "scope"),
    [
        ("events", "/api/v1/me/registrations", "self"),
        ("notifications", "/api/v1/me/notifications", "self"),
        ("notifications", "/api/v1/me/preferences", "self"),
    ],
)
def test_a_persons_own_data_is_never_stored_by_caches(
    tmp_path: Path, service: str, path: str, scope: str
) -> None:
    with service_harness(service, f"sqlite:///{tmp_path / 's.db'}", tmp_path, TEST_SECRET) as h:
        response = h.client.get(path, headers=h.headers(scope, sub="person-1"))
        assert response.status_code < 500
        assert response.headers["Cache-Control"] == "no-store"
