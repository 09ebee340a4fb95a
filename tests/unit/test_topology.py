"""Unit tests for ``shared.bus.topology``: names, topic matching and queue arguments."""

from __future__ import annotations

import pytest
from kombu import Connection

from shared.bus.topology import (
    EXCHANGE,
    Topology,
    dead_queue_name,
    is_amqp,
    queue_name,
    retry_queue_name,
    topic_matches,
)
from shared.config import BusSettings

BINDINGS = ("registry.person.registered", "registry.cluster.*", "mentoring.#")


@pytest.fixture
def bus() -> BusSettings:
    return BusSettings(delivery_limit=7, retry_delays=(0.1, 2.0, 30.0))


@pytest.fixture
def topology(bus: BusSettings) -> Topology:
    return Topology(service="svc", bindings=BINDINGS, settings=bus)


# --- topic matching -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "routing_key", "expected"),
    [
        # exact words
        ("registry.person.registered", "registry.person.registered", True),
        ("registry.person.registered", "registry.person.removed", False),
        ("registry.person.registered", "registry.person", False),
        ("registry.person", "registry.person.registered", False),
        # '#': zero or more words (RabbitMQ semantics)
        ("registry.#", "registry.person.registered", True),
        ("registry.#", "registry.person", True),
        ("registry.#", "registry", True),
        ("registry.#", "mentoring.pair.matched", False),
        ("registry.#", "registryx.person.registered", False),
        ("#", "registry.person.registered", True),
        ("#", "registry", True),
        ("#", "a.b.c.d.e.f", True),
        ("#", "", True),
        ("#.registered", "registry.person.registered", True),
        ("#.registered", "registered", True),
        ("#.registered", "registry.person.registered.again", False),
        ("#.registered", "registry.person.removed", False),
        ("a.#.z", "a.z", True),
        ("a.#.z", "a.b.z", True),
        ("a.#.z", "a.b.c.d.z", True),
        ("a.#.z", "a.z.z", True),
        ("a.#.z", "a", False),
        ("a.#.z", "z", False),
        ("a.#.z", "a.b", False),
        ("a.#.z", "a.z.b", False),
        ("a.#.z", "b.a.z", False),
        ("#.#", "a.b", True),
        ("#.#", "a", True),
        # '*': exactly one word
        ("*.person.*", "registry.person.registered", True),
        ("*.person.*", "mentoring.person.updated", True),
        ("*.person.*", "registry.cluster.registered", False),
        ("*.person.*", "person.registered", False),
        ("*.person.*", "registry.person", False),
        ("*.person.*", "a.registry.person.registered", False),
        ("registry.*", "registry.person.registered", False),
        ("registry.*", "registry.person", True),
        ("registry.*", "registry", False),
        ("*", "registry", True),
        ("*", "registry.person", False),
        ("*.*.*", "registry.person.registered", True),
        ("*.*.*", "registry.person", False),
        ("*.#", "registry", True),
        ("*.#", "registry.person.registered", True),
        ("registry.*.#", "registry", False),
        ("registry.*.#", "registry.person", True),
    ],
)
def test_topic_matches(pattern: str, routing_key: str, expected: bool) -> None:
    assert topic_matches(pattern, routing_key) is expected


# --- names ----------------------------------------------------------------------------


def test_exchange_name() -> None:
    assert EXCHANGE == "booster.events"
    assert BusSettings().exchange == EXCHANGE


@pytest.mark.parametrize("service", ["registry", "mentoring", "events", "notifications"])
def test_queue_names(service: str) -> None:
    assert queue_name(service) == f"booster.{service}"
    assert dead_queue_name(service) == f"booster.{service}.dead"


@pytest.mark.parametrize(
    ("delay", "name"),
    [
        (0.1, "booster.svc.retry.100ms"),
        (0.2, "booster.svc.retry.200ms"),
        (0.5, "booster.svc.retry.500ms"),
        (1, "booster.svc.retry.1000ms"),
        (1.0, "booster.svc.retry.1000ms"),
        (5.0, "booster.svc.retry.5000ms"),
        (30.0, "booster.svc.retry.30000ms"),
        (120.0, "booster.svc.retry.120000ms"),
        (0.0015, "booster.svc.retry.2ms"),
    ],
)
def test_retry_queue_name(delay: float, name: str) -> None:
    assert retry_queue_name("svc", delay) == name


def test_another_exchange_gets_queues_of_its_own() -> None:
    assert queue_name("events", "staging.events") == "staging.events.events"
    assert dead_queue_name("events", "staging.events") == "staging.events.events.dead"
    assert retry_queue_name("events", 5, "staging.events") == "staging.events.events.retry.5000ms"
    topology = Topology("events", ("registry.#",), BusSettings(exchange="staging.events"))
    assert {queue.name for queue in topology.all_queues()} == {
        "staging.events.events",
        "staging.events.events.dead",
        *(f"staging.events.events.retry.{ms}ms" for ms in (1000, 5000, 30000, 120000)),
    }
    assert topology.queue.queue_arguments["x-dead-letter-routing-key"] == (
        "staging.events.events.dead"
    )


# --- Topology -------------------------------------------------------------------------


def test_exchange(topology: Topology) -> None:
    assert topology.exchange.name == "booster.events"
    assert topology.exchange.type == "topic"
    assert topology.exchange.durable is True


def test_main_queue(topology: Topology) -> None:
    queue = topology.queue

    assert queue.name == "booster.svc"
    assert queue.durable is True
    assert queue.queue_arguments == {
        "x-queue-type": "quorum",
        "x-quorum-initial-group-size": 3,
        "x-delivery-limit": 7,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "booster.svc.dead",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def test_main_queue_delivery_limit_defaults_from_bus_settings() -> None:
    topology = Topology(service="registry", bindings=(), settings=BusSettings())

    assert topology.queue.queue_arguments["x-delivery-limit"] == 20
    assert topology.queue.queue_arguments["x-dead-letter-routing-key"] == "booster.registry.dead"


def test_bindings_use_the_given_keys_on_the_configured_exchange(topology: Topology) -> None:
    bindings = topology.queue.bindings

    assert {b.routing_key for b in bindings} == set(BINDINGS)
    assert len(bindings) == len(BINDINGS)
    for item in bindings:
        assert item.exchange.name == "booster.events"
        assert item.exchange.type == "topic"


def test_no_bindings(bus: BusSettings) -> None:
    topology = Topology(service="svc", bindings=(), settings=bus)

    assert not topology.queue.bindings


def test_dead_queue(topology: Topology) -> None:
    dead = topology.dead_queue

    assert dead.name == "booster.svc.dead"
    assert dead.durable is True
    assert dead.queue_arguments == {"x-queue-type": "quorum", "x-quorum-initial-group-size": 3}
    assert not dead.bindings


def test_retry_queues(topology: Topology) -> None:
    retry = topology.retry_queues

    assert list(retry) == [0.1, 2.0, 30.0]
    for delay, queue in retry.items():
        ms = round(delay * 1000)
        assert queue.name == f"booster.svc.retry.{ms}ms"
        assert queue.durable is True
        assert queue.queue_arguments == {
            "x-queue-type": "quorum",
            "x-quorum-initial-group-size": 3,
            "x-message-ttl": ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": "booster.svc",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }
        assert not queue.bindings
    assert [q.queue_arguments["x-message-ttl"] for q in retry.values()] == [100, 2000, 30000]


def test_retry_queues_are_unique_and_sorted() -> None:
    bus = BusSettings(retry_delays=(5.0, 1.0, 5.0, 0.5))

    topology = Topology(service="svc", bindings=(), settings=bus)

    assert list(topology.retry_queues) == [0.5, 1.0, 5.0]
    assert [q.name for q in topology.retry_queues.values()] == [
        "booster.svc.retry.500ms",
        "booster.svc.retry.1000ms",
        "booster.svc.retry.5000ms",
    ]


def test_retry_queues_with_default_delays() -> None:
    topology = Topology(service="events", bindings=(), settings=BusSettings())

    assert [q.name for q in topology.retry_queues.values()] == [
        "booster.events.retry.1000ms",
        "booster.events.retry.5000ms",
        "booster.events.retry.30000ms",
        "booster.events.retry.120000ms",
    ]


def test_all_queues(topology: Topology) -> None:
    names = [q.name for q in topology.all_queues()]

    assert names == [
        "booster.svc",
        "booster.svc.dead",
        "booster.svc.retry.100ms",
        "booster.svc.retry.2000ms",
        "booster.svc.retry.30000ms",
    ]


def test_queues_are_built_once(topology: Topology) -> None:
    assert topology.queue is topology.queue
    assert topology.exchange is topology.exchange
    assert topology.retry_queues is topology.retry_queues


def test_memory_transport_is_not_amqp() -> None:
    with Connection("memory://") as connection:
        assert is_amqp(connection) is False


def test_amqp_transport_is_amqp_without_connecting() -> None:
    connection = Connection("amqp://guest:guest@127.0.0.1:1//")
    try:
        assert is_amqp(connection) is True
    finally:
        connection.release()
