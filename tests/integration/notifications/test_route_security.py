"""Every ``/api/v1`` route of the notifications service checks the token and the scope
(both databases): operator routes need ``notifications:read`` / ``:write``; the ``/me``
routes a person's own token; the recipient routes either (a person sees only their own).
"""

from __future__ import annotations

import re

from booster.testing import ServiceHarness
from shared.auth import SCOPES_ATTRIBUTE

ID = "00000000-0000-0000-0000-000000000000"


def _routes(harness: ServiceHarness) -> list[tuple[str, str]]:
    found = []
    for rule in harness.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", ID, rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def _declared(harness: ServiceHarness, method: str, path: str) -> tuple[str, ...]:
    endpoint, _ = harness.app.url_map.bind("localhost").match(path, method=method)
    view = harness.app.view_functions[endpoint]
    return tuple(getattr(getattr(view.view_class, method.lower()), SCOPES_ATTRIBUTE))


def test_every_route_refuses_a_missing_or_bad_token(notifications: ServiceHarness) -> None:
    routes = _routes(notifications)
    assert len(routes) >= 17
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
            response = notifications.client.open(path, method=method, json={}, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.mimetype == "application/problem+json"


def test_every_route_needs_its_scope(notifications: ServiceHarness) -> None:
    others = "registry:read registry:write events:read events:write mentoring:read"
    for method, path in _routes(notifications):
        declared = _declared(notifications, method, path)
        wrong = "notifications:write" if method == "GET" else "notifications:read"
        scopes = others if wrong in declared else f"{wrong} {others}"
        response = notifications.client.open(
            path, method=method, json={}, headers=notifications.headers(scopes)
        )
        assert response.status_code == 403, (method, path, response.get_json())


def test_the_right_scope_gets_past_authorisation(notifications: ServiceHarness) -> None:
    for method, path in _routes(notifications):
        declared = _declared(notifications, method, path)
        for scope in ("admin", " ".join(declared)):
            response = notifications.client.open(
                path, method=method, json={}, headers=notifications.headers(scope, sub=ID)
            )
            assert response.status_code not in (401, 403), (method, path, scope)
            assert response.status_code < 500, (method, path, response.get_json())


def test_a_self_token_reaches_only_its_own_routes(notifications: ServiceHarness) -> None:
    own = notifications.headers("self", sub="someone")
    opened = 0
    for method, path in _routes(notifications):
        response = notifications.client.open(path, method=method, json={}, headers=own)
        if "self" in _declared(notifications, method, path):
            opened += 1
            assert response.status_code not in (401, 403), (method, path)
            assert response.status_code < 500, (method, path, response.get_json())
            if "/recipients/" in path:  # someone else's: as if it did not exist
                assert response.status_code == 404, (method, path)
        else:
            assert response.status_code == 403, (method, path, response.get_json())
    assert opened == 7
