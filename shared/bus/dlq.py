"""Operator tools for a service's dead-letter queue: list and replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kombu import Connection, Queue

from shared.bus.consumer import ATTEMPTS_HEADER, ERROR_HEADER, FAILED_AT_HEADER
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import EXCHANGE, dead_queue_name, queue_name

REPLAYED_HEADER = "x-booster-replayed"


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered message as an operator sees it."""

    message_id: str
    type: str
    attempts: int
    error: str
    failed_at: str
    body: str


def _dead_queue(channel: Any, service: str, exchange: str) -> Queue:
    return Queue(dead_queue_name(service, exchange), no_declare=True).bind(channel)


def list_dead(
    connection: Connection, service: str, limit: int = 100, exchange: str = EXCHANGE
) -> list[DeadLetter]:
    """Peek at up to ``limit`` dead letters; they stay in the queue."""
    channel = connection.channel()
    try:
        queue = _dead_queue(channel, service, exchange)
        found: list[DeadLetter] = []
        while len(found) < limit:
            # messages got stay unacked until the channel closes, so each is seen once
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            found.append(_describe(message))
        return found
    finally:
        channel.close()  # every message got above is returned unacked


def replay(
    connection: Connection,
    service: str,
    message_id: str | None = None,
    exchange: str = EXCHANGE,
) -> int:
    """Move dead letters (all, or the one with ``message_id``) back to the service's queue.

    Each is republished with confirms before it is acked in the dead queue, so a crash
    in between duplicates it (harmless: the inbox) and never loses it.
    """
    channel = connection.channel()
    publisher = Publisher(connection)
    replayed = 0
    try:
        queue = _dead_queue(channel, service, exchange)
        while True:
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            if message_id is not None and message.properties.get("message_id") != message_id:
                continue  # left unacked: returned to the queue when the channel closes
            headers = {
                key: value
                for key, value in message.headers.items()
                if key not in (ATTEMPTS_HEADER, ERROR_HEADER, FAILED_AT_HEADER)
            }
            headers[REPLAYED_HEADER] = int(message.headers.get(REPLAYED_HEADER, 0) or 0) + 1
            body = message.body
            publisher.publish(
                [
                    OutgoingMessage(
                        body=body if isinstance(body, str) else body.decode("utf-8", "replace"),
                        routing_key=queue_name(service, exchange),
                        message_id=message.properties.get("message_id") or "",
                        type=message.properties.get("type") or "",
                        correlation_id=message.properties.get("correlation_id"),
                        headers=headers,
                    )
                ],
                exchange="",
            )
            message.ack()
            replayed += 1
        return replayed
    finally:
        publisher.reset()
        channel.close()


def _describe(message: Any) -> DeadLetter:
    body = message.body
    headers = message.headers
    return DeadLetter(
        message_id=message.properties.get("message_id") or "",
        type=message.properties.get("type") or "",
        attempts=int(headers.get(ATTEMPTS_HEADER, 0) or 0),
        error=str(headers.get(ERROR_HEADER, "")),
        failed_at=str(headers.get(FAILED_AT_HEADER, "")),
        body=body if isinstance(body, str) else body.decode("utf-8", "replace"),
    )
