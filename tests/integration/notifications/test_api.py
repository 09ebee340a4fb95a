"""The notifications API on both databases: the inbox, preferences, webhooks, previews."""

from __future__ import annotations

import json

from sqlalchemy import Table, func, select

from booster.testing import ServiceHarness
from services.notifications.adapters import tables
from services.notifications.samples import SAMPLES
from tests.integration.notifications.conftest import (
    READ,
    RW,
    WRITE,
    handle,
    make,
    pair_matched,
    person_registered,
)


def _inbox(harness: ServiceHarness, person_id: str, query: str = "") -> dict:
    response = harness.client.get(
        f"/api/v1/me/notifications{query}", headers=harness.headers("self", sub=person_id)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_person_reads_and_marks_their_own_inbox(notifications: ServiceHarness) -> None:
    handle(notifications, person_registered("p1"), person_registered("p2", "ar"))
    handle(notifications, pair_matched("p1", "p2"))
    inbox = _inbox(notifications, "p1")
    assert inbox["unread"] == 2 and len(inbox["items"]) == 2
    newest = inbox["items"][0]
    assert set(newest) >= {"id", "event_type", "subject", "read", "created_at"}
    assert newest["event_type"] == "mentoring.pair.matched" and not newest["read"]
    own = notifications.headers("self", sub="p1")
    response = notifications.client.post(
        f"/api/v1/me/notifications/{newest['id']}/read", headers=own
    )
    assert response.status_code == 200 and response.get_json()["read"] is True
    assert [n["event_type"] for n in _inbox(notifications, "p1", "?unread=true")["items"]] == [
        "registry.person.registered"
    ]
    page = _inbox(notifications, "p1", "?limit=1")
    assert page["next_cursor"]
    rest = _inbox(notifications, "p1", f"?limit=1&cursor={page['next_cursor']}")
    assert rest["items"][0]["id"] != page["items"][0]["id"] and rest["next_cursor"] is None
    response = notifications.client.post("/api/v1/me/notifications/read-all", headers=own)
    assert response.get_json() == {"marked": 1, "unread": 0}
    assert _inbox(notifications, "p2")["unread"] == 2


def test_nobody_reads_or_marks_another_persons_inbox(notifications: ServiceHarness) -> None:
    handle(notifications, person_registered("p1"), person_registered("p2"))
    theirs = _inbox(notifications, "p2")["items"][0]["id"]
    own = notifications.headers("self", sub="p1")
    client = notifications.client
    assert client.post(f"/api/v1/me/notifications/{theirs}/read", headers=own).status_code == 404
    assert client.get("/api/v1/recipients/p2/notifications", headers=own).status_code == 404
    assert client.get("/api/v1/recipients/p2/preferences", headers=own).status_code == 404
    assert client.get("/api/v1/recipients/p1/notifications", headers=own).status_code == 200
    assert client.get("/api/v1/webhooks", headers=own).status_code == 403
    # an operator sees both channels, with the emails' delivery status
    response = client.get(
        "/api/v1/recipients/p2/notifications", headers=notifications.headers(READ)
    )
    assert {(n["channel"], n["status"]) for n in response.get_json()["items"]} == {
        ("email", "pending"),
        ("in_app", "sent"),
    }
    # an operator token has no inbox of its own
    assert (
        client.get("/api/v1/me/notifications", headers=notifications.headers(RW)).status_code == 403
    )


def test_preferences_are_a_persons_own_and_guarded_by_their_version(
    notifications: ServiceHarness,
) -> None:
    handle(notifications, person_registered("p1"), person_registered("p2"))
    own = notifications.headers("self", sub="p1")
    client = notifications.client
    response = client.get("/api/v1/me/preferences", headers=own)
    assert response.get_json()["email"] == {"registry": True, "mentoring": True, "events": True}
    tag = response.headers["ETag"]
    changed = client.put(
        "/api/v1/me/preferences",
        json={"email": {"mentoring": False}},
        headers={**own, "If-Match": tag},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["email"]["mentoring"] is False
    assert changed.get_json()["in_app"]["mentoring"] is True
    stale = client.put(
        "/api/v1/me/preferences", json={"in_app": {}}, headers={**own, "If-Match": tag}
    )
    assert stale.status_code == 412
    bad = client.put("/api/v1/me/preferences", json={"sms": {"events": False}}, headers=own)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    # the opt-out is honoured: a pair match reaches the inbox only
    handle(notifications, pair_matched("p1", "p2"))
    channels = [
        n["channel"]
        for n in client.get(
            "/api/v1/recipients/p1/notifications", headers=notifications.headers(READ)
        ).get_json()["items"]
        if n["event_type"] == "mentoring.pair.matched"
    ]
    assert channels == ["in_app"]


def test_webhook_subscriptions_are_managed_and_their_secret_shown_once(
    notifications: ServiceHarness,
) -> None:
    client, rw = notifications.client, notifications.headers(RW)
    made = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "types": ["mentoring.#"], "description": "CRM"},
        headers=rw,
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["secret"].startswith("whsec_") and body["active"] is True
    hook = f"/api/v1/webhooks/{body['id']}"
    shown = client.get(hook, headers=rw)
    assert "secret" not in shown.get_json()
    patched = client.patch(
        hook, json={"types": ["events.#"]}, headers={**rw, "If-Match": shown.headers["ETag"]}
    )
    assert patched.status_code == 200 and patched.get_json()["types"] == ["events.#"]
    stale = client.patch(
        hook, json={"description": "x"}, headers={**rw, "If-Match": shown.headers["ETag"]}
    )
    assert stale.status_code == 412
    rotated = client.post(f"{hook}/rotate-secret", headers=rw)
    assert rotated.status_code == 200
    assert rotated.get_json()["secret"] != body["secret"]
    assert rotated.get_json()["previous_secret_expires_at"]
    listed = client.get("/api/v1/webhooks", headers=notifications.headers(READ)).get_json()
    assert [w["id"] for w in listed["items"]] == [body["id"]]
    assert client.get(f"{hook}/deliveries", headers=rw).get_json() == {
        "items": [],
        "next_cursor": None,
    }
    assert client.delete(hook, headers=rw).status_code == 204
    assert client.get(hook, headers=rw).status_code == 404


def test_unsafe_or_invalid_webhooks_are_refused(notifications: ServiceHarness) -> None:
    client, rw = notifications.client, notifications.headers(WRITE)
    for url in (
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://localhost:8080/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
    ):
        response = client.post("/api/v1/webhooks", json={"url": url, "types": ["#"]}, headers=rw)
        assert response.status_code == 422, (url, response.get_json())
        assert response.mimetype == "application/problem+json"
    for types in ([], ["Mentoring.#"], ["a..b"]):
        response = client.post(
            "/api/v1/webhooks", json={"url": "http://127.0.0.1/h", "types": types}, headers=rw
        )
        assert response.status_code == 422, types
    unknown = client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1/h", "types": ["#"], "x": 1}, headers=rw
    )
    assert unknown.status_code == 422


def test_a_template_preview_renders_samples_and_given_data(notifications: ServiceHarness) -> None:
    client, rw = notifications.client, notifications.headers(WRITE)
    arabic = client.post(
        "/api/v1/templates/events.registration.confirmed/ar/preview", json={}, headers=rw
    )
    assert arabic.status_code == 200, arabic.get_json()
    assert arabic.get_json()["language"] == "ar" and 'dir="rtl"' in arabic.get_json()["html"]
    english = client.post(
        "/api/v1/templates/mentoring.pair.matched/en/preview",
        json={"name": "<b>Karim</b>"},
        headers=rw,
    )
    assert english.get_json()["language"] == "en"
    assert "&lt;b&gt;Karim" in english.get_json()["html"]
    for unknown in ("de", "EN", "x" * 5000):
        refused = client.post(
            f"/api/v1/templates/mentoring.pair.matched/{unknown}/preview", json={}, headers=rw
        )
        assert refused.status_code == 422, unknown
        assert refused.mimetype == "application/problem+json"
        assert "#/language" in json.dumps(refused.get_json()["errors"])
    bad = client.post(
        "/api/v1/templates/mentoring.pair.matched/en/preview",
        json={"data": {"id": 1}},
        headers=rw,
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    missing = client.post(
        "/api/v1/templates/registry.cluster.removed/en/preview", json={}, headers=rw
    )
    assert missing.status_code == 404


def test_preference_switches_take_only_json_booleans(notifications: ServiceHarness) -> None:
    handle(notifications, person_registered("p1"))
    own = notifications.headers("self", sub="p1")
    client = notifications.client
    for value in ("no", "false", "true", 0, 1, None, "", [], {}):
        response = client.put(
            "/api/v1/me/preferences", json={"email": {"events": value}}, headers=own
        )
        assert response.status_code == 422, value
        assert response.mimetype == "application/problem+json"
    preferences = client.get("/api/v1/me/preferences", headers=own).get_json()
    assert preferences["email"]["events"] is True and preferences["version"] == 0
    assert (
        client.put(
            "/api/v1/me/preferences", json={"email": {"events": False}}, headers=own
        ).get_json()["email"]["events"]
        is False
    )


def test_webhook_active_takes_only_a_json_boolean(notifications: ServiceHarness) -> None:
    client, rw = notifications.client, notifications.headers(RW)
    made = client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "types": ["#"]}, headers=rw
    )
    assert made.status_code == 201, made.get_json()
    hook_id = made.get_json()["id"]
    for value in ("yes", "true", 1, 0, None):
        response = client.patch(f"/api/v1/webhooks/{hook_id}", json={"active": value}, headers=rw)
        assert response.status_code == 422, value
    assert client.get(f"/api/v1/webhooks/{hook_id}", headers=rw).get_json()["version"] == 1


def test_a_write_that_changes_nothing_keeps_the_version(notifications: ServiceHarness) -> None:
    handle(notifications, person_registered("p1"))
    own = notifications.headers("self", sub="p1")
    client = notifications.client
    first = client.get("/api/v1/me/preferences", headers=own)
    for body in ({}, {"email": {}}, {"email": {"events": True}}):
        same = client.put("/api/v1/me/preferences", json=body, headers=own)
        assert same.status_code == 200, same.get_json()
        assert same.get_json()["version"] == 0 and same.headers["ETag"] == first.headers["ETag"]
    changed = client.put(
        "/api/v1/me/preferences",
        json={"in_app": {"events": False}},
        headers={**own, "If-Match": first.headers["ETag"]},
    )
    assert changed.get_json()["version"] == 1
    tag = changed.headers["ETag"]
    for body in ({}, {"in_app": {"events": False}}, {"email": {"registry": True}}):
        same = client.put("/api/v1/me/preferences", json=body, headers=own)
        assert same.get_json()["version"] == 1 and same.headers["ETag"] == tag
    # another client's If-Match is still good
    other = client.put(
        "/api/v1/me/preferences",
        json={"in_app": {"events": True}},
        headers={**own, "If-Match": tag},
    )
    assert other.status_code == 200 and other.get_json()["version"] == 2
    with notifications.runtime.database.session() as session:
        assert session.scalar(select(func.count()).select_from(tables.outbox)) == 0


def _count(harness: ServiceHarness, table: Table) -> int:
    with harness.runtime.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_an_unknown_person_has_no_inbox_and_no_preferences(notifications: ServiceHarness) -> None:
    handle(notifications, person_registered("p1"), person_registered("gone"))
    handle(notifications, make("registry.person.removed", "gone", id="gone"))
    client = notifications.client
    for person_id in ("ghost-person", "x" * 5000, "gone"):
        own = notifications.headers("self", sub=person_id)
        calls = (
            client.get("/api/v1/me/preferences", headers=own),
            client.put("/api/v1/me/preferences", json={"email": {"events": False}}, headers=own),
            client.put("/api/v1/me/preferences", json={}, headers=own),
            client.get("/api/v1/me/notifications", headers=own),
            client.post("/api/v1/me/notifications/read-all", headers=own),
            client.post("/api/v1/me/notifications/some-id/read", headers=own),
            client.get(f"/api/v1/recipients/{person_id}/notifications", headers=own),
            client.get(f"/api/v1/recipients/{person_id}/preferences", headers=own),
        )
        for response in calls:
            assert response.status_code == 404, (person_id[:20], response.get_json())
            assert response.mimetype == "application/problem+json"
            assert "No recipient" in response.get_json()["detail"]
    assert _count(notifications, tables.preferences) == 0


def test_an_operator_asking_for_an_unknown_recipient_gets_404(
    notifications: ServiceHarness,
) -> None:
    handle(notifications, person_registered("p1"))
    client, operator = notifications.client, notifications.headers(READ)
    for path in ("notifications", "preferences"):
        missing = client.get(f"/api/v1/recipients/nobody/{path}", headers=operator)
        assert missing.status_code == 404 and "No recipient" in missing.get_json()["detail"]
        assert client.get(f"/api/v1/recipients/p1/{path}", headers=operator).status_code == 200


def test_port_zero_is_refused_like_an_impossible_port(notifications: ServiceHarness) -> None:
    client, rw = notifications.client, notifications.headers(RW)
    for url in ("https://93.184.215.14:0/", "https://93.184.215.14:99999/", "http://127.0.0.1:0/"):
        response = client.post("/api/v1/webhooks", json={"url": url, "types": ["#"]}, headers=rw)
        assert response.status_code == 422, url
        assert "#/url" in json.dumps(response.get_json()["errors"])
    made = client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "types": ["#"]}, headers=rw
    ).get_json()
    moved = client.patch(
        f"/api/v1/webhooks/{made['id']}", json={"url": "http://127.0.0.1:0/h"}, headers=rw
    )
    assert moved.status_code == 422


def test_previews_in_french_and_arabic_carry_no_english_reasons_or_titles(
    notifications: ServiceHarness,
) -> None:
    client, rw = notifications.client, notifications.headers(WRITE)
    reasons = ["shared language: fr", "competency fit: offers 1 of 2 wanted competencies: funding"]
    pair = {**SAMPLES["mentoring.pair.matched"], "reasons": reasons, "score": 0.5}
    session = {**SAMPLES["mentoring.session.scheduled"], "title": "Bilateral session"}
    for language, words in (("fr", ("français", "50")), ("ar", ("الفرنسية", "50"))):
        matched = client.post(
            f"/api/v1/templates/mentoring.pair.matched/{language}/preview",
            json={"data": pair},
            headers=rw,
        )
        assert matched.status_code == 200, matched.get_json()
        text = matched.get_json()["text"]
        assert all(word in text for word in words), text
        assert "shared language" not in text and "competency fit" not in text
        scheduled = client.post(
            f"/api/v1/templates/mentoring.session.scheduled/{language}/preview",
            json={"data": session},
            headers=rw,
        ).get_json()
        assert "Bilateral session" not in scheduled["subject"] + scheduled["text"]
