"""The transactional outbox: events are rows written in the same transaction as the change.

A relay (``shared.relay``) later publishes unsent rows in order and marks them sent.
Committing an outbox row wakes the relay: in-process through a threading event, and
across processes on PostgreSQL through ``NOTIFY`` (delivered only on commit).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from shared.events.envelope import CloudEvent

_COLUMNS = ("event_id", "type", "subject", "body", "created_at")
_wakers: dict[str, threading.Event] = {}
_wakers_lock = threading.Lock()


def outbox_table(metadata: MetaData) -> Table:
    """Define the ``outbox`` table on a service's metadata."""
    return Table(
        "outbox",
        metadata,
        Column(
            "position",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("type", String(128), nullable=False),
        Column("subject", String(128)),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True)),
        Index(
            "ix_outbox_unsent",
            "position",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )


def notify_channel(service: str) -> str:
    """The PostgreSQL LISTEN/NOTIFY channel that wakes ``service``'s relay."""
    return f"booster_outbox_{service}"


def waker(service: str) -> threading.Event:
    """The in-process event set whenever ``service`` commits outbox rows."""
    with _wakers_lock:
        return _wakers.setdefault(service, threading.Event())


class Outbox:
    """Writes events into a service's outbox table inside the caller's transaction."""

    def __init__(self, table: Table, service: str) -> None:
        self.table = table
        self.service = service
        # Built once: a statement built per call spends more on SQLAlchemy's cache key
        # than the database spends on the row.
        self._insert = insert(table)
        inserted = (
            insert(table)
            .values({name: bindparam(name) for name in _COLUMNS})
            .returning(table.c.position)
            .cte()
        )
        self._insert_and_notify = select(func.pg_notify(notify_channel(service), "")).select_from(
            inserted
        )

    def add(self, session: Session, event_: CloudEvent) -> None:
        """Stage ``event_`` in the session's transaction; it is published only on commit.

        On PostgreSQL the first row of a transaction also sends ``NOTIFY`` to the relay,
        in the same statement (a data-modifying CTE): no extra round trip.
        """
        values = {
            "event_id": event_.id,
            "type": event_.type,
            "subject": event_.subject,
            "body": event_.to_json(),
            "created_at": datetime.now(UTC),
        }
        first = not session.info.get("booster_outbox")
        if first:
            session.info["booster_outbox"] = self.service
        if first and session.get_bind().dialect.name == "postgresql":
            session.execute(self._insert_and_notify, values)
        else:
            session.execute(self._insert, values)


def wake_relay_on_commit(sessions: sessionmaker[Session]) -> None:
    """Make commits of ``sessions`` that wrote outbox rows wake the relay in-process
    (the composition root installs this on each service's session factory)."""
    if not event.contains(sessions, "after_commit", _wake_relay):
        event.listen(sessions, "after_commit", _wake_relay)
        event.listen(sessions, "after_rollback", _forget_outbox)


def _wake_relay(session: Session) -> None:
    service = session.info.pop("booster_outbox", None)
    if service:
        waker(service).set()


def _forget_outbox(session: Session) -> None:
    session.info.pop("booster_outbox", None)
