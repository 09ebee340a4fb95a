"""The events service's write use cases on fakes: what they store, emit and refuse."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.events import operations as ops
from services.events.domain.commands import (
    Attend,
    CancelEvent,
    CancelRegistration,
    CompleteEvent,
    ForgetPerson,
    PublishEvent,
    Register,
)
from services.events.domain.model import EventStatus, RegistrationStatus
from shared.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from tests.unit.events.conftest import (
    T0,
    Uow,
    in_days,
    known,
    published,
    register,
    statuses,
    trip,
    under_way,
)


# -- events --------------------------------------------------------------------------
def test_a_new_event_is_a_draft_with_a_tidy_title_and_an_upper_case_country(uow: Uow) -> None:
    event = ops.create_event(uow, trip(title="  Business   trip\tto Lyon ", country="fr"))
    assert (event.title, event.country, event.status) == (
        "Business trip to Lyon",
        "FR",
        EventStatus.DRAFT,
    )
    assert uow.tx.events.rows == {event.id: event}
    assert uow.types() == ["events.event.created"]
    data = uow.events[0].data
    assert (uow.events[0].subject, data["status"], data["capacity"]) == (event.id, "draft", 3)
    assert ops.get_event(uow, event.id) == event


def test_an_event_that_breaks_a_rule_is_not_created_and_leaves_no_trace(uow: Uow) -> None:
    with pytest.raises(InvalidInput) as refused:
        ops.create_event(uow, trip(ends_at=in_days(29)))
    assert "ends_at" in (refused.value.errors or {})
    assert uow.tx.events.rows == {} and uow.events == [] and uow.commits == 0


def test_publishing_opens_a_draft_once(uow: Uow) -> None:
    draft = ops.create_event(uow, trip())
    event = ops.publish_event(uow, PublishEvent(draft.id))
    assert (event.status, event.version) == (EventStatus.PUBLISHED, 2)
    assert ops.get_event(uow, draft.id).status is EventStatus.PUBLISHED
    assert uow.types() == ["events.event.created", "events.event.published"]
    assert uow.events[-1].data["status"] == "published"
    with pytest.raises(InvalidTransition):
        ops.publish_event(uow, PublishEvent(draft.id))
    assert uow.commits == 2


def test_an_unknown_event_cannot_be_published_nor_read(uow: Uow) -> None:
    with pytest.raises(NotFound):
        ops.publish_event(uow, PublishEvent("nope"))
    with pytest.raises(NotFound):
        ops.get_event(uow, "nope")
    assert uow.events == []


def test_cancelling_an_event_ends_every_live_registration_and_names_their_people(
    uow: Uow,
) -> None:
    event = published(uow, capacity=1)
    seated, waiting = known(uow, "seated", "waiting")
    register(uow, event, seated)
    register(uow, event, waiting)
    cancelled = ops.cancel_event(uow, CancelEvent(event.id))
    assert (cancelled.status, cancelled.confirmed) == (EventStatus.CANCELLED, 0)
    assert statuses(uow, event) == {"seated": "cancelled", "waiting": "cancelled"}
    reasons = {r.cancel_reason for r in uow.tx.registrations.rows.values()}
    assert reasons == {"The event was cancelled."}
    assert uow.types()[-1] == "events.event.cancelled"
    data = uow.events[-1].data
    assert (data["status"], data["reason"], data["person_ids"]) == (
        "cancelled",
        None,
        ["seated", "waiting"],
    )


def test_a_cancellation_reason_is_kept_on_the_registrations_and_in_the_event(uow: Uow) -> None:
    event = published(uow)
    register(uow, event, *known(uow, "p1"))
    ops.cancel_event(uow, CancelEvent(event.id, "The venue closed."))
    (registration,) = uow.tx.registrations.rows.values()
    assert registration.cancel_reason == "The venue closed."
    assert uow.events[-1].data["reason"] == "The venue closed."


def test_an_event_that_has_started_cannot_be_cancelled(uow: Uow) -> None:
    event = published(uow)
    register(uow, event, *known(uow, "p1"))
    under_way(uow, event.id)
    before = (dict(uow.tx.events.rows), dict(uow.tx.registrations.rows), len(uow.events))
    with pytest.raises(InvalidTransition):
        ops.cancel_event(uow, CancelEvent(event.id))
    assert (dict(uow.tx.events.rows), dict(uow.tx.registrations.rows), len(uow.events)) == before


def test_completing_an_event_sorts_attendees_no_shows_and_the_waitlist(uow: Uow) -> None:
    event = published(uow, capacity=2)
    came, stayed_away, waiting, left = known(uow, "came", "stayed_away", "waiting", "left")
    attendee = register(uow, event, came)
    register(uow, event, stayed_away)
    register(uow, event, waiting)
    register(uow, event, left)
    leaving = uow.tx.registrations.active(event.id, left)
    assert leaving is not None
    ops.cancel_registration(uow, CancelRegistration(event.id, leaving.id))
    under_way(uow, event.id)
    ops.attend(uow, Attend(event.id, attendee.id))
    under_way(uow, event.id, ended=True)
    completed = ops.complete_event(uow, CompleteEvent(event.id))
    assert completed.status is EventStatus.COMPLETED
    assert statuses(uow, event) == {
        "came": "attended",
        "stayed_away": "no_show",
        "waiting": "cancelled",
        "left": "cancelled",
    }
    assert uow.tx.registrations.active(event.id, waiting) is None
    assert uow.types()[-1] == "events.event.completed"
    data = uow.events[-1].data
    assert (data["attended"], data["no_show"], data["waitlist_ended"]) == (
        ["came"],
        ["stayed_away"],
        ["waiting"],
    )


def test_an_event_is_completed_only_once_it_has_ended(uow: Uow) -> None:
    event = published(uow)
    register(uow, event, *known(uow, "p1"))
    under_way(uow, event.id)
    with pytest.raises(InvalidTransition):
        ops.complete_event(uow, CompleteEvent(event.id))
    assert statuses(uow, event) == {"p1": "confirmed"}
    assert ops.get_event(uow, event.id).status is EventStatus.PUBLISHED
    with pytest.raises(NotFound):
        ops.complete_event(uow, CompleteEvent("nope"))


# -- registrations -------------------------------------------------------------------
def test_seats_go_first_come_then_the_waitlist_keeps_the_order(uow: Uow) -> None:
    event = published(uow, capacity=2)
    people = known(uow, "p1", "p2", "p3", "p4")
    answers = [ops.register(uow, Register(event.id, p)) for p in people]
    assert [(r.status.value, place) for r, place in answers] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    assert [r.sequence for r, _ in answers] == [1, 2, 3, 4]
    stored = ops.get_event(uow, event.id)
    assert (stored.confirmed, stored.registrations, stored.seats_left) == (2, 4, 0)
    assert (
        uow.types()[2:]
        == ["events.registration.confirmed"] * 2 + ["events.registration.waitlisted"] * 2
    )
    last = uow.events[-1].data
    assert (last["person_id"], last["waitlist_position"], last["event"]["title"]) == (
        "p4",
        2,
        "Business trip to Lyon",
    )


def test_only_people_the_registry_told_of_can_register(uow: Uow) -> None:
    event = published(uow)
    with pytest.raises(InvalidInput) as refused:
        ops.register(uow, Register(event.id, "stranger"))
    assert refused.value.errors == {"person_id": ["Unknown person."]}
    known(uow, "gone")
    with uow.begin() as tx:
        ops.forget_person(tx, ForgetPerson("gone", T0 + timedelta(minutes=1)))
    with pytest.raises(InvalidInput):
        ops.register(uow, Register(event.id, "gone"))
    assert uow.tx.registrations.rows == {}
    assert ops.get_event(uow, event.id).registrations == 0


def test_a_person_registers_only_once_while_their_registration_lives(uow: Uow) -> None:
    event = published(uow, capacity=1)
    person = known(uow, "p1")[0]
    first = register(uow, event, person)
    events_before = len(uow.events)
    with pytest.raises(Conflict):
        register(uow, event, person)
    assert len(uow.events) == events_before
    assert ops.get_event(uow, event.id).registrations == 1
    ops.cancel_registration(uow, CancelRegistration(event.id, first.id))
    again = register(uow, event, person)
    assert (again.status, again.sequence) == (RegistrationStatus.CONFIRMED, 2)


def test_registration_needs_a_published_event_that_exists(uow: Uow) -> None:
    known(uow, "p1")
    draft = ops.create_event(uow, trip())
    with pytest.raises(InvalidTransition):
        register(uow, draft, "p1")
    with pytest.raises(NotFound):
        ops.register(uow, Register("nope", "p1"))
    assert uow.tx.registrations.rows == {}


def test_a_freed_seat_goes_to_the_first_on_the_waitlist(uow: Uow) -> None:
    event = published(uow, capacity=1)
    seated, first, second = (register(uow, event, p) for p in known(uow, "s", "w1", "w2"))
    cancelled = ops.cancel_registration(uow, CancelRegistration(event.id, seated.id, "ill"))
    assert (cancelled.status, cancelled.cancel_reason) == (RegistrationStatus.CANCELLED, "ill")
    assert uow.types()[-2:] == ["events.registration.cancelled", "events.registration.promoted"]
    assert uow.events[-2].data["reason"] == "ill"
    assert uow.events[-1].data["person_id"] == "w1"
    assert ops.get_registration(uow, event.id, first.id)[0].status is RegistrationStatus.CONFIRMED
    assert ops.get_registration(uow, event.id, second.id)[1] == 1  # next in line now
    assert ops.get_event(uow, event.id).confirmed == 1


def test_leaving_the_waitlist_frees_no_seat(uow: Uow) -> None:
    event = published(uow, capacity=1)
    _, first, second = (register(uow, event, p) for p in known(uow, "s", "w1", "w2"))
    ops.cancel_registration(uow, CancelRegistration(event.id, first.id))
    assert uow.types()[-1] == "events.registration.cancelled"
    assert ops.get_registration(uow, event.id, second.id)[1] == 1
    assert ops.get_event(uow, event.id).confirmed == 1


def test_a_registration_is_cancelled_once_and_only_before_the_start(uow: Uow) -> None:
    event = published(uow)
    one, two = (register(uow, event, p) for p in known(uow, "p1", "p2"))
    ops.cancel_registration(uow, CancelRegistration(event.id, one.id))
    with pytest.raises(InvalidTransition):
        ops.cancel_registration(uow, CancelRegistration(event.id, one.id))
    other = published(uow)
    with pytest.raises(NotFound):  # not a registration of that event
        ops.cancel_registration(uow, CancelRegistration(other.id, two.id))
    under_way(uow, event.id)
    with pytest.raises(InvalidTransition):
        ops.cancel_registration(uow, CancelRegistration(event.id, two.id))
    assert statuses(uow, event) == {"p1": "cancelled", "p2": "confirmed"}


def test_attendance_is_recorded_for_a_seat_once_the_event_has_started(uow: Uow) -> None:
    event = published(uow, capacity=1)
    seated, waiting = (register(uow, event, p) for p in known(uow, "s", "w"))
    with pytest.raises(InvalidTransition):
        ops.attend(uow, Attend(event.id, seated.id))  # not started yet
    under_way(uow, event.id)
    attended = ops.attend(uow, Attend(event.id, seated.id))
    assert attended.status is RegistrationStatus.ATTENDED
    assert uow.types()[-1] == "events.registration.attended"
    assert uow.events[-1].data["status"] == "attended"
    with pytest.raises(InvalidTransition):
        ops.attend(uow, Attend(event.id, waiting.id))
    with pytest.raises(InvalidTransition):
        ops.attend(uow, Attend(event.id, seated.id))  # twice
    with pytest.raises(NotFound):
        ops.attend(uow, Attend(event.id, "nope"))
    assert statuses(uow, event) == {"s": "attended", "w": "waitlisted"}
