"""The outbox relay: publishes a service's committed outbox rows, in order, with confirms.

One relay per service is active at a time (a PostgreSQL advisory lock elects it), so
rows go out in commit-position order, which keeps the order per entity. A batch is
marked sent, published, and committed only once the broker confirmed it; a crash or a
lost connection in between rolls the marks back and the batch goes out again
(at-least-once; consumers' inboxes drop the duplicates). The relay sleeps until a
commit wakes it: in-process through ``shared.outbox.waker``, across processes through
PostgreSQL ``LISTEN``; the poll interval is only a fallback.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import psycopg
from kombu import Connection
from sqlalchemy import Table, bindparam, delete, event, select, update
from sqlalchemy.engine import Engine, make_url

from shared.bus.connection import connect, run_reconnecting
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import Topology, declare_exchange, is_amqp
from shared.config import BusSettings
from shared.db import Database, make_engine
from shared.logging import get_logger
from shared.metrics import EVENTS_PUBLISHED
from shared.outbox import notify_channel, waker

log = get_logger(__name__)

SENT_RETENTION = timedelta(days=7)


class OutboxRelay:
    """Moves committed outbox rows of one service to the exchange."""

    after_publish: ClassVar[Callable[[OutboxRelay, list[str]], None] | None] = None
    """A fault hook for tests only (None in the platform): called with the relay and the
    batch's event ids after the broker confirmed the batch and before its sent marks
    commit. The fault suite sets it to kill the process right there (``tests/faults``)."""

    def __init__(
        self,
        service: str,
        database: Database,
        table: Table,
        settings: BusSettings,
        declare: Sequence[Topology] = (),
    ) -> None:
        """``declare``: topologies to declare before publishing, so that no event is
        published before the queues of its subscribers exist (it would be dropped)."""
        self.service = service
        self.declare = tuple(declare)
        self.database = database
        self.table = table
        self.settings = settings
        self._stop = threading.Event()
        self._waker = waker(service)
        self._listener: psycopg.Connection[Any] | None = None
        self.ready = threading.Event()
        self._claim = _claim_statement(table)
        self._engine = _relay_engine(database)

    def close(self) -> None:
        """Release the relay's own database connection (``run`` does on its way out;
        call it for a relay used through ``relay_once`` only)."""
        if self._engine is not self.database.engine:
            self._engine.dispose()

    def stop(self) -> None:
        self._stop.set()
        self._waker.set()

    def run(self) -> None:
        """Relay until stopped, reconnecting to the broker and the database as needed."""
        try:
            self._run()
        finally:
            self._close_listener()
            self.close()

    def _run(self) -> None:
        run_reconnecting(
            self._connected,
            stopping=self._stop,
            what="relay",
            service=self.service,
            on_interrupt=self._interrupted,
        )

    def _connected(self) -> None:
        """Lead (or wait to), connect, declare, then relay until stopped or broken."""
        if not self._lead():
            self._stop.wait(1.0)
            return
        connection = connect(self.settings)
        try:
            connection.ensure_connection(max_retries=1)
            declare_exchange(connection, self.settings)
            for topology in self.declare:
                topology.declare(connection)
            self._relay(Publisher(connection))
        finally:
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def _interrupted(self) -> None:
        self.ready.clear()
        self._close_listener()

    def _relay(self, publisher: Publisher) -> None:
        self.ready.set()
        amqp = is_amqp(publisher.connection)
        while not self._stop.is_set():
            self._waker.clear()
            sent = self.relay_once(publisher)
            if sent < self.settings.relay_batch_size:
                self._wait()
                if amqp:
                    _keep_alive(publisher.connection)
                # let a burst of commits gather: one round trip publishes them all
                if self.settings.relay_linger:
                    self._stop.wait(self.settings.relay_linger)

    def relay_once(self, publisher: Publisher) -> int:
        """Publish one batch of unsent rows and mark them sent; return how many.

        One statement marks the batch sent and returns it; the transaction commits only
        after the broker confirmed every message, so a failed publish rolls the marks
        back and the rows go out again (at-least-once). No row locks beyond the
        update's: on PostgreSQL the advisory lock already makes this relay the only one.
        """
        parameters = {"limit": self.settings.relay_batch_size, "now": datetime.now(UTC)}
        with self._engine.begin() as connection:
            rows = sorted(connection.execute(self._claim, parameters).all(), key=_position)
            if not rows:
                return 0
            publisher.publish(
                [
                    OutgoingMessage(
                        body=row.body, routing_key=row.type, message_id=row.event_id, type=row.type
                    )
                    for row in rows
                ],
                exchange=self.settings.exchange,
            )
            if (hook := OutboxRelay.after_publish) is not None:
                hook(self, [row.event_id for row in rows])
        EVENTS_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    def purge_sent(self) -> int:
        """Delete rows sent longer ago than the retention."""
        cutoff = datetime.now(UTC) - SENT_RETENTION
        with self.database.session() as session:
            result = session.execute(
                delete(self.table)
                .where(self.table.c.sent_at.is_not(None))
                .where(self.table.c.sent_at < cutoff)
            )
            return getattr(result, "rowcount", 0) or 0

    # -- leadership and wake-ups (PostgreSQL) ---------------------------------------
    def _lead(self) -> bool:
        """Hold this service's advisory lock (PostgreSQL); SQLite has a single process."""
        if self.database.dialect != "postgresql":
            return True
        if self._listener is not None and not self._listener.closed:
            return True
        url = make_url(self.database.url).set(drivername="postgresql")
        listener = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
        key = zlib.crc32(notify_channel(self.service).encode())
        row = listener.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if row is None or not row[0]:
            listener.close()
            return False
        listener.execute(f'LISTEN "{notify_channel(self.service)}"')
        self._listener = listener
        return True

    def _wait(self) -> None:
        timeout = self.settings.relay_poll_interval
        if self._listener is not None:
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                pass
        else:
            self._waker.wait(timeout)

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.close()
            except Exception:  # noqa: BLE001 - already broken
                pass


def _keep_alive(connection: Connection) -> None:
    """Between batches: read what the broker sent (its heartbeats), send ours when due,
    and raise once the broker has been silent for two beats (hung, or cut one way)."""
    while True:
        try:
            connection.drain_events(timeout=0)
        except TimeoutError:
            break
    connection.heartbeat_check()


def _position(row: Any) -> int:
    return int(row.position)


def _claim_statement(table: Table) -> Any:
    """``UPDATE ... RETURNING`` the first ``:limit`` unsent rows, marked sent ``:now``
    (built once: building it per batch cost more CPU than the database spent on it)."""
    batch = (
        select(table.c.position)
        .where(table.c.sent_at.is_(None))
        .order_by(table.c.position)
        .limit(bindparam("limit"))
        .scalar_subquery()
    )
    return (
        update(table)
        .where(table.c.position.in_(batch))
        .values(sent_at=bindparam("now"))
        .returning(table.c.position, table.c.event_id, table.c.type, table.c.body)
    )


def _relay_engine(database: Database) -> Engine:
    """The relay's own connection on PostgreSQL, prepared statements on, and
    ``synchronous_commit`` off: losing a "sent" mark in a crash only republishes the
    batch (at-least-once), so its commit need not wait for the WAL flush. SQLite (one
    process) shares the service's engine."""
    if database.dialect != "postgresql":
        return database.engine
    engine = make_engine(
        database.url, pool_size=1, max_overflow=0, connect_args={"prepare_threshold": 0}
    )

    @event.listens_for(engine, "connect")
    def _no_flush_wait(dbapi_connection: Any, _record: Any) -> None:
        # A SET, not a startup option: options given in the URL stay as they are.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        dbapi_connection.commit()

    return engine
