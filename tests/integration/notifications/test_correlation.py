"""An operator follows one piece of work from the event that caused it to the email or
the webhook delivery: the sender's events (``notifications.notification.sent`` /
``.failed``, ``notifications.webhook.disabled``) carry the ``correlationid`` of the
consumed event that staged them, though the sender runs later, outside it. The worker
consumes from the real RabbitMQ and its sender mails an SMTP server and posts to a
receiver on loopback (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from booster.testing import ServiceHarness
from shared import context
from shared.config import BusSettings
from shared.events import CloudEvent
from tests.integration.conftest import eventually
from tests.integration.notifications.conftest import (
    RW,
    Mailbox,
    Receiver,
    fast_sender_service,
    make,
    person_registered,
    publish,
)


@pytest.fixture
def service(
    postgres_url: str,
    bus_settings: BusSettings,
    tmp_path: Path,
    run_loops: object,
    mailbox: tuple[Mailbox, str],
) -> Iterator[ServiceHarness]:
    with fast_sender_service(
        postgres_url, bus_settings, tmp_path, run_loops, smtp_url=mailbox[1]
    ) as harness:
        yield harness


def _caused(correlation_id: str, event_: CloudEvent) -> CloudEvent:
    """``event_`` as its publisher would have made it while handling ``correlation_id``."""
    with context.correlated(correlation_id):
        return make(event_.type, event_.subject, **event_.data)


def _trace(event_: CloudEvent) -> str:
    assert event_.traceparent is not None
    return event_.traceparent.split("-")[1]


def _of(service: ServiceHarness, *types: str) -> list[CloudEvent]:
    return [e for e in service.events() if e.type in types]


def test_a_sent_and_a_failed_email_carry_the_correlation_of_their_registration(
    service: ServiceHarness, mailbox: tuple[Mailbox, str], bus_settings: BusSettings
) -> None:
    box, _ = mailbox
    box.refuse_next = ["550 no such user"]  # whichever welcome goes first fails for good
    causes = {
        person_id: _caused(f"corr-{person_id}", person_registered(person_id))
        for person_id in ("p1", "p2")
    }
    publish(bus_settings, *causes.values())
    kinds = ("notifications.notification.sent", "notifications.notification.failed")
    eventually(lambda: len(_of(service, *kinds)) == 2)
    settled = _of(service, *kinds)
    assert sorted(e.type for e in settled) == sorted(kinds)
    for event_ in settled:
        cause = causes[event_.data["person_id"]]
        assert event_.data["channel"] == "email"
        assert event_.correlationid == cause.correlationid == f"corr-{cause.subject}"
        assert _trace(event_) == _trace(cause)  # one trace, from registry to the email


def test_a_webhook_disabled_carries_the_correlation_of_the_event_it_failed_to_deliver(
    service: ServiceHarness, receiver: Receiver, bus_settings: BusSettings
) -> None:
    receiver.script["/down"] = [500]
    response = service.client.post(
        "/api/v1/webhooks",
        json={"url": f"{receiver.url}/down", "types": ["mentoring.#"]},
        headers=service.headers(RW),
    )
    assert response.status_code == 201
    cause = _caused(
        "corr-programme",
        make(
            "mentoring.programme.opened",
            "prog-1",
            id="prog-1",
            name="Cluster Mentoring Reloaded",
            edition="2026",
            organiser="ACCIÓ",
            starts_on="2026-01-01",
            ends_on="2026-10-31",
            competencies=["funding"],
            status="open",
        ),
    )
    publish(bus_settings, cause)
    eventually(lambda: _of(service, "notifications.webhook.disabled"))
    [disabled] = _of(service, "notifications.webhook.disabled")
    assert disabled.data["id"] == response.get_json()["id"]
    assert disabled.correlationid == "corr-programme"
    assert _trace(disabled) == _trace(cause)
