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
SERVICES_WITH_ROUTES = {"registry": 20, "events": 9, "mentoring": 38}
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
            response = harness.client.open(
                path, method=method, json={}, headers=harness.headers(scope)
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
