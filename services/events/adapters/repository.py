"""The events service's repositories on SQL (SQLAlchemy Core), and its SQL transaction.

Statements that run on every call are built once (``_PLACED``, ``_PARTICIPANTS``, and
the read copies' upserts, ``shared.read_copy.upsert_newest``): building them cost more
than running them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, delete, exists, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from services.events.adapters.tables import (
    calendar_feeds,
    clusters,
    event_sectors,
    events,
    people,
    registrations,
)
from services.events.domain.model import (
    ACTIVE,
    AgendaItem,
    ClusterChange,
    ClusterCopy,
    Event,
    EventFormat,
    EventKind,
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
from shared.db import utc
from shared.events.catalogue import Catalogue
from shared.outbox import Outbox
from shared.read_copy import dialect_insert, newest_per_id, tombstone, upsert_newest
from shared.sql_uow import SqlTransaction

_ACTIVE = [status.value for status in ACTIVE]
_WAITLISTED = RegistrationStatus.WAITLISTED.value


class SqlEvents(Events):
    def __init__(self, session: Session) -> None:
        self.session = session
        self._sectors: dict[str, tuple[str, ...]] = {}
        """The sectors of the events this unit read or wrote: ``save`` rewrites the
        ``event_sectors`` rows only when they changed (most saves count seats)."""

    def get(self, event_id: str, *, lock: bool = False) -> Event | None:
        """``lock``: ``SELECT … FOR UPDATE`` (SQLite: BEGIN IMMEDIATE already
        serialises writers)."""
        query = select(events).where(events.c.id == event_id)
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            return None
        event = _event(row)
        self._sectors[event.id] = event.sectors
        return event

    def add(self, event: Event) -> None:
        self.session.execute(insert(events), _event_values(event))
        self._save_sectors(event, new=True)

    def save(self, event: Event) -> None:
        values = _event_values(event)
        values.pop("id")
        values.pop("created_at")
        self.session.execute(update(events).where(events.c.id == event.id).values(**values))
        if self._sectors.get(event.id) != event.sectors:
            self._save_sectors(event)

    def _save_sectors(self, event: Event, *, new: bool = False) -> None:
        if not new:
            self.session.execute(delete(event_sectors).where(event_sectors.c.event_id == event.id))
        if event.sectors:
            self.session.execute(
                insert(event_sectors),
                [{"event_id": event.id, "sector": sector} for sector in event.sectors],
            )
        self._sectors[event.id] = event.sectors

    def find(
        self, query: EventQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[Event]:
        statement = select(events).order_by(events.c.starts_at, events.c.id).limit(limit)
        if query.kind:
            statement = statement.where(events.c.kind == query.kind.value)
        if query.status:
            statement = statement.where(events.c.status == query.status.value)
        if query.hide_drafts:
            statement = statement.where(events.c.status != EventStatus.DRAFT.value)
        if query.starts_from:
            statement = statement.where(events.c.starts_at >= query.starts_from)
        if query.starts_before:
            statement = statement.where(events.c.starts_at < query.starts_before)
        if query.country:
            statement = statement.where(events.c.country == query.country)
        if query.sector:
            statement = statement.where(
                exists().where(
                    event_sectors.c.event_id == events.c.id,
                    event_sectors.c.sector == query.sector,
                )
            )
        if after:
            statement = statement.where(
                tuple_(events.c.starts_at, events.c.id) > tuple_(after[0], after[1])
            )
        return [_event(row) for row in self.session.execute(statement)]


class SqlRegistrations(Registrations):
    def __init__(self, session: Session) -> None:
        self.session = session

    def placed(self, event_id: str, registration_id: str) -> Placed | None:
        row = self.session.execute(
            _PLACED.where(
                registrations.c.id == registration_id, registrations.c.event_id == event_id
            )
        ).first()
        return (_registration(row), row.waitlist_position) if row else None

    def active(self, event_id: str, person_id: str) -> Registration | None:
        row = self.session.execute(
            select(registrations).where(
                registrations.c.event_id == event_id,
                registrations.c.person_id == person_id,
                registrations.c.status.in_(_ACTIVE),
            )
        ).first()
        return _registration(row) if row else None

    def add(self, registration: Registration) -> None:
        self.session.execute(insert(registrations), _registration_values(registration))

    def save(self, registration: Registration) -> None:
        values = _registration_values(registration)
        for key in ("id", "event_id", "person_id", "sequence", "created_at"):
            values.pop(key)
        self.session.execute(
            update(registrations).where(registrations.c.id == registration.id).values(**values)
        )

    def first_waitlisted(self, event_id: str) -> Registration | None:
        row = self.session.execute(
            select(registrations)
            .where(registrations.c.event_id == event_id, registrations.c.status == _WAITLISTED)
            .order_by(registrations.c.sequence)
            .limit(1)
        ).first()
        return _registration(row) if row else None

    def participants(
        self, event_id: str, query: ParticipantQuery, limit: int, after: int | None
    ) -> list[Participant]:
        statement = (
            _PARTICIPANTS.where(registrations.c.event_id == event_id)
            .order_by(registrations.c.sequence)
            .limit(limit)
        )
        if query.status:
            statement = statement.where(registrations.c.status == query.status.value)
        if query.country:
            statement = statement.where(PARTICIPANT_COUNTRY == query.country)
        if query.cluster_id:
            statement = statement.where(people.c.cluster_id == query.cluster_id)
        if after is not None:
            statement = statement.where(registrations.c.sequence > after)
        return [
            Participant(
                registration=_registration(row),
                waitlist_position=row.waitlist_position,
                name=row.person_name,
                email=row.person_email,
                country=row.person_country,
                cluster_id=row.person_cluster_id,
                cluster_name=row.cluster_name,
            )
            for row in self.session.execute(statement)
        ]

    def of_person(
        self, person_id: str, at: datetime, limit: int, after: OwnKey | None
    ) -> list[OwnRegistration]:
        """Two keyset reads at most: the upcoming part, then the past part."""
        mine = _OWN.where(registrations.c.person_id == person_id)
        key = tuple_(events.c.starts_at, registrations.c.id)
        rows: list[Row[Any]] = []
        if after is None or not after[0]:
            upcoming = mine.where(events.c.ends_at > at).order_by(
                events.c.starts_at, registrations.c.id
            )
            if after is not None:
                upcoming = upcoming.where(key > tuple_(after[1], after[2]))
            rows += self.session.execute(upcoming.limit(limit)).all()
        if len(rows) < limit:
            past = mine.where(events.c.ends_at <= at).order_by(
                events.c.starts_at.desc(), registrations.c.id.desc()
            )
            if after is not None and after[0]:
                past = past.where(key < tuple_(after[1], after[2]))
            rows += self.session.execute(past.limit(limit - len(rows))).all()
        ids = sorted({row.event_id for row in rows})
        loaded = {
            row.id: _event(row)
            for row in self.session.execute(select(events).where(events.c.id.in_(ids)))
        }
        return [
            OwnRegistration(_registration(row), row.waitlist_position, loaded[row.event_id])
            for row in rows
        ]

    def events_of(self, person_id: str, statuses: Sequence[RegistrationStatus]) -> list[Event]:
        held = exists().where(
            registrations.c.event_id == events.c.id,
            registrations.c.person_id == person_id,
            registrations.c.status.in_([status.value for status in statuses]),
        )
        query = select(events).where(held).order_by(events.c.starts_at, events.c.id)
        return [_event(row) for row in self.session.execute(query)]

    def of_event(
        self, event_id: str, statuses: Sequence[RegistrationStatus] = ()
    ) -> list[Registration]:
        query = (
            select(registrations)
            .where(registrations.c.event_id == event_id)
            .order_by(registrations.c.sequence)
        )
        if statuses:
            query = query.where(registrations.c.status.in_([s.value for s in statuses]))
        return [_registration(row) for row in self.session.execute(query)]

    def active_event_ids_of(self, person_id: str) -> list[str]:
        rows = self.session.execute(
            select(registrations.c.event_id)
            .where(registrations.c.person_id == person_id, registrations.c.status.in_(_ACTIVE))
            .order_by(registrations.c.event_id)
        )
        return [row.event_id for row in rows]


class SqlPeople(People):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, person_id: str) -> PersonCopy | None:
        row = self.session.execute(select(people).where(people.c.id == person_id)).first()
        return _person(row) if row else None

    def locked(self, person_ids: Sequence[str]) -> dict[str, PersonCopy]:
        """``SELECT … FOR SHARE`` in id order: a removal, which updates a row, waits for
        the transaction holding it, and the other way."""
        rows = self.session.execute(
            select(people)
            .where(people.c.id.in_(sorted(set(person_ids))))
            .order_by(people.c.id)
            .with_for_update(read=True)
        )
        return {row.id: _person(row) for row in rows}

    def keep_newest(self, changes: Sequence[PersonChange]) -> None:
        """One statement (an upsert whose update applies only to a newer change)."""
        rows = [
            {
                "id": change.id,
                "name": change.name,
                "email": change.email,
                "language": change.language,
                "cluster_id": change.cluster_id,
                "country": change.country,
                "synced_at": change.at,
            }
            for change in newest_per_id(changes, lambda c: c.id, lambda c: c.at)
        ]
        if rows:
            dialect = self.session.get_bind().dialect.name
            self.session.execute(upsert_newest(people, _PERSON_COLUMNS, dialect), rows)

    def forget(self, person_id: str, at: datetime) -> None:
        tombstone(self.session, people, person_id, _PERSON_COLUMNS, at)


class SqlClusters(Clusters):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, cluster_id: str) -> ClusterCopy | None:
        row = self.session.execute(select(clusters).where(clusters.c.id == cluster_id)).first()
        return _cluster(row) if row else None

    def keep_newest(self, changes: Sequence[ClusterChange]) -> None:
        """One statement (an upsert whose update applies only to a newer change)."""
        rows = [
            {
                "id": change.id,
                "name": change.name,
                "country": change.country,
                "synced_at": change.at,
            }
            for change in newest_per_id(changes, lambda c: c.id, lambda c: c.at)
        ]
        if rows:
            dialect = self.session.get_bind().dialect.name
            self.session.execute(upsert_newest(clusters, _CLUSTER_COLUMNS, dialect), rows)

    def forget(self, cluster_id: str, name: str, at: datetime) -> None:
        """A tombstone that keeps the name (and the country it had)."""
        tombstone(self.session, clusters, cluster_id, (), at, values={"name": name})


class SqlCalendarFeeds(CalendarFeeds):
    def __init__(self, session: Session) -> None:
        self.session = session

    def person_of(self, secret_hash: str) -> str | None:
        found: str | None = self.session.execute(
            select(calendar_feeds.c.person_id).where(calendar_feeds.c.secret_hash == secret_hash)
        ).scalar()
        return found

    def put(self, person_id: str, secret_hash: str, at: datetime) -> None:
        """An upsert: two requests of one person at once leave one feed, the later one."""
        statement = dialect_insert(calendar_feeds, self.session.get_bind().dialect.name)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[calendar_feeds.c.person_id],
                set_={"secret_hash": secret_hash, "created_at": at},
            ),
            {"person_id": person_id, "secret_hash": secret_hash, "created_at": at},
        )

    def remove(self, person_id: str) -> None:
        self.session.execute(delete(calendar_feeds).where(calendar_feeds.c.person_id == person_id))


class SqlEventsTx(SqlTransaction, EventsTx):
    """A database transaction of the events service, with its repositories."""

    def __init__(self, session: Session, outbox: Outbox | None, catalogue: Catalogue) -> None:
        super().__init__(session, outbox, catalogue)
        self.events = SqlEvents(session)
        self.registrations = SqlRegistrations(session)
        self.people = SqlPeople(session)
        self.clusters = SqlClusters(session)
        self.feeds = SqlCalendarFeeds(session)


def _waitlist_position() -> Any:
    """A registration's ``waitlist_position``: 1 + those waitlisted ahead of it."""
    ahead = registrations.alias("ahead")
    place = (
        select(func.count())
        .where(
            ahead.c.event_id == registrations.c.event_id,
            ahead.c.status == _WAITLISTED,
            ahead.c.sequence <= registrations.c.sequence,
        )
        .scalar_subquery()
    )
    return case((registrations.c.status == _WAITLISTED, place), else_=None).label(
        "waitlist_position"
    )


WAITLIST_POSITION = _waitlist_position()
"""A registration's place on its event's waitlist (None unless waitlisted); the read
path (``adapters.reads``) selects the same expressions."""
_PLACED = select(registrations, WAITLIST_POSITION)
PARTICIPANT_COUNTRY = func.coalesce(people.c.country, clusters.c.country)
"""A participant's country: their own, else their cluster's."""
_PARTICIPANTS = select(
    registrations,
    WAITLIST_POSITION,
    people.c.name.label("person_name"),
    people.c.email.label("person_email"),
    PARTICIPANT_COUNTRY.label("person_country"),
    people.c.cluster_id.label("person_cluster_id"),
    clusters.c.name.label("cluster_name"),
).select_from(
    registrations.outerjoin(people, people.c.id == registrations.c.person_id).outerjoin(
        clusters, clusters.c.id == people.c.cluster_id
    )
)
_OWN = select(registrations, WAITLIST_POSITION).join(
    events, events.c.id == registrations.c.event_id
)
_PERSON_COLUMNS = ("name", "email", "language", "cluster_id", "country")
_CLUSTER_COLUMNS = ("name", "country")


def _person(row: Row[Any]) -> PersonCopy:
    return PersonCopy(
        row.id,
        row.name,
        row.email,
        row.language,
        row.removed_at is not None,
        row.cluster_id,
        row.country,
    )


def _cluster(row: Row[Any]) -> ClusterCopy:
    return ClusterCopy(row.id, row.name, row.country, row.removed_at is not None)


def _event_values(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "title": event.title,
        "format": event.format.value,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "timezone": event.timezone,
        "capacity": event.capacity,
        "city": event.city,
        "country": event.country,
        "online_link": event.online_link,
        "registration_closes_at": event.registration_closes_at,
        "description": event.description,
        "agenda": json.dumps(
            [
                {
                    "starts_at": item.starts_at.isoformat(),
                    "title": item.title,
                    "speaker": item.speaker,
                }
                for item in event.agenda
            ],
            ensure_ascii=False,
        ),
        "sectors": json.dumps(list(event.sectors), ensure_ascii=False),
        "host_organisation": event.host_organisation,
        "status": event.status.value,
        "confirmed": event.confirmed,
        "registrations": event.registrations,
        "version": event.version,
        "created_at": event.created_at,
        "updated_at": event.updated_at,
    }


def _event(row: Row[Any]) -> Event:
    return Event(
        id=row.id,
        kind=EventKind(row.kind),
        title=row.title,
        format=EventFormat(row.format),
        starts_at=utc(row.starts_at),
        ends_at=utc(row.ends_at),
        timezone=row.timezone,
        capacity=row.capacity,
        city=row.city,
        country=row.country,
        online_link=row.online_link,
        registration_closes_at=utc(row.registration_closes_at),
        description=row.description,
        agenda=tuple(
            AgendaItem(datetime.fromisoformat(item["starts_at"]), item["title"], item["speaker"])
            for item in json.loads(row.agenda)
        ),
        sectors=tuple(json.loads(row.sectors)),
        host_organisation=row.host_organisation,
        status=EventStatus(row.status),
        confirmed=row.confirmed,
        registrations=row.registrations,
        version=row.version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _registration_values(registration: Registration) -> dict[str, Any]:
    return {
        "id": registration.id,
        "event_id": registration.event_id,
        "person_id": registration.person_id,
        "status": registration.status.value,
        "sequence": registration.sequence,
        "created_at": registration.created_at,
        "updated_at": registration.updated_at,
        "promoted_at": registration.promoted_at,
        "cancelled_at": registration.cancelled_at,
        "cancel_reason": registration.cancel_reason,
    }


def _registration(row: Row[Any]) -> Registration:
    return Registration(
        id=row.id,
        event_id=row.event_id,
        person_id=row.person_id,
        status=RegistrationStatus(row.status),
        sequence=row.sequence,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        promoted_at=utc(row.promoted_at),
        cancelled_at=utc(row.cancelled_at),
        cancel_reason=row.cancel_reason,
    )
