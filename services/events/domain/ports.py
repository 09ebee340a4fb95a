"""The events service's repositories and unit of work, as ports.

Use cases see the service's data only through an :class:`EventsTx`: ``tx.events``,
``tx.registrations``, ``tx.people`` and ``tx.clusters`` (the read copies of the
registry's people and clusters), ``tx.feeds`` (calendar feeds), plus ``tx.emit``.
``adapters/repository.py`` implements them on SQL, ``adapters/memory.py`` in memory
for unit tests; both keep the semantics written here.

Locks: ``lock=True`` and :meth:`People.locked` hold the rows until the unit of work
ends (on SQL, row locks); the use cases take them in one order, people first, then
events in id order (see ``operations``), so that no two units wait for each other in
a cycle. The in-memory fakes run one unit at a time and ignore them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.events.domain.model import (
    ClusterChange,
    ClusterCopy,
    Event,
    EventKind,
    EventStatus,
    PersonChange,
    PersonCopy,
    Registration,
    RegistrationStatus,
)
from shared.uow import Transaction, UnitOfWork

Placed = tuple[Registration, int | None]
"""A registration and its place on the waitlist (1 = next in line; None unless
waitlisted): how many waitlisted registrations of its event have a sequence up to its."""


@dataclass(frozen=True)
class EventQuery:
    """Which events to list (all of them by default)."""

    kind: EventKind | None = None
    status: EventStatus | None = None
    starts_from: datetime | None = None
    """Only events starting at or after this time."""
    starts_before: datetime | None = None
    """Only events starting before this time."""
    hide_drafts: bool = False
    sector: str | None = None
    """Only events targeting this sector (lower case, as kept)."""
    country: str | None = None
    """Only events in this country (ISO 3166-1 alpha-2, upper case)."""


@dataclass(frozen=True)
class ParticipantQuery:
    """Which of an event's registrations to list (all of them by default)."""

    status: RegistrationStatus | None = None
    country: str | None = None
    """Only participants from this country (upper case): the person's own country as the
    registry gave it, else their cluster's."""
    cluster_id: str | None = None


@dataclass(frozen=True)
class Participant:
    """A registration, its place on the waitlist, and who it is (from the read copies;
    None where the copy does not know)."""

    registration: Registration
    waitlist_position: int | None
    name: str | None
    email: str | None
    country: str | None
    cluster_id: str | None
    cluster_name: str | None


@dataclass(frozen=True)
class OwnRegistration:
    """One of a person's registrations, with its event (``/me/registrations``)."""

    registration: Registration
    waitlist_position: int | None
    event: Event


OwnKey = tuple[bool, datetime, str]
"""Where a page of a person's registrations ends: (the event is over, its start, the
registration's id). Upcoming events come first, soonest first; then past ones, latest
first."""
LIVE_OR_DONE = (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED)
"""Registrations whose event is in the person's calendar: a seat held, or used."""


class Events(ABC):
    """The events and business trips."""

    @abstractmethod
    def get(self, event_id: str, *, lock: bool = False) -> Event | None:
        """The event, or None; ``lock`` holds it until the unit of work ends, which
        serialises every change to its seats and waitlist."""

    @abstractmethod
    def add(self, event: Event) -> None:
        """Store a new event."""

    @abstractmethod
    def save(self, event: Event) -> None:
        """Store the new state of a stored event (its ``created_at`` is kept)."""

    @abstractmethod
    def find(
        self, query: EventQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[Event]:
        """Up to ``limit`` events matching ``query`` by (``starts_at``, ``id``), after
        that key when given (a keyset cursor)."""


class Registrations(ABC):
    """The registrations of every event, each with its event's ``sequence``."""

    @abstractmethod
    def placed(self, event_id: str, registration_id: str) -> Placed | None:
        """The event's registration and its place on the waitlist, or None."""

    @abstractmethod
    def active(self, event_id: str, person_id: str) -> Registration | None:
        """The person's confirmed or waitlisted registration to the event, if any."""

    @abstractmethod
    def add(self, registration: Registration) -> None:
        """Store a new registration (at most one active per person and event)."""

    @abstractmethod
    def save(self, registration: Registration) -> None:
        """Store the new state of a stored registration (its ids, ``sequence`` and
        ``created_at`` are kept)."""

    @abstractmethod
    def first_waitlisted(self, event_id: str) -> Registration | None:
        """The event's waitlisted registration with the lowest sequence (next in line)."""

    @abstractmethod
    def participants(
        self, event_id: str, query: ParticipantQuery, limit: int, after: int | None
    ) -> list[Participant]:
        """Up to ``limit`` of the event's registrations matching ``query``, in sequence
        order, after sequence ``after`` when given, each with its place on the waitlist
        and the person's details from the read copies; read at once (one snapshot)."""

    @abstractmethod
    def of_person(
        self, person_id: str, at: datetime, limit: int, after: OwnKey | None
    ) -> list[OwnRegistration]:
        """Up to ``limit`` of the person's registrations with their events: first those
        whose event has not ended by ``at`` (by start, then id), then the others (latest
        start first, then id descending), after the key ``after`` when given."""

    @abstractmethod
    def events_of(self, person_id: str, statuses: Sequence[RegistrationStatus]) -> list[Event]:
        """The events, by start then id, the person has a registration in ``statuses`` to."""

    @abstractmethod
    def of_event(
        self, event_id: str, statuses: Sequence[RegistrationStatus] = ()
    ) -> list[Registration]:
        """The event's registrations in sequence order (only ``statuses`` if given)."""

    @abstractmethod
    def active_event_ids_of(self, person_id: str) -> list[str]:
        """The ids, in order, of the events the person has an active registration to."""


class People(ABC):
    """The read copy of the registry's people; a removed person stays as a tombstone
    (no personal data), so that a late update cannot bring them back."""

    @abstractmethod
    def get(self, person_id: str) -> PersonCopy | None:
        """The person as last known, or None if never heard of."""

    @abstractmethod
    def locked(self, person_ids: Sequence[str]) -> dict[str, PersonCopy]:
        """The known people (tombstones included) among ``person_ids``, share-locked in
        id order until the unit of work ends (the order every writer of the copy takes).
        A removal waits for a unit holding the person, and the other way round."""

    @abstractmethod
    def keep_newest(self, changes: Sequence[PersonChange]) -> None:
        """Keep the newest copy of each person, all at once: a change older than the
        copy (changes can arrive out of order), or to a removed person, is ignored; of
        two changes at the same time, the later in ``changes`` wins."""

    @abstractmethod
    def forget(self, person_id: str, at: datetime) -> None:
        """Drop the person's data and keep a tombstone (also for someone never seen)."""


class Clusters(ABC):
    """The read copy of the registry's clusters (name and country, for participant
    lists); a removed cluster keeps its name and country, marked removed."""

    @abstractmethod
    def get(self, cluster_id: str) -> ClusterCopy | None:
        """The cluster as last known, or None if never heard of."""

    @abstractmethod
    def keep_newest(self, changes: Sequence[ClusterChange]) -> None:
        """Keep the newest copy of each cluster, all at once: a change older than the
        copy, or to a removed cluster, is ignored."""

    @abstractmethod
    def forget(self, cluster_id: str, name: str, at: datetime) -> None:
        """Mark the cluster removed (its row is created if the copy has none)."""


class CalendarFeeds(ABC):
    """Each person's secret calendar feed, kept as the hash of its secret only."""

    @abstractmethod
    def person_of(self, secret_hash: str) -> str | None:
        """The person whose feed has this hash, or None (unknown or revoked)."""

    @abstractmethod
    def put(self, person_id: str, secret_hash: str, at: datetime) -> None:
        """Give the person this feed, replacing the one they had."""

    @abstractmethod
    def remove(self, person_id: str) -> None:
        """Revoke the person's feed, if they have one."""


class EventsTx(Transaction):
    """One unit of work of the events service."""

    events: Events
    registrations: Registrations
    people: People
    clusters: Clusters
    feeds: CalendarFeeds


EventsUnitOfWork = UnitOfWork[EventsTx]
