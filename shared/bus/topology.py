"""The broker topology, declared in one place; every name comes from a function here.

- one durable topic exchange (``booster.events``); routing key == event type;
- per service a durable quorum queue ``booster.<service>`` bound to the types it
  handles, with a delivery limit and a dead-letter route as a safety net for
  messages that crash the consumer before it can decide;
- per service and back-off delay a quorum retry queue ``booster.<service>.retry.<ms>``
  whose expired messages dead-letter back into the service's queue;
- per service a quorum dead-letter queue ``booster.<service>.dead``;
- per service a direct exchange ``booster.<service>.requeue`` bound to those three
  kinds of queue (routing key = queue name): the consumer republishes retries and dead
  letters through it, so that its broker user may write to its own queues only (the
  default exchange would reach every queue).

A service on a broker user of its own (``BOOSTER_<SERVICE>_BROKER_URL``,
``BusSettings.declare`` False) declares nothing: it checks, passively, that ``booster
broker setup`` has declared all of this.

On another exchange than ``booster.events`` (``BOOSTER_EXCHANGE``), queue names start
with the exchange's name instead of ``booster`` (e.g. ``staging.events.registry``), so
that platforms sharing a broker never share a queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from kombu import Connection, Exchange, Queue, binding

from shared.config import BusSettings

EXCHANGE = "booster.events"
QUORUM_REPLICAS = 3
"""Members of every quorum queue (``x-quorum-initial-group-size``): a cluster of three
nodes keeps each queue on all three and loses none of it with one node down; a single
node holds the one member."""


def _prefix(exchange: str) -> str:
    return "booster" if exchange == EXCHANGE else exchange


def queue_name(service: str, exchange: str = EXCHANGE) -> str:
    """The service's own queue."""
    return f"{_prefix(exchange)}.{service}"


def dead_queue_name(service: str, exchange: str = EXCHANGE) -> str:
    """Where messages go after their last failed attempt."""
    return f"{_prefix(exchange)}.{service}.dead"


def requeue_exchange_name(service: str, exchange: str = EXCHANGE) -> str:
    """The service's own direct exchange for retries and dead letters."""
    return f"{_prefix(exchange)}.{service}.requeue"


class TopologyMissing(RuntimeError):
    """An exchange or queue a service needs does not exist and it may not declare it."""


def retry_queue_name(service: str, delay: float, exchange: str = EXCHANGE) -> str:
    """The queue that holds a message for ``delay`` seconds before it returns."""
    return f"{_prefix(exchange)}.{service}.retry.{round(delay * 1000)}ms"


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more words."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _match(rest, words[1:])


def is_amqp(connection: Connection) -> bool:
    """True for RabbitMQ; False for kombu's in-process ``memory://`` transport."""
    return connection.transport.driver_type == "amqp"


@dataclass(frozen=True)
class Topology:
    """The exchange and queues of one service."""

    service: str
    bindings: tuple[str, ...]
    settings: BusSettings

    @cached_property
    def exchange(self) -> Exchange:
        return Exchange(self.settings.exchange, type="topic", durable=True)

    @cached_property
    def queue(self) -> Queue:
        return Queue(
            queue_name(self.service, self.settings.exchange),
            bindings=[binding(self.exchange, routing_key=key) for key in self.bindings],
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-quorum-initial-group-size": QUORUM_REPLICAS,
                "x-delivery-limit": self.settings.delivery_limit,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": dead_queue_name(self.service, self.settings.exchange),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )

    @cached_property
    def dead_queue(self) -> Queue:
        return Queue(
            dead_queue_name(self.service, self.settings.exchange),
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-quorum-initial-group-size": QUORUM_REPLICAS,
            },
        )

    @cached_property
    def retry_queues(self) -> dict[float, Queue]:
        return {
            delay: Queue(
                retry_queue_name(self.service, delay, self.settings.exchange),
                durable=True,
                queue_arguments={
                    "x-queue-type": "quorum",
                    "x-quorum-initial-group-size": QUORUM_REPLICAS,
                    "x-message-ttl": round(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": queue_name(self.service, self.settings.exchange),
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                },
            )
            for delay in sorted(set(self.settings.retry_delays))
        }

    @cached_property
    def requeue_exchange(self) -> Exchange:
        return Exchange(
            requeue_exchange_name(self.service, self.settings.exchange), type="direct", durable=True
        )

    def all_queues(self) -> list[Queue]:
        return [self.queue, self.dead_queue, *self.retry_queues.values()]

    def declare(self, connection: Connection) -> None:
        """Declare the exchanges, the queues and the bindings (idempotent); with
        ``settings.declare`` False only check that they exist."""
        if not self.settings.declare:
            check_exists(connection, [self.exchange, self.requeue_exchange], self.all_queues())
            return
        channel = connection.default_channel
        self.exchange.declare(channel=channel)
        self.requeue_exchange.declare(channel=channel)
        for queue in self.all_queues():
            queue.bind(channel).declare()
            channel.queue_bind(queue.name, self.requeue_exchange.name, routing_key=queue.name)


def declare_exchange(connection: Connection, settings: BusSettings) -> None:
    """Declare only the exchange (what a publisher needs); with ``settings.declare``
    False only check that it exists."""
    exchange = Exchange(settings.exchange, type="topic", durable=True)
    if not settings.declare:
        check_exists(connection, [exchange], [])
        return
    exchange.declare(channel=connection.default_channel)


def check_exists(connection: Connection, exchanges: list[Exchange], queues: list[Queue]) -> None:
    """Passive declarations (which need no permission): raise :class:`TopologyMissing`
    naming the first exchange or queue that does not exist."""
    names = [("exchange", e.name) for e in exchanges] + [("queue", q.name) for q in queues]
    for kind, name in names:
        channel = connection.channel()  # a refused passive declaration closes its channel
        try:
            if kind == "exchange":
                channel.exchange_declare(name, "topic", passive=True)
            else:
                channel.queue_declare(name, passive=True)
        except connection.channel_errors as exc:
            raise TopologyMissing(
                f"the {kind} {name} does not exist (run `booster broker setup`): {exc}"
            ) from exc
        finally:
            try:
                channel.close()
            except Exception:  # noqa: BLE001 - closed by the broker already
                pass
