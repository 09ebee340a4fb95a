"""What the events service does: each operation is one unit of work with the events it causes.

Use cases take the unit of work and a command (``domain/commands.py``); those driven by
a received event take the handler's open transaction. They see the data only through
the ports (``tx.events``, ``tx.registrations``, ``tx.people``, ``tx.clusters``,
``tx.feeds``) and ``tx.emit``.

Every change to an event's seats or waitlist first locks the event's row, so that
concurrent registrations, cancellations and capacity changes are applied one after the
other: the capacity is never exceeded and a freed seat goes to the first on the waitlist.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.events.domain.commands import (
    Attend,
    CancelEvent,
    CancelMeeting,
    CancelRegistration,
    CloseCalendarFeed,
    CompleteEvent,
    CreateEvent,
    ForgetCluster,
    ForgetPerson,
    HostMeeting,
    KeepClusters,
    KeepPeople,
    MoveMeeting,
    OpenCalendarFeed,
    PublishEvent,
    Register,
    UpdateEvent,
)
from services.events.domain.model import (
    ACTIVE,
    AgendaItem,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    PersonCopy,
    Registration,
    RegistrationStatus,
    now,
    sector_names,
    tidy,
)
from services.events.domain.ports import (
    LIVE_OR_DONE,
    EventQuery,
    EventsTx,
    EventsUnitOfWork,
    OwnKey,
    OwnRegistration,
    Participant,
    ParticipantQuery,
    Placed,
)
from shared.db import utc
from shared.errors import Conflict, InvalidInput, NotFound, PlatformError, PreconditionFailed
from shared.logging import get_logger

log = get_logger(__name__)
PERSON_REMOVED = "The person was removed from the registry."
MEETINGS = uuid.UUID("6f1b3c1e-5a0e-4f57-9d5e-2b7d1c0a9e41")
"""Namespace of the ids of events that host mentoring meetings (one event per meeting)."""
EXPORT_PAGE = 500
"""Rows read at a time when a whole participant list is exported (CSV)."""


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
    query: ParticipantQuery,
    limit: int,
    after: int | None,
) -> list[Participant]:
    """A page of the event's registrations matching ``query``, in the order they were
    made (after sequence ``after`` when given), each with its place on the waitlist
    (1 = next in line) when waitlisted and who it is (name, email, country, cluster)."""
    with uow.read() as tx:
        _event(tx, event_id)
        return tx.registrations.participants(event_id, query, limit, after)


def export_registrations(
    uow: EventsUnitOfWork, event_id: str, query: ParticipantQuery
) -> list[Participant]:
    """Every registration of the event matching ``query``, as :func:`list_registrations`
    pages them, read in one go (the CSV export)."""
    with uow.read() as tx:
        _event(tx, event_id)
        found: list[Participant] = []
        after = None
        while True:
            page = tx.registrations.participants(event_id, query, EXPORT_PAGE, after)
            found += page
            if len(page) < EXPORT_PAGE:
                return found
            after = page[-1].registration.sequence


def own_registrations(
    uow: EventsUnitOfWork, person_id: str, at: datetime, limit: int, after: OwnKey | None
) -> list[OwnRegistration]:
    """A page of the person's registrations with their events: events not over ``at``
    first (soonest first), then past ones (latest first); ``at`` is also what the
    caller's cursor keys say "past" by."""
    with uow.read() as tx:
        return tx.registrations.of_person(person_id, at, limit, after)


def own_calendar(uow: EventsUnitOfWork, person_id: str) -> list[Event]:
    """The events the person holds (or used) a seat at, by start."""
    with uow.read() as tx:
        return tx.registrations.events_of(person_id, LIVE_OR_DONE)


def feed_calendar(uow: EventsUnitOfWork, secret: str) -> list[Event]:
    """The calendar of the person whose feed has this secret; NotFound if none has (an
    unknown or revoked feed)."""
    with uow.read() as tx:
        person_id = tx.feeds.person_of(_secret_hash(secret))
        if person_id is None:
            raise NotFound("No calendar feed at this address (it may have been revoked).")
        return tx.registrations.events_of(person_id, LIVE_OR_DONE)


# -- a person's calendar feed --------------------------------------------------------
def open_calendar_feed(uow: EventsUnitOfWork, command: OpenCalendarFeed) -> tuple[str, datetime]:
    """A new secret for the person's feed (their previous feed stops working), and when
    it was made. Only its SHA-256 is stored: the secret is in the answer and nowhere
    else."""
    secret, at = secrets.token_urlsafe(32), now()
    with uow.begin() as tx:
        tx.feeds.put(command.person_id, _secret_hash(secret), at)
    return secret, at


def close_calendar_feed(uow: EventsUnitOfWork, command: CloseCalendarFeed) -> None:
    """Revoke the person's feed: its address answers 404 from now on."""
    with uow.begin() as tx:
        tx.feeds.remove(command.person_id)


def _secret_hash(secret: str) -> str:
    """A feed secret's SHA-256 (hex); 256 random bits need no slow hash."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def get_registration(uow: EventsUnitOfWork, event_id: str, registration_id: str) -> Placed:
    with uow.read() as tx:
        return _placed(tx, event_id, registration_id)


# -- events --------------------------------------------------------------------------
def create_event(uow: EventsUnitOfWork, command: CreateEvent) -> Event:
    """A new draft (``events.event.created``)."""
    with uow.begin() as tx:
        event = Event(
            kind=command.kind,
            format=command.format,
            **_tidied(
                {
                    "title": command.title,
                    "starts_at": command.starts_at,
                    "ends_at": command.ends_at,
                    "timezone": command.timezone,
                    "capacity": command.capacity,
                    "city": command.city,
                    "country": command.country,
                    "online_link": command.online_link,
                    "registration_closes_at": command.registration_closes_at,
                    "description": command.description,
                    "agenda": command.agenda,
                    "sectors": command.sectors,
                    "host_organisation": command.host_organisation,
                }
            ),
        )
        tx.events.add(event)
        tx.emit("events.event.created", subject=event.id, data=event_data(event))
        return event


def update_event(uow: EventsUnitOfWork, command: UpdateEvent) -> Event:
    """Change an event (a draft, or a published event that has not started) as the
    caller last read it (``expected_version``, else 412). A published event's new time
    or place emits ``events.event.rescheduled`` (old and new values, everyone still
    registered); any other change ``events.event.updated``; no change, nothing. A
    capacity raised gives the new seats to the waitlist in order, in the same
    transaction (one ``events.registration.promoted`` each)."""
    with uow.begin() as tx:
        event = _event(tx, command.event_id, lock=True)
        if command.expected_version is not None and command.expected_version != event.version:
            raise PreconditionFailed(
                "The event has changed since it was read (If-Match): read it again."
            )
        return _change(tx, event, _tidied(command.changes), now())


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
        return _cancel_event(tx, event, command.reason, now())


def _cancel_event(tx: EventsTx, event: Event, reason: str | None, at: datetime) -> Event:
    cancelled = event.cancel(at)
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
    tx.feeds.remove(person_id)
    for event_id in tx.registrations.active_event_ids_of(person_id):
        event = _event(tx, event_id, lock=True)
        registration = tx.registrations.active(event_id, person_id)
        if registration is not None:
            _cancel(tx, event, registration, PERSON_REMOVED)


def keep_clusters(tx: EventsTx, command: KeepClusters) -> None:
    """registry.cluster.registered / .updated: keep the newest copy of each cluster."""
    tx.clusters.keep_newest(command.changes)


def forget_cluster(tx: EventsTx, command: ForgetCluster) -> None:
    """registry.cluster.removed: the copy is marked removed (a late update cannot bring
    it back) and keeps its name. Registrations are not touched: a person stays
    registered when their cluster leaves the registry (or is deactivated)."""
    tx.clusters.forget(command.cluster_id, command.name, command.at)


def host_meeting(tx: EventsTx, command: HostMeeting) -> Event | None:
    """mentoring.meeting.scheduled: host the meeting as a published online event with
    every participant registered (each ``events.registration.confirmed`` is their
    invitation). Hosted already: participants added since are registered; a change of
    title or time is not applied (``mentoring.meeting.rescheduled`` does that) and is
    logged. None if it was not hosted because it has started.

    A participant not yet in the read copy raises :class:`PersonNotKnownYet`, so the
    consumer retries later; a removed participant is left out.
    """
    known = _participants(tx, command)  # people first, then the event
    event = tx.events.get(hosted_event_id(command.meeting_id), lock=True)
    if event is None:
        return _host(tx, command, known)
    if _meeting_changes(event, command):
        log.warning(
            "meeting hosted already; its changes are not applied", meeting=command.meeting_id
        )
    return _register_added(tx, event, command, known)


def move_meeting(tx: EventsTx, command: MoveMeeting) -> Event | None:
    """mentoring.meeting.rescheduled: the hosted event follows the meeting (its title,
    times, zone and link; its agenda moves along), with ``events.event.rescheduled``;
    participants added since are registered. A meeting not hosted yet is hosted as it
    is now. One that cannot follow (it has started, ended or been cancelled here, or
    would move into the past) is logged and left: retrying would not change that.
    Handled again, the same move changes nothing."""
    meeting = command.meeting
    known = _participants(tx, meeting)
    event = tx.events.get(hosted_event_id(meeting.meeting_id), lock=True)
    if event is None:
        return _host(tx, meeting, known)
    try:
        event = _change(tx, event, _tidied(_meeting_changes(event, meeting)), meeting.at)
    except PlatformError as refused:
        log.warning(
            "meeting move not applied to its event",
            meeting=meeting.meeting_id,
            reason=refused.detail,
        )
        return None
    return _register_added(tx, event, meeting, known)


def cancel_meeting(tx: EventsTx, command: CancelMeeting) -> Event | None:
    """mentoring.meeting.cancelled: the hosted event is cancelled with every registration
    (``events.event.cancelled``). Not hosted, or cancelled already: nothing to do; one
    that has started is logged and left."""
    event = tx.events.get(hosted_event_id(command.meeting_id), lock=True)
    if event is None or event.status is EventStatus.CANCELLED:
        return None
    try:
        return _cancel_event(tx, event, command.reason, command.at)
    except PlatformError as refused:
        log.warning(
            "meeting cancellation not applied to its event",
            meeting=command.meeting_id,
            reason=refused.detail,
        )
        return None


def _participants(tx: EventsTx, meeting: HostMeeting) -> dict[str, PersonCopy]:
    """The meeting's participants, share-locked (people before events); one the read
    copy does not know yet raises :class:`PersonNotKnownYet`."""
    known = tx.people.locked(meeting.person_ids)
    missing = [person_id for person_id in meeting.person_ids if person_id not in known]
    if missing:
        raise PersonNotKnownYet(missing[0])
    return known


def _host(tx: EventsTx, meeting: HostMeeting, known: dict[str, PersonCopy]) -> Event | None:
    """A new published event for the meeting, every known participant registered."""
    event = _new_meeting_event(meeting, hosted_event_id(meeting.meeting_id))
    if event.starts_at <= meeting.at:
        log.warning("meeting not hosted: it has started", meeting=meeting.meeting_id)
        return None
    tx.events.add(event)
    tx.emit("events.event.created", subject=event.id, data=event_data(event))
    event = event.publish(meeting.at)
    tx.emit("events.event.published", subject=event.id, data=event_data(event))
    return _register(tx, event, meeting.person_ids, known, registered=set())


def _register_added(
    tx: EventsTx, event: Event, meeting: HostMeeting, known: dict[str, PersonCopy]
) -> Event | None:
    """Register the meeting's participants the hosted event does not have yet."""
    if event.status is not EventStatus.PUBLISHED or meeting.at >= event.closes_at:
        log.warning("meeting not updated: registration has closed", meeting=meeting.meeting_id)
        return None
    registered = {r.person_id for r in tx.registrations.of_event(event.id, ACTIVE)}
    return _register(tx, event, meeting.person_ids, known, registered)


def _register(
    tx: EventsTx,
    event: Event,
    person_ids: Iterable[str],
    known: dict[str, PersonCopy],
    registered: set[str],
) -> Event:
    for person_id in dict.fromkeys(person_ids):
        if not known[person_id].removed and person_id not in registered:
            event, _, _ = _admit(tx, event, person_id)
    tx.events.save(event)
    return event


def _new_meeting_event(meeting: HostMeeting, event_id: str) -> Event:
    return Event(
        id=event_id,
        kind=EventKind.JOINT_MEETING,
        title=tidy(meeting.title),
        format=EventFormat.ONLINE,
        starts_at=utc(meeting.starts_at),
        ends_at=utc(meeting.ends_at),
        timezone=meeting.timezone,
        online_link=meeting.online_link,
        description=f"Meeting of mentoring programme {meeting.programme_id}.",
    )


def _meeting_changes(event: Event, meeting: HostMeeting) -> dict[str, Any]:
    """What of the meeting (title, times, zone, link) differs from its hosted event; the
    agenda moves with the start (items that no longer fit are dropped)."""
    wanted = {
        "title": tidy(meeting.title),
        "starts_at": utc(meeting.starts_at),
        "ends_at": utc(meeting.ends_at),
        "timezone": meeting.timezone,
        "online_link": meeting.online_link,
    }
    changes: dict[str, Any] = {k: v for k, v in wanted.items() if getattr(event, k) != v}
    if event.agenda and "starts_at" in changes:
        shift = changes["starts_at"] - event.starts_at
        moved = (replace(item, starts_at=item.starts_at + shift) for item in event.agenda)
        start, end = wanted["starts_at"], wanted["ends_at"]
        changes["agenda"] = tuple(item for item in moved if start <= item.starts_at < end)
    return changes


# -- changing an event (the event is locked) -----------------------------------------
def _change(tx: EventsTx, event: Event, changes: Mapping[str, Any], at: datetime) -> Event:
    """Apply the changes, fill new seats from the waitlist, emit what happened."""
    updated, changed = event.change(changes, at)
    if not changed:
        return event
    promoted = []
    while (filled := updated.fill_seat(at)) is not None:
        first = tx.registrations.first_waitlisted(event.id)
        if first is None:
            break
        promotion = first.promote(at)
        tx.registrations.save(promotion)
        promoted.append(promotion)
        updated = filled
    tx.events.save(updated)
    data = {**event_data(updated), "changed": list(changed)}
    if event.rescheduled_by(changed):
        live = tx.registrations.of_event(event.id, ACTIVE)
        data |= {"previous": event.place, "person_ids": [r.person_id for r in live]}
        tx.emit("events.event.rescheduled", subject=event.id, data=data)
    else:
        tx.emit("events.event.updated", subject=event.id, data=data)
    for promotion in promoted:
        tx.emit(
            "events.registration.promoted",
            subject=promotion.id,
            data=registration_data(promotion, updated, None),
        )
    return updated


def _tidied(fields: Mapping[str, Any]) -> dict[str, Any]:
    """An event's fields as the service keeps them: titles and names without stray
    white space, times in UTC, the country in upper case, the agenda in time order,
    sectors in lower case and each once."""
    tidied = dict(fields)
    for name in ("starts_at", "ends_at", "registration_closes_at"):
        if name in tidied:
            tidied[name] = utc(tidied[name])
    for name in ("title", "host_organisation"):
        if tidied.get(name) is not None:
            tidied[name] = tidy(tidied[name]) or None
    if tidied.get("country"):
        tidied["country"] = tidied["country"].upper()
    if "agenda" in tidied:
        tidied["agenda"] = tuple(
            sorted(
                (
                    AgendaItem(
                        utc(item.starts_at),
                        tidy(item.title),
                        tidy(item.speaker) or None if item.speaker is not None else None,
                    )
                    for item in tidied["agenda"] or ()
                ),
                key=lambda item: item.starts_at,
            )
        )
    if "sectors" in tidied:
        tidied["sectors"] = sector_names(tidied["sectors"] or ())
    return tidied


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
        "agenda": [
            {"starts_at": item.starts_at, "title": item.title, "speaker": item.speaker}
            for item in event.agenda
        ],
        "sectors": list(event.sectors),
        "host_organisation": event.host_organisation,
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
