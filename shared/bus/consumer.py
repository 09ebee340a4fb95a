"""The event consumer: batched, idempotent handling with retries and a dead-letter queue.

Messages arrive with manual acks and a bounded prefetch. What is immediately
available (up to ``consumer_batch_size``) is handled in one database transaction,
each event claimed in the inbox first, and acked only after the commit. If any
handler of the batch fails, the batch rolls back and its events are handled one by
one, so one bad event cannot hold the others back. A failed event is republished
(with confirms) to a retry queue whose TTL returns it after a back-off; after the
last attempt it goes to ``booster.<service>.dead`` with the error in its headers.
Only then is the original acked: a crash in between redelivers it, never loses it.

``stop()`` (on SIGTERM) lets the batch in hand finish; prefetched messages not yet
started return to the queue when the channel closes. A lost connection is
re-established with back-off. So is a lost database: a failure while the database does
not answer is no attempt of the event's; its messages return to the queue, and the
consumer consumes again once the database answers.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Consumer
from kombu.message import Message

from shared import context
from shared.bus.connection import connect, run_reconnecting
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import Topology, dead_queue_name, is_amqp, queue_name, topic_matches
from shared.config import BusSettings
from shared.events.catalogue import InvalidEventData
from shared.events.envelope import CloudEvent, EnvelopeError
from shared.inbox import Inbox
from shared.logging import get_logger
from shared.metrics import EVENTS_HANDLED
from shared.sql_uow import SqlTransaction, SqlUnitOfWork

log = get_logger(__name__)

Handler = Callable[[CloudEvent, Any], None]
"""A subscriber: writes through the service's transaction (its repositories; it may
emit events) and returns. Typed ``Any`` so each service's handlers name their own
transaction port."""

BatchHandler = Callable[[Sequence[CloudEvent], Any], None]
"""A subscriber that takes consecutive events of one type at once (mark with ``batched``)."""

BATCH_ATTRIBUTE = "booster_batch"


def batched(handler: BatchHandler) -> Handler:
    """Mark a handler that takes a list of events, e.g. to write a read copy in one
    statement. It gets runs of consecutive events (order kept), never a mix of types.
    It runs under the first event's correlation: one that stages or emits something per
    event enters each event's own (``context.correlated(e.correlationid, e.traceparent)``)."""
    setattr(handler, BATCH_ATTRIBUTE, True)
    return handler  # type: ignore[return-value]


ATTEMPTS_HEADER = "x-booster-attempts"
ERROR_HEADER = "x-booster-error"
FAILED_AT_HEADER = "x-booster-failed-at"
ROUTING_KEY_HEADER = "x-booster-routing-key"
MAX_ERROR_LENGTH = 4000


@dataclass(frozen=True)
class _Work:
    message: Message
    event: CloudEvent
    handlers: tuple[Handler, ...]


class EventConsumer:
    """Consumes a service's queue and runs the subscribed handlers."""

    def __init__(
        self,
        service: str,
        handlers: Mapping[str, Handler | Sequence[Handler]],
        uow: SqlUnitOfWork[Any],
        inbox: Inbox,
        settings: BusSettings,
    ) -> None:
        self.service = service
        self.uow = uow
        self.inbox = inbox
        self.settings = settings
        self.handlers = {
            pattern: tuple(h) if isinstance(h, Sequence) else (h,)
            for pattern, h in handlers.items()
        }
        self.topology = Topology(service, tuple(self.handlers), settings)
        self._handlers_by_type: dict[str, tuple[Handler, ...]] = {}
        self._stop = threading.Event()
        self.ready = threading.Event()
        self._publisher: Publisher | None = None
        self._timers: list[threading.Timer] = []
        self._amqp = False

    # -- lifecycle -------------------------------------------------------------------
    def stop(self) -> None:
        """Finish the batch in hand, then return; safe to call from a signal handler."""
        self._stop.set()

    def run(self) -> None:
        """Consume until stopped, reconnecting after a lost connection."""
        run_reconnecting(
            self._connected,
            stopping=self._stop,
            what="consumer",
            service=self.service,
            on_interrupt=self.ready.clear,
        )
        for timer in self._timers:
            timer.cancel()

    def _connected(self) -> None:
        """One connection's worth of consuming (with a second one to publish retries)."""
        connection = connect(self.settings)
        publishing = connect(self.settings)
        try:
            self.uow.database.ping()  # no database: leave the messages in the queue
            connection.ensure_connection(max_retries=1)
            self._amqp = is_amqp(connection)
            self.topology.declare(connection)
            self._publisher = Publisher(publishing)
            self._consume(connection)
        finally:
            for conn in (connection, publishing):
                try:
                    conn.release()
                except Exception:  # noqa: BLE001 - already broken
                    pass

    def _consume(self, connection: Connection) -> None:
        buffer: list[Message] = []
        channel = connection.channel()
        consumer = Consumer(
            channel,
            queues=[self.topology.queue],
            on_message=buffer.append,
            prefetch_count=self.settings.prefetch,
            accept=["json"],
            auto_declare=False,
        )
        consumer.consume()
        self.ready.set()
        log.info("consumer started", service=self.service, queue=self.topology.queue.name)
        try:
            while not self._stop.is_set():
                try:
                    connection.drain_events(timeout=1.0)
                except TimeoutError:
                    connection.heartbeat_check()
                    continue
                while len(buffer) < self.settings.consumer_batch_size:
                    try:
                        connection.drain_events(timeout=0)
                    except TimeoutError:
                        break
                batch, buffer[:] = list(buffer), []
                self._process(batch)
        finally:
            self.ready.clear()
            try:
                consumer.cancel()
                channel.close()  # unstarted prefetched messages return to the queue
            except Exception:  # noqa: BLE001 - the connection may already be gone
                pass

    # -- handling --------------------------------------------------------------------
    def handlers_for(self, event_type: str) -> tuple[Handler, ...]:
        """The handlers whose patterns match ``event_type`` (worked out once per type)."""
        found = self._handlers_by_type.get(event_type)
        if found is None:
            found = tuple(
                handler
                for pattern, handlers in self.handlers.items()
                if topic_matches(pattern, event_type)
                for handler in handlers
            )
            self._handlers_by_type[event_type] = found
        return found

    def _process(self, batch: list[Message]) -> None:
        work: list[_Work] = []
        for message in batch:
            try:
                event_ = CloudEvent.from_json(message.body)
            except EnvelopeError as exc:
                self._dead_letter(message, f"EnvelopeError: {exc}", attempts=1)
                continue
            handlers = self.handlers_for(event_.type)
            if not handlers:
                self._dead_letter(message, f"no handler for {event_.type!r}", attempts=1)
                continue
            try:
                self.uow.catalogue.check(event_)
            except InvalidEventData as exc:
                # the data breaks the contract: no retry can help, an operator must look
                self._dead_letter(message, f"InvalidEventData: {exc}", attempts=1)
                continue
            work.append(_Work(message, event_, handlers))
        if len(work) > 1:
            try:
                with self.uow.begin() as tx:
                    outcomes = self._handle(tx, work)
            except Exception:  # noqa: BLE001 - isolate the failing event below
                log.debug("batch failed; handling one by one", size=len(work))
            else:
                self._ack([item.message for item in work])
                for item, outcome in zip(work, outcomes, strict=True):
                    EVENTS_HANDLED.labels(self.service, item.event.type, outcome).inc()
                return
        for item in work:
            try:
                with self.uow.begin() as tx:
                    [outcome] = self._handle(tx, [item])
            except Exception as exc:  # noqa: BLE001 - any handler error is retried
                # unless the database is gone: not the event's fault, so no attempt is
                # spent; the stretch ends and the messages in hand return to the queue
                self.uow.database.ping()
                self._retry_or_dead_letter(item, exc)
                continue
            item.message.ack()
            EVENTS_HANDLED.labels(self.service, item.event.type, outcome).inc()

    def _handle(self, tx: SqlTransaction, work: Sequence[_Work]) -> list[str]:
        """Claim the events in the inbox and run the handlers of the new ones, in order."""
        new = self.inbox.claim_many(tx.session, [item.event for item in work])
        outcomes: list[str] = []
        run: list[_Work] = []
        for item in work:
            if item.event.id in new:
                new.discard(item.event.id)  # a second copy in the same batch is a duplicate
                if run and run[-1].event.type != item.event.type:
                    self._run(tx, run)
                    run = []
                run.append(item)
                outcomes.append("handled")
            else:
                outcomes.append("duplicate")
        if run:
            self._run(tx, run)
        return outcomes

    def _run(self, tx: SqlTransaction, run: Sequence[_Work]) -> None:
        """Handle consecutive events of one type: batch handlers at once, others each."""
        for handler in run[0].handlers:
            if getattr(handler, BATCH_ATTRIBUTE, False):
                first = run[0].event
                with context.correlated(first.correlationid, first.traceparent):
                    handler([item.event for item in run], tx)  # type: ignore[arg-type]
                continue
            for item in run:
                with context.correlated(item.event.correlationid, item.event.traceparent):
                    handler(item.event, tx)

    def _ack(self, messages: Sequence[Message]) -> None:
        """Ack a batch: on RabbitMQ one ``multiple`` ack settles it (every earlier delivery
        on the channel is settled by then); memory:// acks one by one."""
        if self._amqp:
            messages[-1].ack(multiple=True)
        else:
            for message in messages:
                message.ack()

    def _retry_or_dead_letter(self, item: _Work, exc: Exception) -> None:
        attempts = _attempts_so_far(item.message.headers) + 1
        error = "".join(traceback.format_exception_only(exc)).strip()
        if attempts >= self.settings.max_attempts:
            log.error(
                "event dead-lettered",
                service=self.service,
                event_id=item.event.id,
                type=item.event.type,
                attempts=attempts,
                error=error,
            )
            self._dead_letter(item.message, error, attempts)
            return
        delay = self.settings.delay_for(attempts)
        log.warning(
            "event handling failed; will retry",
            service=self.service,
            event_id=item.event.id,
            type=item.event.type,
            attempt=attempts,
            retry_in=delay,
            error=error,
        )
        headers = {
            **item.message.headers,
            ATTEMPTS_HEADER: attempts,
            ERROR_HEADER: error[:MAX_ERROR_LENGTH],
        }
        if self._amqp:
            retry_queue = self.topology.retry_queues[delay].name
            self._require_publisher().publish(
                [_copy(item.message, headers, retry_queue)],
                exchange=self.topology.requeue_exchange.name,
            )
        else:  # memory:// ignores TTL and dead-lettering: hold it in-process instead
            outgoing = _copy(
                item.message, headers, queue_name(self.service, self.settings.exchange)
            )
            timer = threading.Timer(delay, self._republish, args=(outgoing,))
            timer.daemon = True
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
            timer.start()
        item.message.ack()
        EVENTS_HANDLED.labels(self.service, item.event.type, "retried").inc()

    def _republish(self, message: OutgoingMessage) -> None:
        if self._stop.is_set():
            return
        with connect(self.settings) as connection:
            Publisher(connection).publish([message], exchange="")

    def _dead_letter(self, message: Message, error: str, attempts: int) -> None:
        headers = {
            **message.headers,
            ATTEMPTS_HEADER: attempts,
            ERROR_HEADER: error[:MAX_ERROR_LENGTH],
            FAILED_AT_HEADER: datetime.now(UTC).isoformat(),
            ROUTING_KEY_HEADER: message.delivery_info.get("routing_key", ""),
        }
        outgoing = _copy(message, headers, dead_queue_name(self.service, self.settings.exchange))
        self._require_publisher().publish([outgoing], exchange=self.topology.requeue_exchange.name)
        message.ack()
        type_ = str(message.properties.get("type") or "")
        # a label from a closed set: a type this service handles, else "unknown"
        handled = any(topic_matches(pattern, type_) for pattern in self.handlers)
        label = type_ if type_ and handled else "unknown"
        EVENTS_HANDLED.labels(self.service, label, "dead").inc()

    def _require_publisher(self) -> Publisher:
        if self._publisher is None:
            raise RuntimeError("consumer is not connected")
        return self._publisher


def _copy(message: Message, headers: Mapping[str, Any], routing_key: str) -> OutgoingMessage:
    """The same message (body, id, type) with new headers, for another queue."""
    body = message.body
    properties = message.properties
    return OutgoingMessage(
        body=body if isinstance(body, str) else body.decode("utf-8", "replace"),
        routing_key=routing_key,
        message_id=properties.get("message_id") or "",
        type=properties.get("type") or "",
        correlation_id=properties.get("correlation_id"),
        headers=dict(headers),
    )


def _attempts_so_far(headers: Mapping[str, Any] | None) -> int:
    """The delivery attempts a message's header counts (0 when absent or not a count,
    so that a junk header never stops a message from being retried or dead-lettered)."""
    value = (headers or {}).get(ATTEMPTS_HEADER, 0)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(value, 0)
