"""Registrations: seats, the waitlist, promotion, and who may do what."""

from __future__ import annotations

import pytest

from booster.testing import ServiceHarness
from tests.integration.events.conftest import (
    READ,
    WRITE,
    in_days,
    known_person,
    new_event,
    register,
    registrations,
)


def cancel(events: ServiceHarness, event_id: str, registration_id: str, **headers: str):  # noqa: ANN201
    return events.client.post(
        f"/api/v1/events/{event_id}/registrations/{registration_id}/cancel",
        json={"reason": "Visa refused"},
        headers=headers or events.headers(WRITE),
    )


@pytest.fixture
def full_trip(events: ServiceHarness) -> tuple[dict, list[dict]]:
    """A trip with 2 seats and 5 registrations: a, b confirmed; c, d, e waitlisted."""
    event = new_event(events, capacity=2)
    made = [register(events, event["id"], known_person(events, p)).get_json() for p in "abcde"]
    return event, made


def test_seats_go_first_come_then_the_waitlist_in_order(
    events: ServiceHarness, full_trip: tuple[dict, list[dict]]
) -> None:
    event, made = full_trip
    assert [(r["person_id"], r["status"], r["waitlist_position"]) for r in made] == [
        ("a", "confirmed", None),
        ("b", "confirmed", None),
        ("c", "waitlisted", 1),
        ("d", "waitlisted", 2),
        ("e", "waitlisted", 3),
    ]
    seen = events.client.get(f"/api/v1/events/{event['id']}", headers=events.headers(READ))
    assert (seen.get_json()["confirmed"], seen.get_json()["seats_left"]) == (2, 0)
    emitted = [e for e in events.events() if e.type.startswith("events.registration.")]
    assert [e.type.rsplit(".", 1)[1] for e in emitted] == ["confirmed"] * 2 + ["waitlisted"] * 3
    assert emitted[3].data["waitlist_position"] == 2
    assert emitted[0].data["event"]["title"] == "Business trip to Lyon"
    assert emitted[0].subject == made[0]["id"]


def test_a_cancelled_seat_goes_to_the_first_on_the_waitlist(
    events: ServiceHarness, full_trip: tuple[dict, list[dict]]
) -> None:
    event, made = full_trip
    response = cancel(events, event["id"], made[1]["id"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["cancel_reason"] == "Visa refused"
    now = {r["person_id"]: r for r in registrations(events, event["id"])}
    assert now["c"]["status"] == "confirmed" and now["c"]["promoted_at"] is not None
    assert [(p, now[p]["waitlist_position"]) for p in "de"] == [("d", 1), ("e", 2)]
    cancelled, promoted = events.events()[-2:]
    assert cancelled.type == "events.registration.cancelled"
    assert cancelled.data["reason"] == "Visa refused"
    assert promoted.type == "events.registration.promoted"
    assert (promoted.subject, promoted.data["person_id"]) == (made[2]["id"], "c")
    assert promoted.data["status"] == "confirmed"
    waiting = registrations(events, event["id"], status="waitlisted")
    assert [(r["person_id"], r["waitlist_position"]) for r in waiting] == [("d", 1), ("e", 2)]


def test_leaving_the_waitlist_promotes_nobody(
    events: ServiceHarness, full_trip: tuple[dict, list[dict]]
) -> None:
    event, made = full_trip
    cancel(events, event["id"], made[3]["id"])
    assert events.events()[-1].type == "events.registration.cancelled"
    statuses = {r["person_id"]: r["status"] for r in registrations(events, event["id"])}
    assert statuses == {
        "a": "confirmed",
        "b": "confirmed",
        "c": "waitlisted",
        "d": "cancelled",
        "e": "waitlisted",
    }
    e = [r for r in registrations(events, event["id"]) if r["person_id"] == "e"][0]
    assert e["waitlist_position"] == 2
    response = events.client.get(
        f"/api/v1/events/{event['id']}/registrations/{made[4]['id']}",
        headers=events.headers(READ),
    )
    assert response.get_json()["waitlist_position"] == 2


def test_a_seat_freed_with_nobody_waiting_stays_free(events: ServiceHarness) -> None:
    event = new_event(events, capacity=2)
    first = register(events, event["id"], known_person(events, "a")).get_json()
    cancel(events, event["id"], first["id"])
    seen = events.client.get(f"/api/v1/events/{event['id']}", headers=events.headers(READ))
    assert seen.get_json()["seats_left"] == 2
    assert register(events, event["id"], known_person(events, "b")).get_json()["status"] == (
        "confirmed"
    )
    # and the person who cancelled may register again, at the back
    again = register(events, event["id"], "a")
    assert again.status_code == 201 and again.get_json()["status"] == "confirmed"
    assert register(events, event["id"], known_person(events, "c")).get_json()["status"] == (
        "waitlisted"
    )


def test_a_person_registers_once(events: ServiceHarness, full_trip: tuple) -> None:
    event, made = full_trip
    for person in ("a", "d"):
        response = register(events, event["id"], person)
        assert response.status_code == 409
        assert response.mimetype == "application/problem+json"
    assert len(registrations(events, event["id"])) == 5


def test_cancelling_twice_is_a_conflict(events: ServiceHarness, full_trip: tuple) -> None:
    event, made = full_trip
    assert cancel(events, event["id"], made[0]["id"]).status_code == 200
    assert cancel(events, event["id"], made[0]["id"]).status_code == 409
    assert cancel(events, event["id"], "no-such-registration").status_code == 404
    other = new_event(events)
    assert cancel(events, other["id"], made[1]["id"]).status_code == 404


def test_registration_is_refused_when_it_is_not_open(events: ServiceHarness) -> None:
    person = known_person(events, "a")
    draft = new_event(events, publish=False)
    assert register(events, draft["id"], person).status_code == 409
    closed = new_event(events, registration_closes_at=in_days(-1))
    response = register(events, closed["id"], person)
    assert response.status_code == 409
    assert "closed" in response.get_json()["detail"]


def test_unknown_or_removed_people_cannot_register(events: ServiceHarness) -> None:
    event = new_event(events)
    response = register(events, event["id"], "stranger")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"] == "#/person_id"
    for body in ({}, {"person_id": ""}, {"person_id": 7}, {"person_id": "x" * 37}):
        response = events.client.post(
            f"/api/v1/events/{event['id']}/registrations", json=body, headers=events.headers(WRITE)
        )
        assert response.status_code == 422, body


def test_the_list_pages_in_registration_order(events: ServiceHarness) -> None:
    event = new_event(events, capacity=4)
    people = [known_person(events, f"p{index:02}") for index in range(11)]
    for person in people:
        register(events, event["id"], person)
    seen, cursor, positions = [], None, []
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = events.client.get(
            f"/api/v1/events/{event['id']}/registrations",
            query_string=query,
            headers=events.headers(READ),
        ).get_json()
        seen += [r["person_id"] for r in body["items"]]
        positions += [r["waitlist_position"] for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == people
    assert positions == [None] * 4 + list(range(1, 8))
    bad = events.client.get(
        f"/api/v1/events/{event['id']}/registrations",
        query_string={"status": "maybe"},
        headers=events.headers(READ),
    )
    assert bad.status_code == 422


def test_a_self_token_registers_and_cancels_only_itself(events: ServiceHarness) -> None:
    event = new_event(events, capacity=1)
    known_person(events, "a")
    known_person(events, "b")
    as_a = events.headers("self", sub="a")
    mine = register(events, event["id"], "a", **as_a)
    assert mine.status_code == 201
    assert register(events, event["id"], "b", **as_a).status_code == 403
    theirs = register(events, event["id"], "b").get_json()
    mine_id = mine.get_json()["id"]
    own = f"/api/v1/events/{event['id']}/registrations/{mine_id}"
    assert events.client.get(own, headers=as_a).status_code == 200
    other = f"/api/v1/events/{event['id']}/registrations/{theirs['id']}"
    # someone else's registration is not there for them, like an unknown id
    assert events.client.get(other, headers=as_a).status_code == 404
    assert cancel(events, event["id"], theirs["id"], **as_a).status_code == 404
    listing = events.client.get(f"/api/v1/events/{event['id']}/registrations", headers=as_a)
    assert listing.status_code == 403
    assert cancel(events, event["id"], mine_id, **as_a).status_code == 200
    promoted = events.client.get(other, headers=events.headers(READ)).get_json()
    assert promoted["status"] == "confirmed"


def test_an_idempotency_key_makes_a_retried_registration_harmless(
    events: ServiceHarness,
) -> None:
    event = new_event(events, capacity=1)
    known_person(events, "a")
    headers = events.headers(WRITE, **{"Idempotency-Key": "register-a-1"})
    first = register(events, event["id"], "a", **headers)
    second = register(events, event["id"], "a", **headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.get_json() == second.get_json()
    assert len(registrations(events, event["id"])) == 1
    assert [e.type for e in events.events()].count("events.registration.confirmed") == 1


def test_a_self_token_cannot_find_a_draft_by_registering(events: ServiceHarness) -> None:
    draft = new_event(events, publish=False)
    known_person(events, "a")
    as_a = events.headers("self", sub="a")
    assert register(events, draft["id"], "a", **as_a).status_code == 404
    assert register(events, "no-such-event", "a", **as_a).status_code == 404
    assert register(events, draft["id"], "a").status_code == 409  # an operator is told why


def test_once_the_event_has_started_registrations_stay(events: ServiceHarness) -> None:
    event = new_event(events, capacity=1)
    first = register(events, event["id"], known_person(events, "a")).get_json()
    register(events, event["id"], known_person(events, "b"))
    _start_now(events, event["id"])
    response = cancel(events, event["id"], first["id"])
    assert response.status_code == 409
    assert "started" in response.get_json()["detail"]
    statuses = [r["status"] for r in registrations(events, event["id"])]
    assert statuses == ["confirmed", "waitlisted"]


def test_an_event_that_has_started_cannot_be_cancelled(events: ServiceHarness) -> None:
    """From its start, attendance governs: it is completed once it has ended."""
    for ended in (False, True):
        event = new_event(events)
        _start_now(events, event["id"], ended=ended)
        response = events.client.post(
            f"/api/v1/events/{event['id']}/cancel", json={}, headers=events.headers(WRITE)
        )
        assert response.status_code == 409
        assert "complete it" in response.get_json()["detail"]


def _start_now(events: ServiceHarness, event_id: str, *, ended: bool = False) -> None:
    """Move a published event's times so that it has started (or ended) already."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from services.events.adapters.tables import events as events_table

    now = datetime.now(UTC)
    starts, ends = (
        (now - timedelta(hours=3), now - timedelta(hours=1))
        if ended
        else (
            now - timedelta(minutes=5),
            now + timedelta(hours=2),
        )
    )
    with events.runtime.database.session() as session:
        session.execute(
            update(events_table)
            .where(events_table.c.id == event_id)
            .values(starts_at=starts, ends_at=ends, registration_closes_at=None)
        )
