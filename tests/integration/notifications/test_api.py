"""The notifications API on both databases: the inbox, preferences, webhooks, previews."""

from __future__ import annotations

from booster.testing import ServiceHarness
from tests.integration.notifications.conftest import (
    READ,
    RW,
    WRITE,
    handle,
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
    handle(
        notifications, person_registered("p1"), person_registered("p2"), pair_matched("p1", "p2")
    )
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
    german = client.post(
        "/api/v1/templates/mentoring.pair.matched/de/preview",
        json={"name": "<b>Karim</b>"},
        headers=rw,
    )
    assert german.get_json()["language"] == "en"
    assert "&lt;b&gt;Karim" in german.get_json()["html"]
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
