"""The inbox: ids of events a service has handled, for idempotent consumption.

``claim`` records the event id inside the handler's own transaction. If the id is
already there, the event was handled before and the handler must not run again; if
the handler fails, the transaction rolls back and the claim with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from shared.events.envelope import CloudEvent


def inbox_table(metadata: MetaData) -> Table:
    """Define the ``inbox`` table on a service's metadata."""
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("type", String(128), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )


class Inbox:
    """Claims event ids in a service's inbox table."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def claim(self, session: Session, event_: CloudEvent) -> bool:
        """Record ``event_`` as handled; False if it already was (a redelivery)."""
        return event_.id in self.claim_many(session, [event_])

    def claim_many(self, session: Session, events: Sequence[CloudEvent]) -> set[str]:
        """Record a batch in one statement; the ids that were new (not redeliveries)."""
        if not events:
            return set()
        now = datetime.now(UTC)
        unique = {e.id: e.type for e in events}
        if session.get_bind().dialect.name == "postgresql":
            # one statement, compiled once, whatever the batch size: arrays, unnested
            upsert = text(
                f"INSERT INTO {self.table.name} (event_id, type, handled_at) "
                "SELECT unnest(CAST(:ids AS varchar[])), unnest(CAST(:types AS varchar[])), :now "
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
            )
            parameters = {"ids": list(unique), "types": list(unique.values()), "now": now}
            return set(session.scalars(upsert, parameters))
        statement = (
            sqlite.insert(self.table)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(self.table.c.event_id)
        )
        rows = [{"event_id": i, "type": t, "handled_at": now} for i, t in unique.items()]
        return set(session.scalars(statement, rows))
