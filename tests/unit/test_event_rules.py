"""The rules of events, seats and the waitlist (domain only: no database, no Flask)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.events.domain.model import (
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from shared.errors import InvalidInput, InvalidTransition

NOW = datetime(2027, 1, 10, 12, tzinfo=UTC)


def trip(**changes: object) -> Event:
    fields: dict = {
        "kind": EventKind.BUSINESS_TRIP,
        "title": "Trip to Lyon",
        "format": EventFormat.IN_PERSON,
        "starts_at": NOW + timedelta(days=30),
        "ends_at": NOW + timedelta(days=32),
        "timezone": "Europe/Paris",
        "capacity": 2,
        "city": "Lyon",
        "country": "FR",
    }
    return Event(**{**fields, **changes})


def published(**changes: object) -> Event:
    return trip(**changes).publish(NOW)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": NOW + timedelta(days=30)}, "ends_at"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"timezone": "../etc/passwd"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),
        ({"timezone": "posix/Europe/Paris"}, "timezone"),
        ({"timezone": "europe/paris"}, "timezone"),
        ({"capacity": 0}, "capacity"),
        ({"city": None}, "city"),
        ({"format": EventFormat.HYBRID, "country": None}, "city"),
        ({"registration_closes_at": NOW + timedelta(days=31)}, "registration_closes_at"),
    ],
)
def test_an_event_refuses_inconsistent_fields(changes: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        trip(**changes)
    assert field in refused.value.errors


def test_an_online_event_needs_a_link_to_be_published() -> None:
    online = trip(format=EventFormat.ONLINE, city=None, country=None)
    with pytest.raises(InvalidInput):
        online.publish(NOW)
    linked = replace(online, online_link="https://meet.example.org/x").publish(NOW)
    assert linked.status is EventStatus.PUBLISHED and linked.version == 2


def test_the_lifecycle_allows_only_its_transitions() -> None:
    event = published()
    with pytest.raises(InvalidTransition):
        event.publish(NOW)
    cancelled = event.cancel(NOW)
    assert cancelled.status is EventStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        cancelled.cancel(NOW)
    with pytest.raises(InvalidTransition):
        event.cancel(event.starts_at)  # it has begun: attendance governs
    event.check_withdrawal(event.starts_at - timedelta(seconds=1))
    with pytest.raises(InvalidTransition):
        event.check_withdrawal(event.starts_at)
    with pytest.raises(InvalidTransition):
        trip(starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1)).publish(NOW)


def test_seats_then_waitlist() -> None:
    event = published(capacity=2)
    statuses = []
    for _ in range(4):
        event, status = event.admit(NOW)
        statuses.append(status)
    assert statuses == [RegistrationStatus.CONFIRMED] * 2 + [RegistrationStatus.WAITLISTED] * 2
    assert (event.confirmed, event.registrations, event.seats_left) == (2, 4, 0)


def test_no_capacity_means_no_waitlist() -> None:
    event = published(capacity=None)
    for _ in range(1000):
        event, status = event.admit(NOW)
        assert status is RegistrationStatus.CONFIRMED
    assert event.seats_left is None


def test_registration_closes() -> None:
    closes = NOW + timedelta(days=5)
    event = published(registration_closes_at=closes)
    event.admit(closes - timedelta(seconds=1))
    with pytest.raises(InvalidTransition):
        event.admit(closes)
    with pytest.raises(InvalidTransition):
        published().admit(NOW + timedelta(days=30))  # the start closes it by default
    with pytest.raises(InvalidTransition):
        trip().admit(NOW)  # a draft


def test_a_freed_seat_is_passed_on_only_while_it_can_be_used() -> None:
    event, _ = published(capacity=1).admit(NOW)
    seat = Registration("e", "p", RegistrationStatus.CONFIRMED, 1)
    freed = event.release(seat)
    assert freed.confirmed == 0
    assert freed.fill_seat(NOW).confirmed == 1
    assert freed.fill_seat(event.starts_at) is None  # the trip has begun
    assert replace(freed, status=EventStatus.CANCELLED).fill_seat(NOW) is None
    waiting = Registration("e", "q", RegistrationStatus.WAITLISTED, 2)
    assert event.release(waiting).confirmed == 1
    assert event.fill_seat(NOW) is None  # still full


def test_registration_transitions() -> None:
    waiting = Registration("e", "p", RegistrationStatus.WAITLISTED, 3)
    promoted = waiting.promote(NOW)
    assert promoted.status is RegistrationStatus.CONFIRMED and promoted.promoted_at == NOW
    with pytest.raises(InvalidTransition):
        promoted.promote(NOW)
    cancelled = promoted.cancel(NOW, "ill")
    assert (cancelled.status, cancelled.cancel_reason) == (RegistrationStatus.CANCELLED, "ill")
    with pytest.raises(InvalidTransition):
        cancelled.cancel(NOW)
    with pytest.raises(InvalidTransition):
        cancelled.promote(NOW)


def test_attendance_and_completion() -> None:
    event = published()
    with pytest.raises(InvalidTransition):
        event.check_attendance(event.starts_at - timedelta(seconds=1))
    event.check_attendance(event.starts_at)
    with pytest.raises(InvalidTransition):
        event.complete(event.ends_at - timedelta(seconds=1))
    done = event.complete(event.ends_at)
    assert done.status is EventStatus.COMPLETED
    with pytest.raises(InvalidTransition):
        done.check_attendance(done.ends_at)
    with pytest.raises(InvalidTransition):
        done.cancel(done.starts_at)


def test_closing_registrations_when_the_event_is_over() -> None:
    seat = Registration("e", "p", RegistrationStatus.CONFIRMED, 1)
    came = seat.attend(NOW)
    assert came.status is RegistrationStatus.ATTENDED
    with pytest.raises(InvalidTransition):
        came.attend(NOW)
    assert came.close(NOW) is came
    assert seat.close(NOW).status is RegistrationStatus.NO_SHOW
    waiting = Registration("e", "q", RegistrationStatus.WAITLISTED, 2).close(NOW)
    assert (waiting.status, waiting.cancel_reason) == (
        RegistrationStatus.CANCELLED,
        "The event took place.",
    )
