"""Changing an event (``PATCH /events/{id}``) on fakes: versions, capacity and the
waitlist, rescheduling, agendas and business trips."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.events import operations as ops
from services.events.calendar import event_calendar
from services.events.domain.commands import CancelEvent, CancelRegistration, UpdateEvent
from services.events.domain.model import AgendaItem, Event, EventFormat, EventKind, EventStatus
from shared.errors import Conflict, InvalidInput, InvalidTransition, PreconditionFailed
from tests.unit.events.conftest import (
    Uow,
    in_days,
    known,
    published,
    register,
    statuses,
    trip,
    under_way,
)


def change(uow: Uow, event: Event, version: int | None = None, **changes: Any) -> Event:
    return ops.update_event(uow, UpdateEvent(event.id, changes, version))


def full_trip(uow: Uow, capacity: int, waiting: int) -> tuple[Event, list[str]]:
    """A published trip with every seat taken and ``waiting`` people on its waitlist."""
    event = published(uow, capacity=capacity)
    people = known(uow, *(f"p{n:02}" for n in range(capacity + waiting)))
    for person_id in people:
        register(uow, event, person_id)
    return ops.get_event(uow, event.id), people


def nothing_happened(uow: Uow, event: Event, emitted: int) -> None:
    assert ops.get_event(uow, event.id) == event and len(uow.events) == emitted


# -- versions ------------------------------------------------------------------------
def test_a_change_with_a_stale_version_is_refused_and_changes_nothing(uow: Uow) -> None:
    event = published(uow)
    emitted = len(uow.events)
    with pytest.raises(PreconditionFailed):
        change(uow, event, event.version - 1, title="Too late")
    nothing_happened(uow, event, emitted)
    changed = change(uow, event, event.version, title="Business trip to Lyon and Grenoble")
    assert (changed.title, changed.version) == ("Business trip to Lyon and Grenoble", 3)
    with pytest.raises(PreconditionFailed):  # the version read before is stale now
        change(uow, event, event.version, title="Again")


def test_a_change_that_changes_nothing_emits_nothing_and_keeps_the_version(uow: Uow) -> None:
    event = published(uow)
    emitted = len(uow.events)
    same = change(uow, event, title="  Business   trip to Lyon", capacity=3, city="Lyon")
    assert same == event
    nothing_happened(uow, event, emitted)


def test_only_a_draft_or_a_published_event_before_its_start_changes(uow: Uow) -> None:
    cancelled = published(uow)
    ops.cancel_event(uow, CancelEvent(cancelled.id))
    with pytest.raises(InvalidTransition):
        change(uow, cancelled, title="Back on")
    started = published(uow)
    under_way(uow, started.id)
    with pytest.raises(InvalidTransition):
        change(uow, started, description="Running late")


def test_fields_not_offered_or_emptied_are_refused(uow: Uow) -> None:
    event = published(uow)
    with pytest.raises(InvalidInput):
        change(uow, event, status=EventStatus.DRAFT)
    for name in ("title", "starts_at", "ends_at", "timezone"):
        with pytest.raises(InvalidInput) as refused:
            change(uow, event, **{name: None})
        assert refused.value.errors == {name: ["This field cannot be emptied."]}


# -- capacity and the waitlist -------------------------------------------------------
def test_raising_the_capacity_promotes_the_waitlist_in_order(uow: Uow) -> None:
    event, people = full_trip(uow, capacity=10, waiting=5)
    emitted = len(uow.events)
    raised = change(uow, event, event.version, capacity=12)
    assert (raised.capacity, raised.confirmed, raised.seats_left) == (12, 12, 0)
    assert uow.types()[emitted:] == [
        "events.event.updated",
        "events.registration.promoted",
        "events.registration.promoted",
    ]
    updated, *promotions = uow.events[emitted:]
    assert (updated.data["capacity"], updated.data["changed"]) == (12, ["capacity"])
    assert [e.data["person_id"] for e in promotions] == people[10:12]
    assert all(e.data["status"] == "confirmed" for e in promotions)
    seen = statuses(uow, event)
    assert [seen[p] for p in people] == ["confirmed"] * 12 + ["waitlisted"] * 3
    with uow.read() as tx:
        waiting = tx.registrations.of_event(event.id)[12:]
        places = [tx.registrations.placed(event.id, r.id) for r in waiting]
    assert [place for _, place in places if place] == [1, 2, 3]


def test_no_limit_seats_everyone_waiting(uow: Uow) -> None:
    event, people = full_trip(uow, capacity=2, waiting=3)
    unlimited = change(uow, event, capacity=None)
    assert (unlimited.capacity, unlimited.confirmed, unlimited.seats_left) == (None, 5, None)
    assert set(statuses(uow, event).values()) == {"confirmed"}
    assert uow.types()[-3:] == ["events.registration.promoted"] * 3


def test_confirmed_seats_are_never_taken_away(uow: Uow) -> None:
    event, _ = full_trip(uow, capacity=3, waiting=1)
    emitted = len(uow.events)
    with pytest.raises(Conflict) as refused:
        change(uow, event, capacity=2)
    assert "3 seats are taken" in refused.value.detail
    nothing_happened(uow, event, emitted)
    first = uow.tx.registrations.active(event.id, "p00")
    assert first is not None
    ops.cancel_registration(uow, CancelRegistration(event.id, first.id))  # p03 gets the seat
    lowered = change(uow, ops.get_event(uow, event.id), capacity=3)  # as many as taken
    assert (lowered.capacity, lowered.confirmed) == (3, 3)


def test_lowering_the_capacity_keeps_the_waitlist_waiting(uow: Uow) -> None:
    event = published(uow, capacity=5)
    for person_id in known(uow, "a", "b"):
        register(uow, event, person_id)
    lowered = change(uow, event, capacity=2)
    assert (lowered.capacity, lowered.confirmed, lowered.seats_left) == (2, 2, 0)
    late = register(uow, event, *known(uow, "c"))
    assert late.status.value == "waitlisted"


# -- rescheduling --------------------------------------------------------------------
def test_moving_a_published_event_reschedules_it_for_everyone_registered(uow: Uow) -> None:
    event = published(uow, capacity=1)
    seated, waiting, gone = known(uow, "seated", "waiting", "gone")
    register(uow, event, seated)
    register(uow, event, waiting)
    leaving = register(uow, event, gone)
    ops.cancel_registration(uow, CancelRegistration(event.id, leaving.id))
    before = event_calendar(ops.get_event(uow, event.id))
    starts, ends = in_days(40, 7), in_days(41, 15)
    moved = change(uow, event, event.version, starts_at=starts, ends_at=ends, city="Grenoble")
    assert (moved.starts_at, moved.ends_at, moved.city, moved.version) == (
        starts,
        ends,
        "Grenoble",
        3,
    )
    assert uow.types()[-1] == "events.event.rescheduled"
    data = uow.events[-1].data
    assert data["person_ids"] == ["seated", "waiting"]  # everyone still registered
    assert sorted(data["changed"]) == ["city", "ends_at", "starts_at"]
    assert (data["starts_at"], data["city"]) == (starts.isoformat(), "Grenoble")
    previous = data["previous"]
    assert (previous["starts_at"], previous["ends_at"], previous["city"]) == (
        event.starts_at.isoformat(),
        event.ends_at.isoformat(),
        "Lyon",
    )
    old, new = (
        Calendar.from_ical(ics).walk("VEVENT")[0] for ics in (before, event_calendar(moved))
    )
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert new.decoded("DTSTART") == starts and new.decoded("DTEND") == ends
    assert str(new["LOCATION"]) == "Grenoble, FR"


def test_an_online_event_is_rescheduled_by_a_new_link_or_time_zone(uow: Uow) -> None:
    webinar = published(
        uow,
        kind=EventKind.WEBINAR,
        format=EventFormat.ONLINE,
        online_link="https://meet.example.org/a",
    )
    change(uow, webinar, online_link="https://meet.example.org/b")
    assert uow.types()[-1] == "events.event.rescheduled"
    assert uow.events[-1].data["previous"]["online_link"] == "https://meet.example.org/a"
    change(uow, ops.get_event(uow, webinar.id), timezone="Africa/Casablanca")
    assert uow.types()[-1] == "events.event.rescheduled"


def test_other_changes_and_a_draft_moving_are_updates(uow: Uow) -> None:
    event = published(uow)
    change(uow, event, description="Visits to three clusters.", registration_closes_at=in_days(20))
    assert uow.types()[-1] == "events.event.updated"
    assert sorted(uow.events[-1].data["changed"]) == ["description", "registration_closes_at"]
    draft = ops.create_event(uow, trip())
    moved = change(uow, draft, starts_at=in_days(50), ends_at=in_days(51))
    assert moved.status is EventStatus.DRAFT
    assert uow.types()[-1] == "events.event.updated"
    assert "person_ids" not in uow.events[-1].data


def test_a_published_event_cannot_move_into_the_past(uow: Uow) -> None:
    event = published(uow)
    with pytest.raises(InvalidInput) as refused:
        change(uow, event, starts_at=in_days(-1))
    assert refused.value.errors is not None and "starts_at" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:  # the rules of a new event hold too
        change(uow, event, ends_at=event.starts_at - timedelta(hours=1))
    assert refused.value.errors is not None and "ends_at" in refused.value.errors


def test_every_change_raises_the_calendar_sequence(uow: Uow) -> None:
    event = published(uow)
    sequences = []
    for title in ("One", "Two", "Three"):
        event = change(uow, event, title=title)
        sequences.append(
            int(Calendar.from_ical(event_calendar(event)).walk("VEVENT")[0]["SEQUENCE"])
        )
    assert sequences == [2, 3, 4]


# -- agendas and business trips ------------------------------------------------------
def test_an_agenda_is_kept_in_time_order_and_shown_in_the_data_and_the_calendar(
    uow: Uow,
) -> None:
    event = published(uow)
    visit = AgendaItem(event.starts_at + timedelta(hours=3), "  Visit of  the technopole", None)
    welcome = AgendaItem(event.starts_at, "Welcome", "  Amina   Benali ")
    changed = change(uow, event, agenda=(visit, welcome))
    assert changed.agenda == (
        AgendaItem(event.starts_at, "Welcome", "Amina Benali"),
        AgendaItem(event.starts_at + timedelta(hours=3), "Visit of the technopole", None),
    )
    assert uow.events[-1].data["agenda"] == [
        {"starts_at": event.starts_at.isoformat(), "title": "Welcome", "speaker": "Amina Benali"},
        {
            "starts_at": (event.starts_at + timedelta(hours=3)).isoformat(),
            "title": "Visit of the technopole",
            "speaker": None,
        },
    ]
    description = str(Calendar.from_ical(event_calendar(changed)).walk("VEVENT")[0]["DESCRIPTION"])
    local = event.starts_at.astimezone(ZoneInfo("Europe/Paris"))
    assert f"{local:%Y-%m-%d %H:%M} Welcome (Amina Benali)" in description
    assert "Visit of the technopole" in description


def test_an_agenda_item_must_start_while_the_event_runs(uow: Uow) -> None:
    event = published(uow)
    late = AgendaItem(event.ends_at, "After the end")
    with pytest.raises(InvalidInput) as refused:
        change(uow, event, agenda=(AgendaItem(event.starts_at, "Welcome"), late))
    assert refused.value.errors == {
        "agenda": {"1": {"starts_at": ["An agenda item must start while the event runs."]}}
    }


def test_moving_an_event_moves_its_agenda(uow: Uow) -> None:
    event = published(uow, agenda=(AgendaItem(in_days(30, 10), "Welcome"),))
    later = change(uow, event, starts_at=in_days(31, 8), ends_at=in_days(33, 16))
    assert later.agenda == (AgendaItem(in_days(31, 10), "Welcome"),)
    assert "agenda" in uow.events[-1].data["changed"]


def test_a_business_trip_carries_its_sectors_and_host(uow: Uow) -> None:
    event = published(
        uow, sectors=(" Agri   Food", "textile", "agri food", " "), host_organisation=" Lyon Hub "
    )
    assert (event.sectors, event.host_organisation) == (("agri food", "textile"), "Lyon Hub")
    data = uow.events[-1].data
    assert (data["sectors"], data["host_organisation"]) == (["agri food", "textile"], "Lyon Hub")
    changed = change(uow, event, sectors=("Mining",), host_organisation=None)
    assert (changed.sectors, changed.host_organisation) == (("mining",), None)


def test_only_a_business_trip_has_sectors_and_a_host(uow: Uow) -> None:
    with pytest.raises(InvalidInput) as refused:
        ops.create_event(uow, trip(kind=EventKind.WORKSHOP, sectors=("textile",)))
    assert refused.value.errors == {
        "sectors": ["Only a business trip has sectors and a host organisation."]
    }
    workshop = published(uow, kind=EventKind.WORKSHOP)
    with pytest.raises(InvalidInput):
        change(uow, workshop, host_organisation="Lyon Hub")
