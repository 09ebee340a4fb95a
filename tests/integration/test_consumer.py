"""Consuming: idempotent (inbox), batched, retried with back-off, dead-lettered, replayed."""

from __future__ import annotations

import json
import threading

from kombu import Connection, Producer
from sqlalchemy import func, select

from shared.bus import dlq
from shared.bus.topology import dead_queue_name, queue_name
from shared.events import CONTENT_TYPE, CloudEvent
from tests.integration.conftest import running
from tests.integration.demo import Demo, always_fail, effects, inbox, record


def test_relay_to_consumer_handles_each_event_once(demo: Demo) -> None:
    demo.write(200)
    with running(demo.relay(), demo.consumer()):
        assert demo.wait_for(lambda: len(demo.effect_counts()) == 200)
    counts = demo.effect_counts()
    assert set(counts) == set(range(200))
    assert set(counts.values()) == {1}


def test_message_delivered_twice_is_handled_once(demo: Demo) -> None:
    consumer = demo.consumer()
    demo.write(1)
    with demo.database.session() as session:
        body = session.execute(select(demo_outbox_body())).scalar_one()
    with running(consumer):
        with Connection(demo.bus.broker_url) as connection:
            producer = Producer(connection.default_channel)
            for _ in range(3):  # the same event id, three deliveries
                producer.publish(
                    body,
                    exchange=demo.bus.exchange,
                    routing_key="demo.item.created",
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=2,
                )
        assert demo.wait_for(lambda: _inbox_count(demo) == 1)
        # give the two duplicates time to arrive and be dropped
        assert not demo.wait_for(lambda: sum(demo.effect_counts().values()) > 1, timeout=1.5)
    assert demo.effect_counts() == {0: 1}


def test_failing_handler_dead_letters_while_others_flow_then_replays(demo: Demo) -> None:
    handlers = {"demo.item.created": record, "demo.item.broken": always_fail}
    demo.write(1, start=1000, event_type="demo.item.broken")
    demo.write(50)
    with running(demo.relay(), demo.consumer(handlers)):
        assert demo.wait_for(lambda: len(demo.effect_counts()) == 50)
        with Connection(demo.bus.broker_url) as connection:
            assert demo.wait_for(
                lambda: _depth(connection, dead_queue_name(demo.service, demo.bus.exchange)) == 1
            )
            letters = dlq.list_dead(connection, demo.service, exchange=demo.bus.exchange)
            assert len(letters) == 1
            letter = letters[0]
            assert letter.type == "demo.item.broken"
            assert letter.attempts == demo.bus.max_attempts
            assert "RuntimeError: cannot handle item 1000" in letter.error
            assert letter.failed_at
            assert json.loads(letter.body)["data"]["seq"] == 1000
            # listing does not consume (the queue takes the peeked message back)
            assert demo.wait_for(
                lambda: _depth(connection, dead_queue_name(demo.service, demo.bus.exchange)) == 1
            )
    # the handler is fixed; replay returns the message to the service's queue
    with Connection(demo.bus.broker_url) as connection:
        assert dlq.replay(connection, demo.service, "no-such-id", demo.bus.exchange) == 0
        assert demo.wait_for(
            lambda: _depth(connection, dead_queue_name(demo.service, demo.bus.exchange)) == 1
        )
        assert dlq.replay(connection, demo.service, letter.message_id, demo.bus.exchange) == 1
        assert demo.wait_for(
            lambda: _depth(connection, queue_name(demo.service, demo.bus.exchange)) == 1
        )
        assert _depth(connection, dead_queue_name(demo.service, demo.bus.exchange)) == 0
    fixed = {"demo.item.created": record, "demo.item.broken": record}
    with running(demo.consumer(fixed)):
        assert demo.wait_for(lambda: 1000 in demo.effect_counts())
    assert demo.effect_counts()[1000] == 1


def test_unparseable_and_unhandled_messages_go_to_the_dead_letter_queue(demo: Demo) -> None:
    consumer = demo.consumer({"demo.#": record})
    with running(consumer), Connection(demo.bus.broker_url) as connection:
        producer = Producer(connection.default_channel)
        producer.publish(
            "not json",
            exchange=demo.bus.exchange,
            routing_key="demo.item.created",
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
        )
        assert demo.wait_for(
            lambda: _depth(connection, dead_queue_name(demo.service, demo.bus.exchange)) == 1
        )
        letter = dlq.list_dead(connection, demo.service, exchange=demo.bus.exchange)[0]
        assert "EnvelopeError" in letter.error
        assert letter.attempts == 1


def test_an_event_whose_data_breaks_its_schema_is_dead_lettered_at_once(demo: Demo) -> None:
    """No retry can fix data that breaks the contract: it goes to the dead-letter queue on
    the first attempt, the handler never sees it, and the next event flows."""
    consumer = demo.consumer({"demo.#": record})
    broken = CloudEvent(type="demo.item.created", source="/booster/demo", data={"name": 7})
    with running(consumer, demo.relay()), Connection(demo.bus.broker_url) as connection:
        producer = Producer(connection.default_channel)
        producer.publish(
            broken.to_json(),
            exchange=demo.bus.exchange,
            routing_key=broken.type,
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            message_id=broken.id,
        )
        assert demo.wait_for(
            lambda: _depth(connection, dead_queue_name(demo.service, demo.bus.exchange)) == 1
        )
        letter = dlq.list_dead(connection, demo.service, exchange=demo.bus.exchange)[0]
        assert "InvalidEventData" in letter.error and "seq" in letter.error
        assert letter.attempts == 1
        demo.write(1)
        assert demo.wait_for(lambda: demo.effect_counts() == {0: 1})
    assert 7 not in demo.effect_counts()


def demo_outbox_body():  # noqa: ANN201 - a column expression
    from tests.integration.demo import outbox

    return outbox.c.body


def _inbox_count(demo: Demo) -> int:
    with demo.database.session() as session:
        return session.scalar(select(func.count()).select_from(inbox))


def _depth(connection: Connection, name: str) -> int:
    channel = connection.channel()
    try:
        return channel.queue_declare(name, passive=True).message_count
    finally:
        channel.close()


def test_events_arrive_in_commit_order(demo: Demo) -> None:
    for seq in range(300):  # one transaction each, as separate API writes would be
        demo.write(1, start=seq)
    with running(demo.relay(), demo.consumer()):
        assert demo.wait_for(lambda: len(demo.effect_counts()) == 300)
    with demo.database.session() as session:
        handled = session.scalars(select(effects.c.seq).order_by(effects.c.id)).all()
    assert handled == list(range(300))


def test_one_relay_publishes_at_a_time_and_a_standby_takes_over(demo_pg: Demo) -> None:
    demo = demo_pg
    first, standby = demo.relay(), demo.relay()
    with running(first):
        standby_thread = threading.Thread(target=standby.run, daemon=True)
        standby_thread.start()
        try:
            assert not standby.ready.wait(1.5), "the standby must not publish while led"
            demo.write(10)
            assert demo.wait_for(lambda: demo.unsent() == 0)
        except BaseException:
            standby.stop()
            raise
    # the leader stopped (its lock released): the standby takes over
    try:
        assert standby.ready.wait(10)
        demo.write(10, start=10)
        assert demo.wait_for(lambda: demo.unsent() == 0)
    finally:
        standby.stop()
        standby_thread.join(10)
