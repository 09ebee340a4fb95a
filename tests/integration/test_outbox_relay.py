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


def _other_connections(demo: Demo) -> int:
    """How many other sessions are connected to the demo's database."""
    with demo.database.engine.connect() as connection:
        count = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        ).scalar()
    demo.database.engine.dispose()
    return int(count or 0)


def test_relay_uses_one_connection_of_its_own_and_releases_it(demo_pg: Demo) -> None:
    """On PostgreSQL the relay claims on its own connection (not the API's pool, whose
    commits must stay durable) and gives it back, with its LISTEN connection, on stop."""
    demo_pg.database.engine.dispose()
    relay = demo_pg.relay()
    with running(relay):
        demo_pg.write(3)
        assert demo_pg.wait_for(lambda: demo_pg.unsent() == 0)
        demo_pg.database.engine.dispose()
        assert _other_connections(demo_pg) == 2  # its claims; its LISTEN and advisory lock
        with relay._engine.connect() as connection:  # noqa: SLF001 - the setting itself
            setting = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        assert setting == "off"
        with demo_pg.database.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    assert demo_pg.wait_for(lambda: _other_connections(demo_pg) == 0, timeout=10)
