"""Webhooks against a receiver on loopback that verifies every signature with the
``standardwebhooks`` library; the notifications worker consumes from the real RabbitMQ,
its sender posts (PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from booster.testing import ServiceHarness
from shared.config import BusSettings
from tests.integration.conftest import eventually
from tests.integration.notifications.conftest import (
    RW,
    Receiver,
    fast_sender_service,
    make,
    publish,
)


@pytest.fixture
def service(
    postgres_url: str, bus_settings: BusSettings, tmp_path: Path, run_loops: object
) -> Iterator[ServiceHarness]:
    with fast_sender_service(postgres_url, bus_settings, tmp_path, run_loops) as harness:
        yield harness


def _subscribe(service: ServiceHarness, url: str, types: list[str]) -> dict:
    response = service.client.post(
        "/api/v1/webhooks", json={"url": url, "types": types}, headers=service.headers(RW)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _programme(programme_id: str) -> object:
    return make(
        "mentoring.programme.opened",
        programme_id,
        id=programme_id,
        name="Cluster Mentoring Reloaded",
        edition="2026",
        organiser="ACCIÓ",
        starts_on="2026-01-01",
        ends_on="2026-10-31",
        competencies=["funding"],
        status="open",
    )


def _verified(secret: str, request: object) -> dict:
    return Webhook(secret).verify(request.body, request.headers)  # type: ignore[attr-defined]


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(
    service: ServiceHarness, receiver: Receiver, bus_settings: BusSettings
) -> None:
    receiver.script["/flaky"] = [500, 503, 204]
    hook = _subscribe(service, f"{receiver.url}/flaky", ["mentoring.programme.*"])
    _subscribe(service, f"{receiver.url}/other", ["events.#"])  # does not match
    event_ = _programme("prog-1")
    publish(bus_settings, event_, event_)  # delivered twice by the broker: one delivery
    eventually(lambda: len(receiver.at("/flaky")) >= 3)
    eventually(lambda: _deliveries(service, hook["id"])[0]["status"] == "delivered")
    requests = receiver.at("/flaky")
    assert len(requests) == 3
    for request in requests:
        payload = _verified(hook["secret"], request)
        assert payload["id"] == event_.id and payload["type"] == "mentoring.programme.opened"
        assert request.headers["webhook-id"] == event_.id
        assert request.headers["Content-Type"] == "application/cloudevents+json"
    assert receiver.at("/other") == []
    [delivery] = _deliveries(service, hook["id"])
    detail = service.client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}", headers=service.headers(RW)
    ).get_json()
    assert [(a["number"], a["status_code"], a["ok"]) for a in detail["log"]] == [
        (1, 500, False),
        (2, 503, False),
        (3, 204, True),
    ]
    assert detail["log"][0]["detail"] == "500 ok"
    # redelivery by hand: the same event, signed again
    retried = service.client.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry",
        headers=service.headers(RW),
    )
    assert retried.status_code == 202
    eventually(lambda: len(receiver.at("/flaky")) == 4)


def _deliveries(service: ServiceHarness, hook_id: str) -> list[dict]:
    response = service.client.get(
        f"/api/v1/webhooks/{hook_id}/deliveries", headers=service.headers(RW)
    )
    assert response.status_code == 200
    return list(response.get_json()["items"])


def test_a_receiver_that_always_fails_has_its_subscription_disabled(
    service: ServiceHarness, receiver: Receiver, bus_settings: BusSettings
) -> None:
    receiver.script["/down"] = [500]
    hook = _subscribe(service, f"{receiver.url}/down", ["mentoring.#"])
    publish(bus_settings, _programme("prog-1"), _programme("prog-2"))

    def disabled() -> bool:
        shown = service.client.get(f"/api/v1/webhooks/{hook['id']}", headers=service.headers(RW))
        return shown.get_json()["active"] is False

    eventually(disabled)
    # two deliveries go out side by side: the attempt in flight beside the third may land
    assert 3 <= len(receiver.at("/down")) <= 4
    [announced] = [e for e in service.events() if e.type == "notifications.webhook.disabled"]
    assert announced.data["id"] == hook["id"] and announced.data["failures"] == 3
    # nothing more is sent while it is disabled, and a retry by hand is refused
    sent = len(receiver.at("/down"))
    delivery = _deliveries(service, hook["id"])[0]
    refused = service.client.post(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry",
        headers=service.headers(RW),
    )
    assert refused.status_code == 409
    # events published meanwhile are not queued for it (it chose to stop listening)
    publish(bus_settings, _programme("prog-3"))
    eventually(lambda: _handled(service, 3))
    assert len(_deliveries(service, hook["id"])) == 2
    assert len(receiver.at("/down")) == sent


def _handled(service: ServiceHarness, count: int) -> bool:
    """Whether the consumer has handled ``count`` events (its inbox)."""
    from sqlalchemy import func, select

    table = service.runtime.spec.inbox_table
    with service.runtime.database.session() as session:
        return bool(session.scalar(select(func.count()).select_from(table)) >= count)


def test_a_private_address_is_refused_when_subscribing(service: ServiceHarness) -> None:
    for url in ("http://192.168.1.20/hook", "http://169.254.169.254/", "http://localhost/h"):
        response = service.client.post(
            "/api/v1/webhooks", json={"url": url, "types": ["#"]}, headers=service.headers(RW)
        )
        assert response.status_code == 422, url
        assert "url" in json.dumps(response.get_json()["errors"])


def test_after_a_rotation_each_secret_verifies_the_signature(
    service: ServiceHarness, receiver: Receiver, bus_settings: BusSettings
) -> None:
    hook = _subscribe(service, f"{receiver.url}/rotated", ["mentoring.#"])
    rotated = service.client.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret", headers=service.headers(RW)
    ).get_json()
    publish(bus_settings, _programme("prog-1"))
    eventually(lambda: receiver.at("/rotated"))
    [request] = receiver.at("/rotated")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert _verified(hook["secret"], request)["id"]
    assert _verified(rotated["secret"], request)["id"]
    with pytest.raises(WebhookVerificationError):
        _verified("whsec_" + "A" * 44, request)
