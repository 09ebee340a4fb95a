"""Hosting the mentoring programme's meetings (flow 3, the events service's part)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import ServiceHarness
from services.events import operations as ops
from services.events.handlers import meeting_scheduled
from shared.events import CloudEvent, InvalidEventData
from tests.integration.events.conftest import READ, known_person, registrations
from tests.integration.events.test_people_copy import _apply, _event


def scheduled(person_ids: list[str], *, days: float = 7, meeting_id: str = "m-1") -> CloudEvent:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return platform_catalogue().make_event(
        "mentoring.meeting.scheduled",
        subject=meeting_id,
        data={
            "id": meeting_id,
            "programme_id": "cmr-2026",
            "title": "Joint meeting: cluster strategies",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "timezone": "Africa/Tunis",
            "online_link": "https://meet.example.org/joint",
            "person_ids": person_ids,
        },
    )


def handle(events: ServiceHarness, event_: CloudEvent) -> None:
    with events.runtime.uow.begin() as tx:
        meeting_scheduled(event_, tx)


def hosted_id(meeting_id: str = "m-1") -> str:
    return str(uuid.uuid5(ops.MEETINGS, meeting_id))


def test_a_meeting_becomes_an_online_event_with_everyone_registered(
    events: ServiceHarness,
) -> None:
    people = [known_person(events, f"p{n}") for n in range(4)]
    handle(events, scheduled([*people, people[0]]))  # a repeated id is registered once
    event = events.client.get(f"/api/v1/events/{hosted_id()}", headers=events.headers(READ))
    assert event.status_code == 200
    body = event.get_json()
    assert (body["kind"], body["format"], body["status"]) == (
        "joint_meeting",
        "online",
        "published",
    )
    assert (body["capacity"], body["confirmed"]) == (None, 4)
    assert body["online_link"] == "https://meet.example.org/joint"
    listed = registrations(events, hosted_id())
    assert [(r["person_id"], r["status"]) for r in listed] == [(p, "confirmed") for p in people]
    types = [e.type for e in events.events()]
    assert (
        types
        == ["events.event.created", "events.event.published"]
        + ["events.registration.confirmed"] * 4
    )
    invitation = events.events()[-1]
    assert invitation.data["event"]["title"] == "Joint meeting: cluster strategies"
    assert invitation.data["event"]["timezone"] == "Africa/Tunis"
    ics = events.client.get(f"/api/v1/events/{hosted_id()}.ics", headers=events.headers(READ))
    assert ics.status_code == 200 and b"Joint meeting" in ics.data


def test_a_meeting_is_hosted_once(events: ServiceHarness) -> None:
    person = known_person(events, "p1")
    handle(events, scheduled([person]))
    handle(events, scheduled([person]))  # the same meeting again (a replay)
    assert len(registrations(events, hosted_id())) == 1
    assert len(events.events()) == 3


def test_an_unknown_participant_makes_the_whole_meeting_wait(events: ServiceHarness) -> None:
    """The registry's event may not have arrived yet: nothing is written, the consumer
    retries, and once the person is known the meeting is hosted in full."""
    known_person(events, "p1")
    with pytest.raises(ops.PersonNotKnownYet):
        handle(events, scheduled(["p1", "late"]))
    assert events.events() == []
    assert (
        events.client.get(f"/api/v1/events/{hosted_id()}", headers=events.headers(READ)).status_code
        == 404
    )
    known_person(events, "late")
    handle(events, scheduled(["p1", "late"]))
    assert {r["person_id"] for r in registrations(events, hosted_id())} == {"p1", "late"}


def test_removed_participants_are_left_out(events: ServiceHarness) -> None:
    known_person(events, "stays")
    known_person(events, "gone")
    _apply(events, _event("removed", "gone", datetime.now(UTC)))
    handle(events, scheduled(["stays", "gone"]))
    assert [r["person_id"] for r in registrations(events, hosted_id())] == ["stays"]


def test_a_meeting_that_has_started_is_not_hosted(events: ServiceHarness) -> None:
    known_person(events, "p1")
    handle(events, scheduled(["p1"], days=-0.01))
    assert events.events() == []


def test_participants_added_later_are_registered(events: ServiceHarness) -> None:
    first, added = known_person(events, "p1"), known_person(events, "p2")
    handle(events, scheduled([first]))
    handle(events, scheduled([first, added]))
    listed = registrations(events, hosted_id())
    assert [(r["person_id"], r["status"]) for r in listed] == [
        ("p1", "confirmed"),
        ("p2", "confirmed"),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus"),
        ("title", "   "),
        ("online_link", "javascript:alert(1)"),
        ("online_link", "https://example.org/" + "x" * 500),
        ("person_ids", []),
        ("ends_at", "2020-01-01T00:00:00+00:00"),
        ("starts_at", "2030-01-01T09:00:00"),
    ],
)
def test_a_meeting_that_breaks_the_contract_is_caught_by_the_catalogue(
    field: str, value: object
) -> None:
    """The consumer checks every received event against the catalogue and dead-letters
    one that does not fit at once (see tests/integration/test_consumer.py)."""
    valid = scheduled(["p1"])
    platform_catalogue().check(valid)
    broken = CloudEvent(**{**valid.__dict__, "data": {**valid.data, field: value}})
    with pytest.raises(InvalidEventData) as caught:
        platform_catalogue().check(broken)
    assert field in caught.value.errors
