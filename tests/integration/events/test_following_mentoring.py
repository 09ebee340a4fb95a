"""The programme's joint meeting, followed by its hosted event, over the real RabbitMQ and
PostgreSQL: registry, mentoring and events each with its database and worker.

People come from the registry's API; mentoring schedules, reschedules and cancels the
meeting through its API; the events service hosts it and follows, emitting
``events.event.rescheduled`` and ``events.event.cancelled``. Each mentoring message is
then published again by hand with the same id (a redelivery): the consumer's inbox
absorbs it (counted as a duplicate) and nothing changes. Removing the cluster of a
registered person in the registry leaves their registration as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from kombu import Connection
from prometheus_client import REGISTRY

from booster.testing import ServiceHarness
from services.events.operations import MEETINGS
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.config import BusSettings
from shared.events import CloudEvent
from tests.integration.conftest import MENTORING_RW, eventually, joint_meeting, running_platform

REGISTRY_RW = "registry:read registry:write"
EVENTS_READ = "events:read"


@pytest.fixture
def platform(
    postgres_admin_url: str, bus_settings: BusSettings, tmp_path: Path
) -> Iterator[dict[str, ServiceHarness]]:
    names = ("registry", "mentoring", "events")
    with running_platform(names, postgres_admin_url, bus_settings, tmp_path) as p:
        yield p


def _post(harness: ServiceHarness, path: str, body: dict, scope: str, status: int = 201) -> Any:
    response = harness.client.post(f"/api/v1{path}", json=body, headers=harness.headers(scope))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _event(events: ServiceHarness, event_id: str) -> Any:
    return events.client.get(f"/api/v1/events/{event_id}", headers=events.headers(EVENTS_READ))


def _registrations(events: ServiceHarness, event_id: str) -> list[tuple[str, str]]:
    response = events.client.get(
        f"/api/v1/events/{event_id}/registrations", headers=events.headers(EVENTS_READ)
    )
    return [(r["person_id"], r["status"]) for r in response.get_json()["items"]]


def _known(harness: ServiceHarness, person_id: str) -> bool:
    with harness.runtime.uow.read() as tx:
        return tx.people.get(person_id) is not None


def _duplicates(event_type: str) -> float:
    value = REGISTRY.get_sample_value(
        "booster_events_handled_total",
        {"service": "events", "type": event_type, "outcome": "duplicate"},
    )
    return value or 0.0


def _redeliver(bus: BusSettings, event_: CloudEvent) -> None:
    """Publish the event again, same id: as RabbitMQ redelivers after a lost ack."""
    with Connection(bus.broker_url) as connection:
        message = OutgoingMessage(
            body=event_.to_json(), routing_key=event_.type, message_id=event_.id, type=event_.type
        )
        Publisher(connection).publish([message], exchange=bus.exchange)


def _redelivered_changes_nothing(
    bus: BusSettings, mentoring: ServiceHarness, events: ServiceHarness, event_type: str
) -> None:
    (sent,) = [e for e in mentoring.events() if e.type == event_type]
    hosted = str(uuid.uuid5(MEETINGS, sent.data["id"]))
    before = (_event(events, hosted).get_json(), _registrations(events, hosted), events.events())
    duplicates = _duplicates(event_type)
    _redeliver(bus, sent)
    eventually(lambda: _duplicates(event_type) == duplicates + 1)
    after = (_event(events, hosted).get_json(), _registrations(events, hosted), events.events())
    assert after == before


def test_a_hosted_meeting_follows_its_rescheduling_and_cancellation(
    platform: dict[str, ServiceHarness], bus_settings: BusSettings
) -> None:
    registry, mentoring, events = platform["registry"], platform["mentoring"], platform["events"]
    cluster = _post(
        registry,
        "/clusters",
        {"name": "Tunis Agrifood", "country": "TN", "kind": "cluster"},
        REGISTRY_RW,
    )
    people = [
        _post(
            registry,
            "/people",
            {"name": name, "email": email, "language": "fr", "cluster_id": cluster["id"]},
            REGISTRY_RW,
        )["id"]
        for name, email in (
            ("Marta Puig", "marta@example.org"),
            ("Salma Ben Ali", "salma@example.org"),
        )
    ]
    eventually(lambda: all(_known(mentoring, p) and _known(events, p) for p in people))

    meeting = joint_meeting(
        mentoring,
        people,
        title="Joint meeting: export plans",
        online_link="https://meet.example.org/export",
    )
    starts, hosted = meeting.starts, meeting.hosted
    eventually(lambda: _event(events, hosted).status_code == 200)
    eventually(lambda: len(_registrations(events, hosted)) == 2)
    assert sorted(_registrations(events, hosted)) == sorted((p, "confirmed") for p in people)
    ics = events.client.get(f"/api/v1/events/{hosted}.ics", headers=events.headers(EVENTS_READ))
    sequence = int(Calendar.from_ical(ics.data).walk("VEVENT")[0]["SEQUENCE"])

    # mentoring moves the meeting: the event follows, everyone registered hears of it
    later = starts + timedelta(days=2, hours=3)
    _post(
        mentoring,
        f"/meetings/{meeting.id}/reschedule",
        {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()},
        MENTORING_RW,
        200,
    )
    eventually(lambda: _event(events, hosted).get_json()["starts_at"] == later.isoformat())
    (rescheduled,) = [e for e in events.events() if e.type == "events.event.rescheduled"]
    assert sorted(rescheduled.data["person_ids"]) == sorted(people)
    assert rescheduled.data["previous"]["starts_at"] == starts.isoformat()
    assert rescheduled.data["starts_at"] == later.isoformat()
    ics = events.client.get(f"/api/v1/events/{hosted}.ics", headers=events.headers(EVENTS_READ))
    entry = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert int(entry["SEQUENCE"]) > sequence
    assert entry.decoded("DTSTART") == later
    _redelivered_changes_nothing(bus_settings, mentoring, events, "mentoring.meeting.rescheduled")

    # the registry removes the people's cluster: their registrations stay
    removed = registry.client.delete(
        f"/api/v1/clusters/{cluster['id']}",
        headers=registry.headers(REGISTRY_RW, **{"If-Match": "*"}),
    )
    assert removed.status_code == 204, removed.get_json()

    def cluster_gone() -> bool:
        with events.runtime.uow.read() as tx:
            copy = tx.clusters.get(cluster["id"])
        return copy is not None and copy.removed

    eventually(cluster_gone)
    assert sorted(_registrations(events, hosted)) == sorted((p, "confirmed") for p in people)

    # mentoring cancels the meeting: so is the event, with everyone's registration
    _post(
        mentoring,
        f"/meetings/{meeting.id}/cancel",
        {"reason": "The programme paused."},
        MENTORING_RW,
        200,
    )
    eventually(lambda: _event(events, hosted).get_json()["status"] == "cancelled")
    assert sorted(_registrations(events, hosted)) == sorted((p, "cancelled") for p in people)
    (cancelled,) = [e for e in events.events() if e.type == "events.event.cancelled"]
    assert sorted(cancelled.data["person_ids"]) == sorted(people)
    assert cancelled.data["reason"] == "The programme paused."
    _redelivered_changes_nothing(bus_settings, mentoring, events, "mentoring.meeting.cancelled")
