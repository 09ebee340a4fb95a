"""What the events service does: each operation is one transaction with the events it causes.

Every change to an event's seats or waitlist first locks the event's row, so that
concurrent registrations and cancellations are applied one after the other: the
capacity is never exceeded and a freed seat goes to the first on the waitlist.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.events.adapters.repository import EventQuery, EventsRepository
from services.events.domain.model import (
    ACTIVE,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Registration,
    RegistrationStatus,
    now,
)
from shared.db import utc
from shared.errors import Conflict, InvalidInput, NotFound
from shared.logging import get_logger
from shared.uow import Transaction, UnitOfWork

log = get_logger(__name__)
PERSON_REMOVED = "The person was removed from the registry."
MEETINGS = uuid.UUID("6f1b3c1e-5a0e-4f57-9d5e-2b7d1c0a9e41")
"""Namespace of the ids of events that host mentoring meetings (one event per meeting)."""


class PersonNotKnownYet(LookupError):
    """A person the registry has not (yet) told this service about; retried."""

    def __init__(self, person_id: str) -> None:
        super().__init__(f"person {person_id!r} is not in the read copy yet")
        self.person_id = person_id


# -- reads ---------------------------------------------------------------------------
def get_event(uow: UnitOfWork, event_id: str) -> Event:
    with uow.read() as session:
        return _event(EventsRepository(session), event_id)


def list_events(uow: UnitOfWork, query: EventQuery, limit: int, after: Any) -> list[Event]:
    with uow.read() as session:
        return EventsRepository(session).list_events(query, limit, after)


def list_registrations(
    uow: UnitOfWork, event_id: str, status: str | None, limit: int, after: Any
) -> list[tuple[Registration, int | None]]:
    """A page of the event's registrations in the order they were made, each with its
    place on the waitlist (1 = next in line) when waitlisted."""
    with uow.read() as session:
        repo = EventsRepository(session)
        _event(repo, event_id)
        return repo.list_registrations(event_id, status, limit, after)


def get_registration(
    uow: UnitOfWork, event_id: str, registration_id: str
) -> tuple[Registration, int | None]:
    with uow.read() as session:
        return _placed(EventsRepository(session), event_id, registration_id)


# -- events --------------------------------------------------------------------------
def create_event(uow: UnitOfWork, data: dict[str, Any]) -> Event:
    with uow.begin() as tx:
        event = Event(
            kind=EventKind(data["kind"]),
            title=" ".join(data["title"].split()),
            format=EventFormat(data["format"]),
            starts_at=utc(data["starts_at"]),
            ends_at=utc(data["ends_at"]),
            timezone=data["timezone"],
            capacity=data.get("capacity"),
            city=data.get("city"),
            country=data["country"].upper() if data.get("country") else None,
            online_link=data.get("online_link"),
            registration_closes_at=utc(data.get("registration_closes_at")),
            description=data.get("description"),
        )
        EventsRepository(tx.session).add_event(event)
        tx.emit("events.event.created", subject=event.id, data=event_data(event))
        return event


def publish_event(uow: UnitOfWork, event_id: str) -> Event:
    with uow.begin() as tx:
        repo = EventsRepository(tx.session)
        event = _event(repo, event_id, lock=True).publish(now())
        repo.save_event(event)
        tx.emit("events.event.published", subject=event.id, data=event_data(event))
        return event


def cancel_event(uow: UnitOfWork, event_id: str, reason: str | None) -> Event:
    """Cancel the event and every live registration to it."""
    with uow.begin() as tx:
        repo = EventsRepository(tx.session)
        event = _event(repo, event_id, lock=True)
        at = now()
        cancelled = event.cancel(at)
        person_ids = []
        for registration in repo.registrations_of(event.id, ACTIVE):
            repo.save_registration(registration.cancel(at, reason or "The event was cancelled."))
            person_ids.append(registration.person_id)
        repo.save_event(cancelled)
        tx.emit(
            "events.event.cancelled",
            subject=event.id,
            data={**event_data(cancelled), "reason": reason, "person_ids": person_ids},
        )
        return cancelled


def complete_event(uow: UnitOfWork, event_id: str) -> Event:
    """Close an event that has ended: confirmed registrations nobody marked attended
    become no-shows, the waitlist ends (``events.event.completed``)."""
    with uow.begin() as tx:
        repo = EventsRepository(tx.session)
        event = _event(repo, event_id, lock=True)
        at = now()
        completed = event.complete(at)
        outcome: dict[str, list[str]] = {"attended": [], "no_show": [], "waitlist_ended": []}
        for registration in repo.registrations_of(event.id):
            closed = registration.close(at)
            if closed is not registration:
                repo.save_registration(closed)
            if registration.status is RegistrationStatus.WAITLISTED:
                outcome["waitlist_ended"].append(closed.person_id)
            elif closed.status.value in outcome:
                outcome[closed.status.value].append(closed.person_id)
        repo.save_event(completed)
        tx.emit(
            "events.event.completed",
            subject=event.id,
            data={**event_data(completed), **outcome},
        )
        return completed


# -- registrations -------------------------------------------------------------------
def register(uow: UnitOfWork, event_id: str, person_id: str) -> tuple[Registration, int | None]:
    """Give the person a seat, or a place on the waitlist when the event is full."""
    with uow.begin() as tx:
        repo = EventsRepository(tx.session)
        # locks in the order person, then event, like ``forget_person``
        person = repo.people_locked([person_id]).get(person_id)
        event = _event(repo, event_id, lock=True)
        if person is None or person.removed:
            raise InvalidInput(
                f"No person with id {person_id!r} is known to the events service.",
                errors={"person_id": ["Unknown person."]},
            )
        existing = repo.active_registration(event.id, person_id)
        if existing is not None:
            raise Conflict(
                f"The person is already registered ({existing.status}) as {existing.id}."
            )
        event, registration, position = _admit(tx, repo, event, person_id)
        repo.save_event(event)
        return registration, position


def host_meeting(tx: Transaction, meeting: Mapping[str, Any], at: datetime) -> Event | None:
    """mentoring.meeting.scheduled: host the meeting as a published online event with
    every participant registered (each ``events.registration.confirmed`` is their
    invitation). Hosted already: participants added since are registered; a change of
    title or time is not applied (there is no event for it yet) and is logged. None if
    it was not hosted because it has started.

    A participant not yet in the read copy raises :class:`PersonNotKnownYet`, so the
    consumer retries later; a removed participant is left out.
    """
    repo = EventsRepository(tx.session)
    person_ids = list(dict.fromkeys(meeting["person_ids"]))
    known = repo.people_locked(person_ids)  # people first, then the event
    missing = [person_id for person_id in person_ids if person_id not in known]
    if missing:
        raise PersonNotKnownYet(missing[0])
    event_id = str(uuid.uuid5(MEETINGS, meeting["id"]))
    event = repo.event(event_id, lock=True)
    if event is None:
        event = _new_meeting_event(meeting, event_id)
        if event.starts_at <= at:
            log.warning("meeting not hosted: it has started", meeting=meeting["id"])
            return None
        repo.add_event(event)
        tx.emit("events.event.created", subject=event.id, data=event_data(event))
        event = event.publish(at)
        tx.emit("events.event.published", subject=event.id, data=event_data(event))
        registered: set[str] = set()
    else:
        if event != replace(_new_meeting_event(meeting, event_id), **_kept(event)):
            log.warning(
                "meeting hosted already; its changes are not applied", meeting=meeting["id"]
            )
        if event.status is not EventStatus.PUBLISHED or at >= event.closes_at:
            log.warning("meeting not updated: registration has closed", meeting=meeting["id"])
            return None
        registered = {r.person_id for r in repo.registrations_of(event.id, ACTIVE)}
    for person_id in person_ids:
        if not known[person_id].removed and person_id not in registered:
            event, _, _ = _admit(tx, repo, event, person_id)
    repo.save_event(event)
    return event


def _new_meeting_event(meeting: Mapping[str, Any], event_id: str) -> Event:
    return Event(
        id=event_id,
        kind=EventKind.JOINT_MEETING,
        title=" ".join(meeting["title"].split()),
        format=EventFormat.ONLINE,
        starts_at=utc(datetime.fromisoformat(meeting["starts_at"])),
        ends_at=utc(datetime.fromisoformat(meeting["ends_at"])),
        timezone=meeting["timezone"],
        online_link=meeting["online_link"],
        description=f"Meeting of mentoring programme {meeting['programme_id']}.",
    )


def _kept(event: Event) -> dict[str, Any]:
    """What a hosted event has that the meeting message does not decide."""
    fields = ("status", "confirmed", "registrations", "version", "created_at", "updated_at")
    return {name: getattr(event, name) for name in fields}


def _admit(
    tx: Transaction, repo: EventsRepository, event: Event, person_id: str
) -> tuple[Event, Registration, int | None]:
    """Register the person to the (locked) event: a seat or the waitlist."""
    admitted, status = event.admit(now())
    registration = Registration(
        event_id=event.id,
        person_id=person_id,
        status=status,
        sequence=admitted.registrations,
    )
    repo.add_registration(registration)
    _, position = _placed(repo, event.id, registration.id)
    tx.emit(
        f"events.registration.{status.value}",
        subject=registration.id,
        data=registration_data(registration, admitted, position),
    )
    return admitted, registration, position


def cancel_registration(
    uow: UnitOfWork, event_id: str, registration_id: str, reason: str | None
) -> Registration:
    """Cancel a registration; a seat it held goes to the first on the waitlist."""
    with uow.begin() as tx:
        repo = EventsRepository(tx.session)
        event = _event(repo, event_id, lock=True)
        registration = _registration(repo, event.id, registration_id)
        event.check_withdrawal(now())
        return _cancel(tx, repo, event, registration, reason)


def attend(uow: UnitOfWork, event_id: str, registration_id: str) -> Registration:
    """Record that a confirmed person came (``events.registration.attended``)."""
    with uow.begin() as tx:
        repo = EventsRepository(tx.session)
        event = _event(repo, event_id, lock=True)
        registration = _registration(repo, event.id, registration_id)
        at = now()
        event.check_attendance(at)
        attended = registration.attend(at)
        repo.save_registration(attended)
        tx.emit(
            "events.registration.attended",
            subject=attended.id,
            data=registration_data(attended, event, None),
        )
        return attended


def forget_person(tx: Transaction, person_id: str, at: datetime) -> None:
    """The registry removed the person: drop their data, end their registrations.

    The tombstone is written first: it locks the person's row, so a registration of
    theirs in flight either committed before (and is cancelled here) or waits and then
    finds them removed. Events are then locked in id order.
    """
    repo = EventsRepository(tx.session)
    repo.forget_person(person_id, at)
    for event_id in repo.events_with_active_registrations_of(person_id):
        event = _event(repo, event_id, lock=True)
        registration = repo.active_registration(event_id, person_id)
        if registration is not None:
            _cancel(tx, repo, event, registration, PERSON_REMOVED)


def _cancel(
    tx: Transaction,
    repo: EventsRepository,
    event: Event,
    registration: Registration,
    reason: str | None,
) -> Registration:
    at = now()
    cancelled = registration.cancel(at, reason)
    repo.save_registration(cancelled)
    event = event.release(registration)
    tx.emit(
        "events.registration.cancelled",
        subject=cancelled.id,
        data={**registration_data(cancelled, event, None), "reason": reason},
    )
    if registration.holds_seat:
        filled = event.fill_seat(at)
        first = repo.first_waitlisted(event.id) if filled else None
        if filled and first:
            promoted = first.promote(at)
            repo.save_registration(promoted)
            event = filled
            tx.emit(
                "events.registration.promoted",
                subject=promoted.id,
                data=registration_data(promoted, event, None),
            )
    repo.save_event(event)
    return cancelled


# -- event data ----------------------------------------------------------------------
def event_summary(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "title": event.title,
        "format": event.format.value,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "timezone": event.timezone,
        "city": event.city,
        "country": event.country,
        "online_link": event.online_link,
    }


def event_data(event: Event) -> dict[str, Any]:
    return {
        **event_summary(event),
        "status": event.status.value,
        "capacity": event.capacity,
        "registration_closes_at": event.registration_closes_at,
    }


def registration_data(
    registration: Registration, event: Event, position: int | None
) -> dict[str, Any]:
    return {
        "id": registration.id,
        "event_id": registration.event_id,
        "person_id": registration.person_id,
        "status": registration.status.value,
        "waitlist_position": position,
        "event": event_summary(event),
    }


# -- helpers -------------------------------------------------------------------------
def _event(repo: EventsRepository, event_id: str, *, lock: bool = False) -> Event:
    event = repo.event(event_id, lock=lock)
    if event is None:
        raise NotFound(f"No event with id {event_id!r}.")
    return event


def _placed(
    repo: EventsRepository, event_id: str, registration_id: str
) -> tuple[Registration, int | None]:
    """The registration and its place on the waitlist, or a 404."""
    found = repo.placed(event_id, registration_id)
    if found is None:
        raise NotFound(f"No registration {registration_id!r} to event {event_id!r}.")
    return found


def _registration(repo: EventsRepository, event_id: str, registration_id: str) -> Registration:
    return _placed(repo, event_id, registration_id)[0]
