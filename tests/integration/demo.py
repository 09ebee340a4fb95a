"""A tiny service for testing the bus: items written with events, effects recorded once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from marshmallow import Schema, fields
from sqlalchemy import Column, Integer, String, Table, func, insert, select

from shared import testing
from shared.bus.consumer import EventConsumer, Handler
from shared.bus.topology import Topology
from shared.config import BusSettings
from shared.db import Database, new_metadata
from shared.events import Catalogue, CloudEvent
from shared.idempotency import idempotency_table
from shared.inbox import Inbox, inbox_table
from shared.outbox import Outbox, outbox_table, wake_relay_on_commit
from shared.relay import OutboxRelay
from shared.sql_uow import SqlTransaction, SqlUnitOfWork

metadata = new_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
)
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),
)


class ItemCreated(Schema):
    name = fields.String(required=True)
    seq = fields.Integer(required=True)


catalogue = Catalogue()
catalogue.register("demo.item.created", ItemCreated, doc="An item was created.")
catalogue.register("demo.item.broken", ItemCreated, doc="An item whose handler always fails.")


def record(event: CloudEvent, tx: SqlTransaction) -> None:
    """The side effect whose count must be one per event."""
    tx.session.execute(insert(effects).values(event_id=event.id, seq=event.data["seq"]))


def always_fail(event: CloudEvent, tx: SqlTransaction) -> None:
    raise RuntimeError(f"cannot handle item {event.data['seq']}")


def slow(delay: float) -> Handler:
    def handler(event: CloudEvent, tx: SqlTransaction) -> None:
        time.sleep(delay)
        record(event, tx)

    return handler


@dataclass
class Demo:
    """The demo service on one database and one (test-owned) exchange."""

    service: str
    database_url: str
    bus: BusSettings
    database: Database = field(init=False)
    uow: SqlUnitOfWork[SqlTransaction] = field(init=False)

    def __post_init__(self) -> None:
        self.database = Database(self.database_url)
        metadata.create_all(self.database.engine)
        wake_relay_on_commit(self.database.sessions)
        self.uow = SqlUnitOfWork(
            self.database, Outbox(outbox, self.service), catalogue, SqlTransaction
        )

    def write(self, count: int, start: int = 0, event_type: str = "demo.item.created") -> None:
        with self.uow.begin() as tx:
            for seq in range(start, start + count):
                tx.session.execute(insert(items).values(id=seq, name=f"item {seq}"))
                tx.emit(event_type, subject=str(seq), data={"name": f"item {seq}", "seq": seq})

    def relay(self, subscribes: tuple[str, ...] = ("demo.#",)) -> OutboxRelay:
        topology = Topology(self.service, subscribes, self.bus)
        return OutboxRelay(self.service, self.database, outbox, self.bus, declare=[topology])

    def consumer(self, handlers: dict[str, Handler] | None = None) -> EventConsumer:
        handlers = handlers or {"demo.item.created": record}
        return EventConsumer(self.service, handlers, self.uow, Inbox(inbox), self.bus)

    def effect_counts(self) -> dict[int, int]:
        with self.database.session() as session:
            rows = session.execute(
                select(effects.c.seq, func.count()).group_by(effects.c.seq)
            ).all()
        return {seq: count for seq, count in rows}

    def unsent(self) -> int:
        with self.database.session() as session:
            return session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def delete_queues(self) -> None:
        testing.delete_queues(self.service, self.bus)
        self.database.dispose()
