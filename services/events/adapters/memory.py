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
    ClusterChange,
    ClusterCopy,
    Event,
    EventStatus,
    PersonChange,
    PersonCopy,
    Registration,
    RegistrationStatus,
)
from services.events.domain.ports import (
    CalendarFeeds,
    Clusters,
    EventQuery,
    Events,
    EventsTx,
    OwnKey,
    OwnRegistration,
    Participant,
    ParticipantQuery,
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
            and (not query.country or event.country == query.country)
            and (not query.sector or query.sector in event.sectors)
            and (not after or (event.starts_at, event.id) > after)
        ]
        return sorted(found, key=lambda event: (event.starts_at, event.id))[:limit]


class FakeRegistrations(Registrations):
    def __init__(self, events: FakeEvents, people: FakePeople, clusters: FakeClusters) -> None:
        self.rows: dict[str, Registration] = {}
        self._events = events  # the foreign key
        self._people = people  # the joins of the participant list
        self._clusters = clusters

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

    def participants(
        self, event_id: str, query: ParticipantQuery, limit: int, after: int | None
    ) -> list[Participant]:
        found = []
        for r in self.of_event(event_id, [query.status] if query.status else ()):
            participant = self._participant(r)
            if (
                (after is None or r.sequence > after)
                and (not query.country or participant.country == query.country)
                and (not query.cluster_id or participant.cluster_id == query.cluster_id)
            ):
                found.append(participant)
        return found[:limit]

    def of_person(
        self, person_id: str, at: datetime, limit: int, after: OwnKey | None
    ) -> list[OwnRegistration]:
        def key(own: OwnRegistration) -> OwnKey:
            return (own.event.ends_at <= at, own.event.starts_at, own.registration.id)

        mine = [
            OwnRegistration(r, self._position(r), self._events.rows[r.event_id])
            for r in self.rows.values()
            if r.person_id == person_id
        ]
        upcoming = sorted((m for m in mine if not key(m)[0]), key=key)
        past = sorted((m for m in mine if key(m)[0]), key=key, reverse=True)
        ordered = upcoming + past
        if after is not None:
            ordered = [m for m in ordered if _comes_after(key(m), after)]
        return ordered[:limit]

    def events_of(self, person_id: str, statuses: Sequence[RegistrationStatus]) -> list[Event]:
        ids = {
            r.event_id
            for r in self.rows.values()
            if r.person_id == person_id and r.status in statuses
        }
        return sorted(
            (self._events.rows[event_id] for event_id in ids), key=lambda e: (e.starts_at, e.id)
        )

    def _participant(self, registration: Registration) -> Participant:
        person = self._people.get(registration.person_id)
        cluster_id = person.cluster_id if person else None
        cluster = self._clusters.get(cluster_id) if cluster_id else None
        return Participant(
            registration=registration,
            waitlist_position=self._position(registration),
            name=person.name if person else None,
            email=person.email if person else None,
            country=(person.country if person else None) or (cluster.country if cluster else None),
            cluster_id=cluster_id,
            cluster_name=cluster.name if cluster else None,
        )

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


def _comes_after(key: OwnKey, after: OwnKey) -> bool:
    """Whether a registration with ``key`` comes after ``after`` in the order of
    ``of_person`` (upcoming by start ascending, then past by start descending)."""
    if key[0] != after[0]:
        return key[0] and not after[0]
    if not key[0]:
        return (key[1], key[2]) > (after[1], after[2])
    return (key[1], key[2]) < (after[1], after[2])


@dataclass(frozen=True)
class PersonRow:
    """A person of the read copy as stored (the copy, plus what orders the changes)."""

    copy: PersonCopy
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
                copy = PersonCopy(
                    person_id,
                    change.name,
                    change.email,
                    change.language,
                    False,
                    change.cluster_id,
                    change.country,
                )
                self.rows[person_id] = PersonRow(copy, change.at)

    def forget(self, person_id: str, at: datetime) -> None:
        tombstone = PersonCopy(person_id, None, None, None, True)
        self.rows[person_id] = PersonRow(tombstone, synced_at=at, removed_at=at)


class FakeClusters(Clusters):
    def __init__(self) -> None:
        self.rows: dict[str, tuple[ClusterCopy, datetime]] = {}
        """id -> (the copy, the time of the change it comes from)"""

    def get(self, cluster_id: str) -> ClusterCopy | None:
        row = self.rows.get(cluster_id)
        return row[0] if row else None

    def keep_newest(self, changes: Sequence[ClusterChange]) -> None:
        newest: dict[str, ClusterChange] = {}
        for change in changes:
            kept = newest.get(change.id)
            if kept is None or kept.at <= change.at:
                newest[change.id] = change
        for cluster_id, change in newest.items():
            row = self.rows.get(cluster_id)
            if row is None or (not row[0].removed and row[1] <= change.at):
                self.rows[cluster_id] = (
                    ClusterCopy(cluster_id, change.name, change.country),
                    change.at,
                )

    def forget(self, cluster_id: str, name: str, at: datetime) -> None:
        known = self.get(cluster_id)
        country = known.country if known else None
        self.rows[cluster_id] = (ClusterCopy(cluster_id, name, country, removed=True), at)


class FakeCalendarFeeds(CalendarFeeds):
    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, datetime]] = {}
        """person id -> (the hash of their feed's secret, when it was made)"""

    def person_of(self, secret_hash: str) -> str | None:
        return next((p for p, (h, _) in self.rows.items() if h == secret_hash), None)

    def put(self, person_id: str, secret_hash: str, at: datetime) -> None:
        if any(h == secret_hash for p, (h, _) in self.rows.items() if p != person_id):
            raise IntegrityError("secret hash taken")
        self.rows[person_id] = (secret_hash, at)

    def remove(self, person_id: str) -> None:
        self.rows.pop(person_id, None)


class FakeEventsTx(FakeTransaction, EventsTx):
    """An in-memory unit of work of the events service."""

    events: FakeEvents
    registrations: FakeRegistrations
    people: FakePeople
    clusters: FakeClusters
    feeds: FakeCalendarFeeds

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__(catalogue)
        self.events = FakeEvents()
        self.people = FakePeople()
        self.clusters = FakeClusters()
        self.registrations = FakeRegistrations(self.events, self.people, self.clusters)
        self.feeds = FakeCalendarFeeds()


def fake_uow(catalogue: Catalogue) -> FakeUnitOfWork[FakeEventsTx]:
    """An empty events service in memory, emitting against ``catalogue``."""
    return FakeUnitOfWork(FakeEventsTx(catalogue))
