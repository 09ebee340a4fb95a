"""What the events service does: each operation is one unit of work with the events it causes.

Use cases take the unit of work and a command (``domain/commands.py``); those driven by
a received event take the handler's open transaction. They see the data only through
the ports (``tx.events``, ``tx.registrations``, ``tx.people``) and ``tx.emit``.

Every change to an event's seats or waitlist first locks the event's row, so that
concurrent registrations and cancellations are applied one after the other: the
capacity is never exceeded and a freed seat goes to the first on the waitlist.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.events.domain.commands import (
    Attend,
    CancelEvent,
    CancelRegistration,
    CompleteEvent,
    CreateEvent,
    ForgetPerson,
    HostMeeting,
    KeepPeople,
    PublishEvent,
    Register,
)
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
from services.events.domain.ports import EventQuery, EventsTx, EventsUnitOfWork, Placed
from shared.db import utc
from shared.errors import Conflict, InvalidInput, NotFound
from shared.logging import get_logger

log = get_logger(__name__)
PERSON_REMOVED = "The person was removed from the registry."
MEETINGS = uuid.UUID("6f1b3c1e-5a0e-4f57-9d5e-2b7d1c0a9e41")
"""Namespace of the ids of events that host mentoring meetings (one event per meeting)."""


class PersonNotKnownYet(LookupError):
    """A person the registry has not (yet) told this service about; retried.

    Not a ``PlatformError``: the consumer retries it later, rather than treating it as
    a refusal."""

    def __init__(self, person_id: str) -> None:
        super().__init__(f"person {person_id!r} is not in the read copy yet")
        self.person_id = person_id


def hosted_event_id(meeting_id: str) -> str:
    """The id of the event that hosts a mentoring meeting (the same for every replay)."""
    return str(uuid.uuid5(MEETINGS, meeting_id))


# -- reads ---------------------------------------------------------------------------
def get_event(uow: EventsUnitOfWork, event_id: str) -> Event:
    with uow.read() as tx:
        return _event(tx, event_id)


def list_events(
    uow: EventsUnitOfWork, query: EventQuery, limit: int, after: tuple[datetime, str] | None
) -> list[Event]:
    """A page of events by (start, id), after the key ``after`` when given."""
    with uow.read() as tx:
        return tx.events.find(query, limit, after)


def list_registrations(
    uow: EventsUnitOfWork,
    event_id: str,
    status: RegistrationStatus | None,
    limit: int,
    after: int | None,
) -> list[Placed]:
    """A page of the event's registrations in the order they were made (after sequence
    ``after`` when given), each with its place on the waitlist (1 = next in line) when
    waitlisted."""
    with uow.read() as tx:
        _event(tx, event_id)
        return tx.registrations.find(event_id, status, limit, after)


def get_registration(uow: EventsUnitOfWork, event_id: str, registration_id: str) -> Placed:
    with uow.read() as tx:
        return _placed(tx, event_id, registration_id)


# -- events --------------------------------------------------------------------------
def create_event(uow: EventsUnitOfWork, command: CreateEvent) -> Event:
    """A new draft (``events.event.created``)."""
    with uow.begin() as tx:
        event = Event(
            kind=command.kind,
            title=" ".join(command.title.split()),
            format=command.format,
            starts_at=utc(command.starts_at),
            ends_at=utc(command.ends_at),
            timezone=command.timezone,
            capacity=command.capacity,
            city=command.city,
            country=command.country.upper() if command.country else None,
            online_link=command.online_link,
            registration_closes_at=utc(command.registration_closes_at),
            description=command.description,
        )
        tx.events.add(event)
        tx.emit("events.event.created", subject=event.id, data=event_data(event))
        return event


def publish_event(uow: EventsUnitOfWork, command: PublishEvent) -> Event:
    """Open the draft for registration (``events.event.published``)."""
    with uow.begin() as tx:
        event = _event(tx, command.event_id, lock=True).publish(now())
        tx.events.save(event)
        tx.emit("events.event.published", subject=event.id, data=event_data(event))
        return event


def cancel_event(uow: EventsUnitOfWork, command: CancelEvent) -> Event:
    """Cancel the event and every live registration to it (``events.event.cancelled``,
    naming everyone whose registration it ended)."""
    with uow.begin() as tx:
        event = _event(tx, command.event_id, lock=True)
        at = now()
        cancelled = event.cancel(at)
        reason = command.reason
        person_ids = []
        for registration in tx.registrations.of_event(event.id, ACTIVE):
            tx.registrations.save(registration.cancel(at, reason or "The event was cancelled."))
            person_ids.append(registration.person_id)
        tx.events.save(cancelled)
        tx.emit(
            "events.event.cancelled",
            subject=event.id,
            data={**event_data(cancelled), "reason": reason, "person_ids": person_ids},
        )
        return cancelled


def complete_event(uow: EventsUnitOfWork, command: CompleteEvent) -> Event:
    """Close an event that has ended: confirmed registrations nobody marked attended
    become no-shows, the waitlist ends (``events.event.completed``)."""
    with uow.begin() as tx:
        event = _event(tx, command.event_id, lock=True)
        at = now()
        completed = event.complete(at)
        outcome: dict[str, list[str]] = {"attended": [], "no_show": [], "waitlist_ended": []}
        for registration in tx.registrations.of_event(event.id):
            closed = registration.close(at)
            if closed is not registration:
                tx.registrations.save(closed)
            if registration.status is RegistrationStatus.WAITLISTED:
                outcome["waitlist_ended"].append(closed.person_id)
            elif closed.status.value in outcome:
                outcome[closed.status.value].append(closed.person_id)
        tx.events.save(completed)
        tx.emit(
            "events.event.completed",
            subject=event.id,
            data={**event_data(completed), **outcome},
        )
        return completed


# -- registrations -------------------------------------------------------------------
def register(uow: EventsUnitOfWork, command: Register) -> Placed:
    """Give the person a seat, or a place on the waitlist when the event is full
    (``events.registration.confirmed`` / ``.waitlisted``)."""
    person_id = command.person_id
    with uow.begin() as tx:
        # locks in the order person, then event, like ``forget_person``
        person = tx.people.locked([person_id]).get(person_id)
        event = _event(tx, command.event_id, lock=True)
        if person is None or person.removed:
            raise InvalidInput(
                f"No person with id {person_id!r} is known to the events service.",
                errors={"person_id": ["Unknown person."]},
            )
        existing = tx.registrations.active(event.id, person_id)
        if existing is not None:
            raise Conflict(
                f"The person is already registered ({existing.status}) as {existing.id}."
            )
        event, registration, position = _admit(tx, event, person_id)
        tx.events.save(event)
        return registration, position


def cancel_registration(uow: EventsUnitOfWork, command: CancelRegistration) -> Registration:
    """Cancel a registration (``events.registration.cancelled``); a seat it held goes to
    the first on the waitlist (``events.registration.promoted``)."""
    with uow.begin() as tx:
        event = _event(tx, command.event_id, lock=True)
        registration = _registration(tx, event.id, command.registration_id)
        event.check_withdrawal(now())
        return _cancel(tx, event, registration, command.reason)


def attend(uow: EventsUnitOfWork, command: Attend) -> Registration:
    """Record that a confirmed person came (``events.registration.attended``)."""
    with uow.begin() as tx:
        event = _event(tx, command.event_id, lock=True)
        registration = _registration(tx, event.id, command.registration_id)
        at = now()
        event.check_attendance(at)
        attended = registration.attend(at)
        tx.registrations.save(attended)
        tx.emit(
            "events.registration.attended",
            subject=attended.id,
            data=registration_data(attended, event, None),
        )
        return attended


# -- driven by the registry's and mentoring's events (in the handler's transaction) ---
def keep_people(tx: EventsTx, command: KeepPeople) -> None:
    """registry.person.registered / .updated: keep the newest copy of each person."""
    tx.people.keep_newest(command.changes)


def forget_person(tx: EventsTx, command: ForgetPerson) -> None:
    """The registry removed the person: drop their data, end their registrations.

    The tombstone is written first: it locks the person's row, so a registration of
    theirs in flight either committed before (and is cancelled here) or waits and then
    finds them removed. Events are then locked in id order.
    """
    person_id = command.person_id
    tx.people.forget(person_id, command.at)
    for event_id in tx.registrations.active_event_ids_of(person_id):
        event = _event(tx, event_id, lock=True)
        registration = tx.registrations.active(event_id, person_id)
        if registration is not None:
            _cancel(tx, event, registration, PERSON_REMOVED)


def host_meeting(tx: EventsTx, command: HostMeeting) -> Event | None:
    """mentoring.meeting.scheduled: host the meeting as a published online event with
    every participant registered (each ``events.registration.confirmed`` is their
    invitation). Hosted already: participants added since are registered; a change of
    title or time is not applied (there is no event for it yet) and is logged. None if
    it was not hosted because it has started.

    A participant not yet in the read copy raises :class:`PersonNotKnownYet`, so the
    consumer retries later; a removed participant is left out.
    """
    at = command.at
    person_ids = list(dict.fromkeys(command.person_ids))
    known = tx.people.locked(person_ids)  # people first, then the event
    missing = [person_id for person_id in person_ids if person_id not in known]
    if missing:
        raise PersonNotKnownYet(missing[0])
    event_id = hosted_event_id(command.meeting_id)
    event = tx.events.get(event_id, lock=True)
    if event is None:
        event = _new_meeting_event(command, event_id)
        if event.starts_at <= at:
            log.warning("meeting not hosted: it has started", meeting=command.meeting_id)
            return None
        tx.events.add(event)
        tx.emit("events.event.created", subject=event.id, data=event_data(event))
        event = event.publish(at)
        tx.emit("events.event.published", subject=event.id, data=event_data(event))
        registered: set[str] = set()
    else:
        if event != replace(_new_meeting_event(command, event_id), **_kept(event)):
            log.warning(
                "meeting hosted already; its changes are not applied",
                meeting=command.meeting_id,
            )
        if event.status is not EventStatus.PUBLISHED or at >= event.closes_at:
            log.warning("meeting not updated: registration has closed", meeting=command.meeting_id)
            return None
        registered = {r.person_id for r in tx.registrations.of_event(event.id, ACTIVE)}
    for person_id in person_ids:
        if not known[person_id].removed and person_id not in registered:
            event, _, _ = _admit(tx, event, person_id)
    tx.events.save(event)
    return event


def _new_meeting_event(meeting: HostMeeting, event_id: str) -> Event:
    return Event(
        id=event_id,
        kind=EventKind.JOINT_MEETING,
        title=" ".join(meeting.title.split()),
        format=EventFormat.ONLINE,
        starts_at=utc(meeting.starts_at),
        ends_at=utc(meeting.ends_at),
        timezone=meeting.timezone,
        online_link=meeting.online_link,
        description=f"Meeting of mentoring programme {meeting.programme_id}.",
    )


def _kept(event: Event) -> dict[str, Any]:
    """What a hosted event has that the meeting message does not decide."""
    fields = ("status", "confirmed", "registrations", "version", "created_at", "updated_at")
    return {name: getattr(event, name) for name in fields}


# -- seats and the waitlist (the event is locked) -------------------------------------
def _admit(tx: EventsTx, event: Event, person_id: str) -> tuple[Event, Registration, int | None]:
    """Register the person to the (locked) event: a seat or the waitlist."""
    admitted, status = event.admit(now())
    registration = Registration(
        event_id=event.id,
        person_id=person_id,
        status=status,
        sequence=admitted.registrations,
    )
    tx.registrations.add(registration)
    _, position = _placed(tx, event.id, registration.id)
    tx.emit(
        f"events.registration.{status.value}",
        subject=registration.id,
        data=registration_data(registration, admitted, position),
    )
    return admitted, registration, position


def _cancel(
    tx: EventsTx, event: Event, registration: Registration, reason: str | None
) -> Registration:
    at = now()
    cancelled = registration.cancel(at, reason)
    tx.registrations.save(cancelled)
    event = event.release(registration)
    tx.emit(
        "events.registration.cancelled",
        subject=cancelled.id,
        data={**registration_data(cancelled, event, None), "reason": reason},
    )
    if registration.holds_seat:
        filled = event.fill_seat(at)
        first = tx.registrations.first_waitlisted(event.id) if filled else None
        if filled and first:
            promoted = first.promote(at)
            tx.registrations.save(promoted)
            event = filled
            tx.emit(
                "events.registration.promoted",
                subject=promoted.id,
                data=registration_data(promoted, event, None),
            )
    tx.events.save(event)
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
def _event(tx: EventsTx, event_id: str, *, lock: bool = False) -> Event:
    event = tx.events.get(event_id, lock=lock)
    if event is None:
        raise NotFound(f"No event with id {event_id!r}.")
    return event


def _placed(tx: EventsTx, event_id: str, registration_id: str) -> Placed:
    """The registration and its place on the waitlist, or NotFound."""
    found = tx.registrations.placed(event_id, registration_id)
    if found is None:
        raise NotFound(f"No registration {registration_id!r} to event {event_id!r}.")
    return found


def _registration(tx: EventsTx, event_id: str, registration_id: str) -> Registration:
    return _placed(tx, event_id, registration_id)[0]
