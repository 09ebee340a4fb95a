"""The events service's reads on fakes: filters, order, keyset cursors, waitlist places."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.events import operations as ops
from services.events.domain.commands import CancelRegistration
from services.events.domain.model import EventKind, EventStatus, RegistrationStatus
from services.events.domain.ports import EventQuery, ParticipantQuery
from shared.errors import NotFound
from shared.uow import ReadOnly
from tests.unit.events.conftest import Uow, in_days, known, published, register, trip


def test_events_are_listed_by_start_then_id_and_paged_by_a_cursor(uow: Uow) -> None:
    late = published(uow, starts_at=in_days(40), ends_at=in_days(41))
    early = published(uow, starts_at=in_days(10), ends_at=in_days(11))
    draft = ops.create_event(uow, trip(kind=EventKind.WORKSHOP))
    everything = ops.list_events(uow, EventQuery(), 10, None)
    assert [e.id for e in everything] == [early.id, draft.id, late.id]
    first = ops.list_events(uow, EventQuery(), 1, None)
    assert [e.id for e in first] == [early.id]
    rest = ops.list_events(uow, EventQuery(), 10, (first[0].starts_at, first[0].id))
    assert [e.id for e in rest] == [draft.id, late.id]


def test_events_are_filtered_by_kind_status_and_start(uow: Uow) -> None:
    trip_ = published(uow)
    draft = ops.create_event(uow, trip(kind=EventKind.WORKSHOP, starts_at=in_days(20)))

    def ids(query: EventQuery) -> list[str]:
        return [e.id for e in ops.list_events(uow, query, 10, None)]

    assert ids(EventQuery(kind=EventKind.WORKSHOP)) == [draft.id]
    assert ids(EventQuery(status=EventStatus.PUBLISHED)) == [trip_.id]
    assert ids(EventQuery(hide_drafts=True)) == [trip_.id]
    assert ids(EventQuery(starts_from=trip_.starts_at)) == [trip_.id]
    assert ids(EventQuery(starts_before=trip_.starts_at)) == [draft.id]
    assert ids(EventQuery(starts_from=trip_.starts_at + timedelta(seconds=1))) == []


def test_registrations_are_listed_in_order_with_their_place_on_the_waitlist(uow: Uow) -> None:
    event = published(uow, capacity=1)
    seat, w1, w2, w3 = (register(uow, event, p) for p in known(uow, "a", "b", "c", "d"))
    ops.cancel_registration(uow, CancelRegistration(event.id, w2.id))
    page = ops.list_registrations(uow, event.id, ParticipantQuery(), 10, None)
    assert [(p.registration.person_id, p.waitlist_position) for p in page] == [
        ("a", None),
        ("b", 1),
        ("c", None),
        ("d", 2),
    ]
    waitlisted = ParticipantQuery(status=RegistrationStatus.WAITLISTED)
    waiting = ops.list_registrations(uow, event.id, waitlisted, 10, None)
    assert [(p.registration.id, p.waitlist_position) for p in waiting] == [(w1.id, 1), (w3.id, 2)]
    after = ops.list_registrations(uow, event.id, ParticipantQuery(), 2, seat.sequence)
    assert [p.registration.id for p in after] == [w1.id, w2.id]
    assert ops.get_registration(uow, event.id, w3.id) == (w3, 2)


def test_registrations_of_an_unknown_event_or_another_event_are_not_found(uow: Uow) -> None:
    event, other = published(uow), published(uow)
    registration = register(uow, event, *known(uow, "p1"))
    with pytest.raises(NotFound):
        ops.list_registrations(uow, "nope", ParticipantQuery(), 10, None)
    with pytest.raises(NotFound):
        ops.get_registration(uow, other.id, registration.id)
    assert ops.list_registrations(uow, other.id, ParticipantQuery(), 10, None) == []


def test_a_read_cannot_emit(uow: Uow) -> None:
    with uow.read() as tx, pytest.raises(ReadOnly):
        tx.emit("events.event.created", subject="x", data={})
