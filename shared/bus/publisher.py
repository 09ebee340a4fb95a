"""Publishing with publisher confirms, a batch at a time.

On RabbitMQ the channel is put in confirm mode and a whole batch is published before
waiting: the broker's acks (often ``multiple``) are counted until every delivery tag
is settled. A nack or a timeout raises, and the caller publishes the batch again (the
consumers' inbox makes the duplicates harmless). On ``memory://`` there is nothing to
confirm and messages are handed over directly.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import amqp
from kombu import Connection, Producer

from shared.bus.topology import is_amqp
from shared.events.envelope import CONTENT_TYPE


class PublishError(RuntimeError):
    """The broker refused (nacked) a message or did not confirm it in time."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One AMQP message: a JSON body (already serialised) and its routing."""

    body: str
    routing_key: str
    message_id: str
    type: str
    correlation_id: str | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)


class Publisher:
    """Publishes batches to one exchange ('' is the default exchange) over one channel."""

    def __init__(self, connection: Connection, confirm_timeout: float = 30.0) -> None:
        self.connection = connection
        self.confirm_timeout = confirm_timeout
        self._amqp = is_amqp(connection)
        self._channel: Any = None
        self._pending: set[int] = set()
        self._nacked: list[int] = []
        self._next_tag = 1

    def _open(self) -> Any:
        if self._channel is None:
            channel = self.connection.channel()
            if self._amqp:
                # py-amqp polls the socket before every single publish to notice a
                # connection.blocked notice; draining for the batch's confirms handles
                # that notice too, so skip the per-message poll (a fifth of the cost).
                capabilities = self.connection.connection.client_properties.get("capabilities")
                if capabilities:
                    capabilities["connection.blocked"] = False
                channel.confirm_select()
                channel.events["basic_ack"].add(self._on_ack)
                channel.events["basic_nack"].add(self._on_nack)
                self._next_tag = 1
            self._channel = channel
        return self._channel

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._pending = {tag for tag in self._pending if tag > delivery_tag}
        else:
            self._pending.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        settled = {t for t in self._pending if t <= delivery_tag} if multiple else {delivery_tag}
        self._nacked.extend(settled & self._pending)
        self._pending -= settled

    def publish(self, messages: Sequence[OutgoingMessage], exchange: str) -> None:
        """Publish persistently and return once the broker has confirmed every message."""
        if not messages:
            return
        channel = self._open()
        if not self._amqp:
            producer = Producer(channel, auto_declare=False)
            for message in messages:
                producer.publish(
                    message.body,
                    exchange=exchange,
                    routing_key=message.routing_key,
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=message.message_id,
                    type=message.type,
                    correlation_id=message.correlation_id,
                    headers=dict(message.headers),
                )
            return
        self._nacked.clear()
        try:
            for message in messages:
                channel.basic_publish(
                    amqp.Message(
                        message.body.encode(),
                        content_type=CONTENT_TYPE,
                        content_encoding="utf-8",
                        delivery_mode=2,
                        message_id=message.message_id,
                        type=message.type,
                        correlation_id=message.correlation_id,
                        timestamp=int(time.time()),
                        application_headers=dict(message.headers),
                    ),
                    exchange=exchange,
                    routing_key=message.routing_key,
                )
                self._pending.add(self._next_tag)
                self._next_tag += 1
            self._await_confirms()
        except Exception:
            self.reset()
            raise
        if self._nacked:
            count = len(self._nacked)
            self.reset()
            raise PublishError(f"broker nacked {count} of {len(messages)} messages")

    def _await_confirms(self) -> None:
        deadline = time.monotonic() + self.confirm_timeout
        while self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"{len(self._pending)} messages not confirmed in time")
            try:
                self.connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                self.connection.heartbeat_check()  # a hung broker fails here, not at the timeout
                continue

    def reset(self) -> None:
        """Forget the channel (after an error); the next publish opens a new one."""
        channel, self._channel = self._channel, None
        self._pending.clear()
        if channel is not None:
            try:
                channel.close()
            except Exception:  # noqa: BLE001 - the channel is already broken
                pass
