"""Attendance: marking who came once the event has started, and completing it."""

from __future__ import annotations

from booster.testing import ServiceHarness
from tests.integration.events.conftest import (
    WRITE,
    known_person,
    new_event,
    register,
    registrations,
)
from tests.integration.events.test_registrations import _start_now


def attend(events: ServiceHarness, event_id: str, registration_id: str):  # noqa: ANN201
    return events.client.post(
        f"/api/v1/events/{event_id}/registrations/{registration_id}/attend",
        headers=events.headers(WRITE),
    )


def complete(events: ServiceHarness, event_id: str):  # noqa: ANN201
    return events.client.post(f"/api/v1/events/{event_id}/complete", headers=events.headers(WRITE))


def test_attendance_is_recorded_once_the_event_has_started(events: ServiceHarness) -> None:
    event = new_event(events, capacity=2)
    made = [register(events, event["id"], known_person(events, p)).get_json() for p in "abc"]
    early = attend(events, event["id"], made[0]["id"])
    assert early.status_code == 409 and "started" in early.get_json()["detail"]
    assert attend(events, event["id"], "nope").status_code == 404  # not found comes first
    _start_now(events, event["id"])
    marked = attend(events, event["id"], made[0]["id"])
    assert marked.status_code == 200 and marked.get_json()["status"] == "attended"
    assert events.events()[-1].type == "events.registration.attended"
    assert attend(events, event["id"], made[0]["id"]).status_code == 409  # twice
    assert attend(events, event["id"], made[2]["id"]).status_code == 409  # waitlisted
    assert attend(events, event["id"], "nope").status_code == 404


def test_completing_turns_unused_seats_into_no_shows_and_ends_the_waitlist(
    events: ServiceHarness,
) -> None:
    event = new_event(events, capacity=2)
    made = [register(events, event["id"], known_person(events, p)).get_json() for p in "abc"]
    _start_now(events, event["id"])
    attend(events, event["id"], made[0]["id"])
    assert complete(events, event["id"]).status_code == 409  # it has not ended
    _start_now(events, event["id"], ended=True)
    done = complete(events, event["id"])
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    statuses = {r["person_id"]: r["status"] for r in registrations(events, event["id"])}
    assert statuses == {"a": "attended", "b": "no_show", "c": "cancelled"}
    completed = events.events()[-1]
    assert completed.type == "events.event.completed"
    assert (completed.data["attended"], completed.data["no_show"]) == (["a"], ["b"])
    assert completed.data["waitlist_ended"] == ["c"]
    assert complete(events, event["id"]).status_code == 409
    assert attend(events, event["id"], made[1]["id"]).status_code == 409
    cancel = events.client.post(
        f"/api/v1/events/{event['id']}/cancel", json={}, headers=events.headers(WRITE)
    )
    assert cancel.status_code == 409


def test_a_draft_or_cancelled_event_cannot_be_completed(events: ServiceHarness) -> None:
    draft = new_event(events, publish=False)
    assert complete(events, draft["id"]).status_code == 409
    assert complete(events, "nope").status_code == 404
