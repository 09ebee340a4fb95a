"""Registry and mentoring → events over the real RabbitMQ and PostgreSQL (flows 1, 3, 4).

A person registered through the registry's API reaches the events service's read copy
through the registry's outbox relay and the events service's consumer; the person can
then register for a trip. When the registry removes them, their seat goes to the first
on the waitlist, and a subscriber of ``events.registration.promoted`` hears of it.
A joint meeting scheduled in mentoring (its event published on the exchange, as its
relay would) becomes an online event with every participant registered.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from booster.catalogue import platform_catalogue
from booster.testing import ServiceHarness
from services.events.operations import MEETINGS
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.config import BusSettings
from tests.integration.conftest import eventually, running_platform
from tests.integration.events.conftest import new_event, register, registrations


@pytest.fixture
def platform(
    postgres_admin_url: str, bus_settings: BusSettings, tmp_path: Path
) -> Iterator[dict[str, ServiceHarness]]:
    """The registry and the events service, each with its database and worker."""
    with running_platform(("registry", "events"), postgres_admin_url, bus_settings, tmp_path) as p:
        yield p


def _known(events: ServiceHarness, person_id: str) -> bool:
    with events.runtime.uow.read() as tx:
        return tx.people.get(person_id) is not None


def _person(registry: ServiceHarness, name: str, email: str) -> dict:
    response = registry.client.post(
        "/api/v1/people",
        json={"name": name, "email": email, "language": "ar"},
        headers=registry.headers("registry:write"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_people_flow_from_the_registry_to_event_registrations(
    platform: dict[str, ServiceHarness], bus_settings: BusSettings
) -> None:
    registry, events = platform["registry"], platform["events"]
    trip = new_event(events, capacity=1)
    leaving = _person(registry, "Karim Haddad", "karim@example.org")
    waiting = _person(registry, "Salma Idrissi", "salma@example.org")
    eventually(lambda: register(events, trip["id"], leaving["id"]).status_code == 201)
    eventually(lambda: register(events, trip["id"], waiting["id"]).status_code == 201)
    assert [r["status"] for r in registrations(events, trip["id"])] == ["confirmed", "waitlisted"]

    exchange = Exchange(bus_settings.exchange, type="topic", durable=True)
    with Connection(bus_settings.broker_url) as connection:
        listener = Queue("", exchange, routing_key="events.registration.promoted", exclusive=True)(
            connection.channel()
        )
        listener.declare()
        removed = registry.client.delete(
            f"/api/v1/people/{leaving['id']}", headers=registry.headers("registry:write")
        )
        assert removed.status_code == 204
        eventually(lambda: registrations(events, trip["id"])[1]["status"] == "confirmed")
        message = None
        deadline = time.monotonic() + 15
        while message is None and time.monotonic() < deadline:
            message = listener.get(no_ack=True)
            time.sleep(0.05)
    assert message is not None, "no events.registration.promoted on the exchange"
    payload = json.loads(message.body)
    assert payload["type"] == "events.registration.promoted"
    assert payload["data"]["person_id"] == waiting["id"]
    assert payload["data"]["event"]["title"] == "Business trip to Lyon"
    first = registrations(events, trip["id"])[0]
    assert first["status"] == "cancelled"
    assert first["cancel_reason"] == "The person was removed from the registry."


def test_a_scheduled_meeting_is_hosted_with_every_participant_registered(
    platform: dict[str, ServiceHarness], bus_settings: BusSettings
) -> None:
    registry, events = platform["registry"], platform["events"]
    mentor = _person(registry, "Nadia Mansour", "nadia@example.org")
    mentee = _person(registry, "Youssef Amrani", "youssef@example.org")
    # mentoring learns of people from the same events, so its meeting follows them; the
    # events service would otherwise retry the meeting until they arrive
    eventually(lambda: _known(events, mentor["id"]) and _known(events, mentee["id"]))
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    meeting = platform_catalogue().make_event(
        "mentoring.meeting.scheduled",
        subject="meeting-1",
        data={
            "id": "meeting-1",
            "programme_id": "cmr-2026",
            "title": "Joint meeting: export plans",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "timezone": "Africa/Casablanca",
            "online_link": "https://meet.example.org/export",
            "person_ids": [mentor["id"], mentee["id"]],
        },
    )
    with Connection(bus_settings.broker_url) as connection:
        message = OutgoingMessage(
            body=meeting.to_json(),
            routing_key=meeting.type,
            message_id=meeting.id,
            type=meeting.type,
        )
        Publisher(connection).publish([message], exchange=bus_settings.exchange)
    hosted = str(uuid.uuid5(MEETINGS, "meeting-1"))
    eventually(
        lambda: (
            events.client.get(
                f"/api/v1/events/{hosted}", headers=events.headers("events:read")
            ).status_code
            == 200
        )
    )
    listed = registrations(events, hosted)
    assert {(r["person_id"], r["status"]) for r in listed} == {
        (mentor["id"], "confirmed"),
        (mentee["id"], "confirmed"),
    }
