"""The events service's repositories in memory, for unit tests of the use cases.

Each fake keeps frozen domain objects in a dict and answers as the SQL repositories
do: the same filters, orders, keyset cursors, waitlist positions and people-copy rules,
and the database's constraints as :class:`IntegrityError`. Locks are ignored: a
:class:`~shared.fake_uow.FakeUnitOfWork` runs one unit at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.events.domain.model import (
    ACTIVE,
    Event,
    EventStatus,
    PersonChange,
    PersonCopy,
    Registration,
    RegistrationStatus,
)
from services.events.domain.ports import (
    EventQuery,
    Events,
    EventsTx,
    People,
    Placed,
    Registrations,
)
from shared.events.catalogue import Catalogue
from shared.fake_uow import FakeTransaction, FakeUnitOfWork


class IntegrityError(Exception):
    """A write the database's constraints would refuse (a bug in a use case)."""


class FakeEvents(Events):
    def __init__(self) -> None:
        self.rows: dict[str, Event] = {}

    def get(self, event_id: str, *, lock: bool = False) -> Event | None:
        return self.rows.get(event_id)

    def add(self, event: Event) -> None:
        if event.id in self.rows:
            raise IntegrityError(f"event {event.id} exists")
        self.rows[event.id] = event

    def save(self, event: Event) -> None:
        stored = self.rows.get(event.id)
        if stored is not None:
            self.rows[event.id] = replace(event, created_at=stored.created_at)

    def find(
        self, query: EventQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[Event]:
        found = [
            event
            for event in self.rows.values()
            if (not query.kind or event.kind is query.kind)
            and (not query.status or event.status is query.status)
            and not (query.hide_drafts and event.status is EventStatus.DRAFT)
            and (not query.starts_from or event.starts_at >= query.starts_from)
            and (not query.starts_before or event.starts_at < query.starts_before)
            and (not after or (event.starts_at, event.id) > after)
        ]
        return sorted(found, key=lambda event: (event.starts_at, event.id))[:limit]


class FakeRegistrations(Registrations):
    def __init__(self, events: FakeEvents) -> None:
        self.rows: dict[str, Registration] = {}
        self._events = events  # the foreign key

    def placed(self, event_id: str, registration_id: str) -> Placed | None:
        registration = self.rows.get(registration_id)
        if registration is None or registration.event_id != event_id:
            return None
        return registration, self._position(registration)

    def active(self, event_id: str, person_id: str) -> Registration | None:
        return next(
            (r for r in self._of(event_id) if r.person_id == person_id and r.status in ACTIVE),
            None,
        )

    def add(self, registration: Registration) -> None:
        if registration.id in self.rows:
            raise IntegrityError(f"registration {registration.id} exists")
        if registration.event_id not in self._events.rows:
            raise IntegrityError(f"no event {registration.event_id}")
        if any(r.sequence == registration.sequence for r in self._of(registration.event_id)):
            raise IntegrityError(f"sequence {registration.sequence} taken")
        if registration.status in ACTIVE and self.active(
            registration.event_id, registration.person_id
        ):
            raise IntegrityError(f"{registration.person_id} registered already")
        self.rows[registration.id] = registration

    def save(self, registration: Registration) -> None:
        stored = self.rows.get(registration.id)
        if stored is not None:
            self.rows[registration.id] = replace(
                registration,
                event_id=stored.event_id,
                person_id=stored.person_id,
                sequence=stored.sequence,
                created_at=stored.created_at,
            )

    def first_waitlisted(self, event_id: str) -> Registration | None:
        waiting = self.of_event(event_id, [RegistrationStatus.WAITLISTED])
        return waiting[0] if waiting else None

    def find(
        self,
        event_id: str,
        status: RegistrationStatus | None,
        limit: int,
        after: int | None,
    ) -> list[Placed]:
        found = [
            (r, self._position(r))
            for r in self.of_event(event_id, [status] if status else ())
            if after is None or r.sequence > after
        ]
        return found[:limit]

    def of_event(
        self, event_id: str, statuses: Sequence[RegistrationStatus] = ()
    ) -> list[Registration]:
        return sorted(
            (r for r in self._of(event_id) if not statuses or r.status in statuses),
            key=lambda r: r.sequence,
        )

    def active_event_ids_of(self, person_id: str) -> list[str]:
        return sorted(
            {
                r.event_id
                for r in self.rows.values()
                if r.person_id == person_id and r.status in ACTIVE
            }
        )

    def _of(self, event_id: str) -> list[Registration]:
        return [r for r in self.rows.values() if r.event_id == event_id]

    def _position(self, registration: Registration) -> int | None:
        if registration.status is not RegistrationStatus.WAITLISTED:
            return None
        return sum(
            1
            for r in self._of(registration.event_id)
            if r.status is RegistrationStatus.WAITLISTED and r.sequence <= registration.sequence
        )


@dataclass(frozen=True)
class PersonRow:
    """A person of the read copy as stored (the copy, plus what orders the changes)."""

    copy: PersonCopy
    cluster_id: str | None
    synced_at: datetime
    removed_at: datetime | None = None


class FakePeople(People):
    def __init__(self) -> None:
        self.rows: dict[str, PersonRow] = {}

    def get(self, person_id: str) -> PersonCopy | None:
        row = self.rows.get(person_id)
        return row.copy if row else None

    def locked(self, person_ids: Sequence[str]) -> dict[str, PersonCopy]:
        return {
            person_id: self.rows[person_id].copy
            for person_id in sorted(set(person_ids))
            if person_id in self.rows
        }

    def keep_newest(self, changes: Sequence[PersonChange]) -> None:
        newest: dict[str, PersonChange] = {}
        for change in changes:
            kept = newest.get(change.id)
            if kept is None or kept.at <= change.at:
                newest[change.id] = change
        for person_id, change in newest.items():
            row = self.rows.get(person_id)
            if row is None or (row.removed_at is None and row.synced_at <= change.at):
                copy = PersonCopy(person_id, change.name, change.email, change.language, False)
                self.rows[person_id] = PersonRow(copy, change.cluster_id, change.at)

    def forget(self, person_id: str, at: datetime) -> None:
        tombstone = PersonCopy(person_id, None, None, None, True)
        self.rows[person_id] = PersonRow(tombstone, None, synced_at=at, removed_at=at)


class FakeEventsTx(FakeTransaction, EventsTx):
    """An in-memory unit of work of the events service."""

    events: FakeEvents
    registrations: FakeRegistrations
    people: FakePeople

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__(catalogue)
        self.events = FakeEvents()
        self.registrations = FakeRegistrations(self.events)
        self.people = FakePeople()


def fake_uow(catalogue: Catalogue) -> FakeUnitOfWork[FakeEventsTx]:
    """An empty events service in memory, emitting against ``catalogue``."""
    return FakeUnitOfWork(FakeEventsTx(catalogue))
