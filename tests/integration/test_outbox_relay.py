"""The outbox: a rolled-back write publishes nothing; a committed one publishes once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kombu import Connection, Consumer, Queue
from sqlalchemy import func, select

from shared.bus.topology import Topology
from shared.events import CloudEvent, InvalidEventData, UnknownEventType
from tests.integration.conftest import running
from tests.integration.demo import Demo, items, outbox


@pytest.fixture
def spy(demo: Demo) -> Iterator[tuple[Connection, Queue]]:
    """A plain queue bound to the demo's exchange: what the relay really published."""
    topology = Topology(demo.service, (), demo.bus)
    with Connection(demo.bus.broker_url) as connection:
        queue = Queue(f"{demo.service}.spy", exchange=topology.exchange, routing_key="demo.#")
        queue.bind(connection.default_channel).declare()
        try:
            yield connection, queue
        finally:
            connection.default_channel.queue_delete(queue.name)


def _received(connection: Connection, queue: Queue) -> list[CloudEvent]:
    """Everything waiting in ``queue`` (acked)."""
    received: list[CloudEvent] = []
    consumer = Consumer(
        connection.channel(),
        queues=[queue],
        on_message=lambda m: (received.append(CloudEvent.from_json(m.body)), m.ack()),
    )
    with consumer:
        while True:
            try:
                connection.drain_events(timeout=1)
            except TimeoutError:
                return received


def test_rolled_back_write_is_never_published_committed_once(
    demo: Demo, spy: tuple[Connection, Queue]
) -> None:
    with pytest.raises(RuntimeError), demo.uow.begin() as tx:
        tx.emit("demo.item.created", subject="r", data={"name": "rolled back", "seq": -1})
        raise RuntimeError("the change fails after the event was staged")
    demo.write(3)

    with demo.database.session() as session:
        assert session.scalar(select(func.count()).select_from(outbox)) == 3
        assert session.scalar(select(func.count()).select_from(items)) == 3

    with running(demo.relay()):
        assert demo.wait_for(lambda: demo.unsent() == 0)
    received = _received(*spy)
    assert sorted(e.data["seq"] for e in received) == [0, 1, 2]
    assert len({e.id for e in received}) == 3
    first = received[0]
    assert first.source == "/booster/demo"
    assert first.specversion == "1.0"
    assert first.dataschema == "urn:booster:event:demo.item.created:v1"


def test_relay_publishes_again_after_restart_only_unsent(
    demo: Demo, spy: tuple[Connection, Queue]
) -> None:
    demo.write(5)
    with running(demo.relay()):
        assert demo.wait_for(lambda: demo.unsent() == 0)
    demo.write(2, start=5)
    assert demo.unsent() == 2
    with running(demo.relay()):  # a new relay: only the two unsent rows go out
        assert demo.wait_for(lambda: demo.unsent() == 0)
    received = _received(*spy)
    assert sorted(e.data["seq"] for e in received) == list(range(7))


def test_publisher_side_errors_are_raised_at_the_publisher(demo: Demo) -> None:
    with pytest.raises(UnknownEventType), demo.uow.begin() as tx:
        tx.emit("demo.item.vanished", subject="x", data={})
    with pytest.raises(InvalidEventData) as info, demo.uow.begin() as tx:
        tx.emit("demo.item.created", subject="x", data={"name": 3})
    assert "seq" in info.value.errors
    assert demo.unsent() == 0
