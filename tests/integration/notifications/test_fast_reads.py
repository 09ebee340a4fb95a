"""The read path (``shared.reads``) serves the bytes the schemas' dump would, route by route.

Each test reads a route through the app (the fast path: JSON from the selected columns)
and compares its body, byte for byte, with the old path on the same rows: the use case's
domain objects dumped by the route's marshmallow schema and encoded by Flask's
``jsonify``. The data has what can go wrong: non-ASCII text (Arabic templates), read and
unread, both channels, deliveries in every state, nulls, microsecond times. Both
databases (the ``database_url`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from marshmallow import Schema
from sqlalchemy import update

from booster.testing import ServiceHarness
from services.notifications import api
from services.notifications import operations as ops
from services.notifications import schemas as s
from services.notifications.adapters.tables import deliveries, subscriptions
from services.notifications.domain.model import Channel, WebhookStatus
from services.notifications.domain.ports import DeliveryQuery, NotificationQuery
from shared.http.pagination import decode_cursor, encode_cursor, page
from tests.integration.notifications.conftest import (
    READ,
    RW,
    handle,
    make,
    pair_matched,
    person_registered,
)


@pytest.fixture
def data(notifications: ServiceHarness) -> dict[str, Any]:
    """Three people's notifications (some read), two webhooks and their deliveries."""
    client, rw = notifications.client, notifications.headers(RW)
    hooks = []
    for types, description in ((["#"], "Tout « ça » 😀"), (["mentoring.#"], None)):
        response = client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "types": types, "description": description},
            headers=rw,
        )
        assert response.status_code == 201, response.get_json()
        hooks.append(response.get_json()["id"])
    handle(notifications, person_registered("p1"), person_registered("p2", "ar"))
    handle(notifications, pair_matched("p1", "p2"), pair_matched("p2", "p1", "pair-2"))
    handle(notifications, person_registered("p3", "fr", name="Zoë « Z »"))
    handle(notifications, make("registry.person.removed", "p3", id="p3"))
    inbox = client.get("/api/v1/me/notifications", headers=notifications.headers("self", sub="p1"))
    first = inbox.get_json()["items"][-1]["id"]
    read = client.post(
        f"/api/v1/me/notifications/{first}/read", headers=notifications.headers("self", sub="p1")
    )
    assert read.status_code == 200
    at = datetime(2026, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)
    with notifications.runtime.database.engine.begin() as connection:
        connection.execute(
            update(subscriptions)
            .where(subscriptions.c.id == hooks[1])
            .values(active=False, failures=5, failing_since=at, disabled_at=at)
        )
        delivered = connection.execute(
            update(deliveries)
            .where(deliveries.c.subscription_id == hooks[0], deliveries.c.event_type.like("m%"))
            .values(
                status=WebhookStatus.DELIVERED.value,
                attempts=2,
                last_status_code=204,
                last_error="Réponse « 500 »",
                delivered_at=at + timedelta(seconds=1),
            )
        )
        assert delivered.rowcount > 0
    return {"hooks": hooks}


def old_bytes(harness: ServiceHarness, schema: Schema, value: Any) -> bytes:
    """What the route answered before the read path: the schema's dump, ``jsonify``."""
    with harness.app.app_context():
        return harness.app.json.response(schema.dump(value)).get_data()


def get(harness: ServiceHarness, path: str, scope: str = READ, sub: str = "tester") -> Any:
    response = harness.client.get(path, headers=harness.headers(scope, sub=sub))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response


def _after(values: list[Any] | None) -> tuple[datetime, str] | None:
    return None if values is None else (datetime.fromisoformat(values[0]), values[1])


def _key(item: Any) -> list[Any]:
    return [item.created_at.isoformat(), item.id]


def every_page(
    harness: ServiceHarness,
    path: str,
    schema: Schema,
    old: Callable[[int, str | None], dict[str, Any]],
    scope: str = READ,
    sub: str = "tester",
    limit: int = 2,
) -> int:
    """Follow ``path``'s cursors; every page equals the old path's bytes; the items seen."""
    cursor: str | None = None
    seen = 0
    while True:
        separator = "&" if "?" in path else "?"
        query = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        fast = get(harness, query, scope, sub).get_data()
        assert fast == old_bytes(harness, schema, old(limit, cursor)), query
        body = harness.client.get(query, headers=harness.headers(scope, sub=sub)).get_json()
        seen += len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def old_inbox(
    harness: ServiceHarness, person_id: str, channel: Channel | None, unread: bool
) -> Callable[[int, str | None], dict[str, Any]]:
    def old(limit: int, cursor: str | None) -> dict[str, Any]:
        query = NotificationQuery(person_id, channel, unread_only=unread)
        after = _after(decode_cursor(cursor, (str, str)))
        items, count = ops.list_notifications(harness.runtime.uow, query, limit + 1, after)
        views = [api._view(n) for n in items]
        key = lambda v: [v["created_at"].isoformat(), v["id"]]  # noqa: E731
        return {**page(views, limit, key), "unread": count}

    return old


def test_inboxes(notifications: ServiceHarness, data: dict[str, Any]) -> None:
    harness = notifications
    for person in ("p1", "p2"):
        for query, unread in (("", False), ("?unread=true", True)):
            seen = every_page(
                harness,
                f"/api/v1/me/notifications{query}",
                s.NotificationPage(),
                old_inbox(harness, person, Channel.IN_APP, unread),
                "self",
                person,
            )
            assert seen > 0
        for query, channel, unread in (
            ("", None, False),
            ("?channel=email", Channel.EMAIL, False),
            ("?channel=in_app&unread=true", Channel.IN_APP, True),
            ("?unread=true", None, True),
        ):
            path = f"/api/v1/recipients/{person}/notifications{query}"
            old = old_inbox(harness, person, channel, unread)
            every_page(harness, path, s.NotificationPage(), old, limit=3)
            every_page(harness, path, s.NotificationPage(), old, "self", person, limit=3)
    body = get(harness, "/api/v1/recipients/p1/notifications?limit=200").get_json()
    assert {item["channel"] for item in body["items"]} == {"email", "in_app"}
    assert [item["read"] for item in body["items"]].count(True) == 1
    assert body["unread"] == 2
    arabic = get(harness, "/api/v1/me/notifications", "self", "p2").get_data()
    assert b"\\u06" in arabic  # Arabic text, escaped as jsonify escapes it


def test_inboxes_refuse_who_is_not_there(
    notifications: ServiceHarness, data: dict[str, Any]
) -> None:
    client = notifications.client
    for path, headers in (
        ("/api/v1/me/notifications", notifications.headers("self", sub="p3")),  # removed
        ("/api/v1/me/notifications", notifications.headers("self", sub="nobody")),
        ("/api/v1/recipients/p3/notifications", notifications.headers(READ)),
        ("/api/v1/recipients/p2/notifications", notifications.headers("self", sub="p1")),
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
    forged = encode_cursor(["2026-01-01T00:00:00", "x"])
    response = client.get(
        f"/api/v1/me/notifications?cursor={forged}",
        headers=notifications.headers("self", sub="p1"),
    )
    assert response.status_code == 422


def test_webhook_list_and_detail(notifications: ServiceHarness, data: dict[str, Any]) -> None:
    uow = notifications.runtime.uow

    def old(limit: int, cursor: str | None) -> dict[str, Any]:
        after = _after(decode_cursor(cursor, (str, str)))
        return page(ops.list_subscriptions(uow, limit + 1, after), limit, _key)

    assert every_page(notifications, "/api/v1/webhooks", s.SubscriptionPage(), old, limit=1) == 2
    for hook in data["hooks"]:
        response = get(notifications, f"/api/v1/webhooks/{hook}")
        stored = ops.get_subscription(uow, hook)
        assert response.get_data() == old_bytes(notifications, s.SubscriptionSchema(), stored)
        assert response.headers["ETag"] == f'"{stored.id}.{stored.version}"'
        assert "secret" not in response.get_json()
    missing = notifications.client.get("/api/v1/webhooks/nope", headers=notifications.headers(READ))
    assert missing.status_code == 404
    assert missing.get_json()["detail"] == "No webhook subscription 'nope'."


def old_deliveries(
    harness: ServiceHarness, query: DeliveryQuery
) -> Callable[[int, str | None], dict[str, Any]]:
    def old(limit: int, cursor: str | None) -> dict[str, Any]:
        after = _after(decode_cursor(cursor, (str, str)))
        return page(ops.list_deliveries(harness.runtime.uow, query, limit + 1, after), limit, _key)

    return old


def test_delivery_list(notifications: ServiceHarness, data: dict[str, Any]) -> None:
    for hook in data["hooks"]:
        for query, status in (
            ("", None),
            ("?status=delivered", WebhookStatus.DELIVERED),
            ("?status=pending", WebhookStatus.PENDING),
        ):
            every_page(
                notifications,
                f"/api/v1/webhooks/{hook}/deliveries{query}",
                s.DeliveryPage(),
                old_deliveries(notifications, DeliveryQuery(hook, status)),
            )
    items = get(notifications, f"/api/v1/webhooks/{data['hooks'][0]}/deliveries?limit=200")
    statuses = {item["status"] for item in items.get_json()["items"]}
    assert statuses == {"delivered", "pending"}
    missing = notifications.client.get(
        "/api/v1/webhooks/nope/deliveries", headers=notifications.headers(READ)
    )
    assert missing.status_code == 404


def test_reads_see_the_latest_write(notifications: ServiceHarness, data: dict[str, Any]) -> None:
    """Read-your-writes: each read runs on the latest committed data."""
    own = notifications.headers("self", sub="p2")
    before = get(notifications, "/api/v1/me/notifications", "self", "p2").get_json()
    assert before["unread"] > 0
    marked = notifications.client.post("/api/v1/me/notifications/read-all", headers=own)
    assert marked.status_code == 200
    after = get(notifications, "/api/v1/me/notifications", "self", "p2").get_json()
    assert after["unread"] == 0 and all(item["read"] for item in after["items"])
    hook = data["hooks"][0]
    etag = get(notifications, f"/api/v1/webhooks/{hook}").headers["ETag"]
    changed = notifications.client.patch(
        f"/api/v1/webhooks/{hook}",
        json={"description": "Changé"},
        headers={**notifications.headers(RW), "If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    now = get(notifications, f"/api/v1/webhooks/{hook}")
    assert now.get_json()["description"] == "Changé" and now.headers["ETag"] != etag
