"""Every ``/api/v1`` route of every service checks the token and the scope (both databases)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from booster.platform import SERVICE_NAMES
from booster.testing import ServiceHarness, service_harness
from tests.conftest import TEST_SECRET

ID = "00000000-0000-0000-0000-000000000000"
SERVICES_WITH_ROUTES = {"registry": 20, "events": 17, "mentoring": 42}
"""Notifications is covered by tests/integration/notifications/test_route_security.py:
some of its routes are open to operators and to a person's own token alike."""
"""Each service with an API, and how many routes (method, path) it has at least."""


@pytest.fixture(params=sorted(SERVICES_WITH_ROUTES))
def harness(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[ServiceHarness]:
    with service_harness(request.param, database_url, tmp_path, TEST_SECRET) as harness:
        yield harness


def _routes(harness: ServiceHarness) -> list[tuple[str, str]]:
    found = []
    for rule in harness.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(
            r"<(?:\w+:)?(\w+)>", lambda m: "MA" if m.group(1) == "code" else ID, rule.rule
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def _declared(harness: ServiceHarness, method: str, path: str) -> tuple[str, ...]:
    """The scopes the view behind (method, path) declares."""
    from shared.auth import SCOPES_ATTRIBUTE

    adapter = harness.app.url_map.bind("localhost")
    endpoint, _ = adapter.match(path, method=method)
    view = harness.app.view_functions[endpoint]
    target = getattr(view.view_class, method.lower())
    return getattr(target, SCOPES_ATTRIBUTE)


def _scopes(harness: ServiceHarness) -> tuple[str, str]:
    return f"{harness.runtime.name}:read", f"{harness.runtime.name}:write"


def test_there_are_routes_to_check(harness: ServiceHarness) -> None:
    assert len(_routes(harness)) >= SERVICES_WITH_ROUTES[harness.runtime.name]


def test_every_route_refuses_a_missing_or_bad_token(harness: ServiceHarness) -> None:
    for method, path in _routes(harness):
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
            response = harness.client.open(path, method=method, json={}, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.mimetype == "application/problem+json"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_route_needs_its_scope(harness: ServiceHarness) -> None:
    read, write = _scopes(harness)
    others = " ".join(
        f"{name}:{access}"
        for name in SERVICE_NAMES
        if name != harness.runtime.name
        for access in ("read", "write")
    )
    for method, path in _routes(harness):
        wrong = write if method == "GET" else read
        response = harness.client.open(
            path, method=method, json={}, headers=harness.headers(f"{wrong} {others}")
        )
        assert response.status_code == 403, (method, path, response.get_json())


def test_the_right_scope_gets_past_authorisation(harness: ServiceHarness) -> None:
    for scope in ("admin", " ".join(_scopes(harness))):
        for method, path in _routes(harness):
            # a person's own routes (``/me``, declaring only ``self``) take a person's token
            own = _declared(harness, method, path) == ("self",) and scope != "admin"
            response = harness.client.open(
                path, method=method, json={}, headers=harness.headers("self" if own else scope)
            )
            assert response.status_code not in (401, 403), (method, path, response.get_json())
            assert response.status_code < 500, (method, path, response.get_json())


def test_a_self_token_reaches_only_the_routes_open_to_it(harness: ServiceHarness) -> None:
    """A person's own token is refused (403) on every operator route; on the routes open
    to it, authorisation lets it through (what it then sees is each service's rule)."""
    own = harness.headers("self", sub="someone")
    opened = 0
    for method, path in _routes(harness):
        response = harness.client.open(path, method=method, json={}, headers=own)
        if "self" in _declared(harness, method, path):
            opened += 1
            assert response.status_code != 401, (method, path)
            assert response.status_code < 500, (method, path, response.get_json())
        else:
            assert response.status_code == 403, (method, path, response.get_json())
    assert opened >= 1


INFRASTRUCTURE = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"}
"""Routes outside /api/v1 every service has: they carry no programme data."""


def test_the_published_portfolio_is_mentorings_one_data_route_open_without_a_token(
    database_url: str, tmp_path: Path
) -> None:
    """Intentionally open: ``GET /portfolios/{programme_id}`` serves a portfolio an
    operator published (no token), and answers 404 for one that is not (or an unknown
    id), as if it did not exist."""
    with service_harness("mentoring", database_url, tmp_path, TEST_SECRET) as harness:
        outside = {
            rule.rule
            for rule in harness.app.url_map.iter_rules()
            if not rule.rule.startswith("/api/")
            and rule.rule not in INFRASTRUCTURE
            and not rule.rule.startswith(("/static/", "/docs/"))
        }
        assert outside == {"/portfolios/<string:programme_id>"}
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
            response = harness.client.get(f"/portfolios/{ID}", headers=headers)
            assert response.status_code == 404
            assert response.mimetype == "application/problem+json"
            assert "WWW-Authenticate" not in response.headers


def test_the_calendar_feed_is_the_events_services_one_data_route_open_without_a_token(
    database_url: str, tmp_path: Path
) -> None:
    """Intentionally open: ``GET /feeds/calendar.ics?key=...`` serves a person's calendar
    to calendar apps, which cannot send a bearer token; its long random key (from ``POST
    /api/v1/me/calendar-feed``) is the credential. An unknown or revoked key is 404, a
    token changes nothing, and ``/me`` routes are refused to operator tokens."""
    with service_harness("events", database_url, tmp_path, TEST_SECRET) as harness:
        outside = {
            rule.rule
            for rule in harness.app.url_map.iter_rules()
            if not rule.rule.startswith("/api/")
            and rule.rule not in INFRASTRUCTURE
            and not rule.rule.startswith(("/static/", "/docs/"))
        }
        assert outside == {"/feeds/calendar.ics"}
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
            response = harness.client.get("/feeds/calendar.ics?key=" + "k" * 43, headers=headers)
            assert response.status_code == 404
            assert response.mimetype == "application/problem+json"
            assert "WWW-Authenticate" not in response.headers
        operator = harness.headers("events:read events:write")
        for method, path in (
            ("GET", "/api/v1/me/registrations"),
            ("GET", "/api/v1/me/calendar.ics"),
            ("POST", "/api/v1/me/calendar-feed"),
            ("DELETE", "/api/v1/me/calendar-feed"),
        ):
            assert harness.client.open(path, method=method, headers=operator).status_code == 403
