"""Every registry route checks the token and the scope (on both databases)."""

from __future__ import annotations

import re

import pytest

from shared.testing import ServiceHarness
from tests.integration.registry.conftest import READ, WRITE

ID = "00000000-0000-0000-0000-000000000000"


def _routes(registry: ServiceHarness) -> list[tuple[str, str]]:
    found = []
    for rule in registry.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(
            r"<(?:\w+:)?(\w+)>", lambda m: "MA" if m.group(1) == "code" else ID, rule.rule
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def test_there_are_routes_to_check(registry: ServiceHarness) -> None:
    assert len(_routes(registry)) >= 20


def test_every_route_refuses_a_missing_or_bad_token(registry: ServiceHarness) -> None:
    for method, path in _routes(registry):
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
            response = registry.client.open(path, method=method, json={}, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.mimetype == "application/problem+json"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_route_needs_its_scope(registry: ServiceHarness) -> None:
    for method, path in _routes(registry):
        wrong = WRITE if method == "GET" else READ
        response = registry.client.open(
            path, method=method, json={}, headers=registry.headers(f"{wrong} events:write")
        )
        assert response.status_code == 403, (method, path, response.get_json())


@pytest.mark.parametrize("scope", ["admin", "registry:read registry:write"])
def test_the_right_scope_gets_past_authorisation(registry: ServiceHarness, scope: str) -> None:
    for method, path in _routes(registry):
        response = registry.client.open(
            path, method=method, json={}, headers=registry.headers(scope)
        )
        assert response.status_code not in (401, 403), (method, path, response.get_json())
        assert response.status_code < 500, (method, path, response.get_json())


def test_a_self_token_reads_only_its_own_person(registry: ServiceHarness) -> None:
    from tests.integration.registry.conftest import new_person

    me = new_person(registry)
    other = new_person(registry, email="someone.else@example.org", name="Someone Else")
    client = registry.client
    mine = client.get(f"/api/v1/people/{me['id']}", headers=registry.headers("self", sub=me["id"]))
    assert mine.status_code == 200 and mine.get_json()["email"] == "amina@example.org"
    theirs = client.get(
        f"/api/v1/people/{other['id']}", headers=registry.headers("self", sub=me["id"])
    )
    assert theirs.status_code == 403
    listing = client.get("/api/v1/people", headers=registry.headers("self", sub=me["id"]))
    assert listing.status_code == 403
