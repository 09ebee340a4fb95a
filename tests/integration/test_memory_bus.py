"""The embedded bus (kombu memory://, what `booster run` uses): the same code paths work."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection

from shared.bus.topology import dead_queue_name
from shared.config import BusSettings
from tests.integration.conftest import running
from tests.integration.demo import Demo, always_fail, record


@pytest.fixture
def memory_demo(tmp_path: Path) -> Iterator[Demo]:
    service = "m" + uuid.uuid4().hex[:8]
    bus = BusSettings(
        broker_url="memory://",
        exchange=f"booster.events.{service}",
        retry_delays=(0.05, 0.1),
        max_attempts=3,
        relay_poll_interval=0.2,
    )
    demo = Demo(service, f"sqlite:///{tmp_path / 'memory.db'}", bus)
    yield demo
    demo.database.dispose()


def test_events_flow_and_failures_are_retried_then_dead_lettered(memory_demo: Demo) -> None:
    demo = memory_demo
    handlers = {"demo.item.created": record, "demo.item.broken": always_fail}
    demo.write(1, start=500, event_type="demo.item.broken")
    demo.write(120)
    with running(demo.relay(), demo.consumer(handlers)):
        assert demo.wait_for(lambda: len(demo.effect_counts()) == 120, timeout=20)
        with Connection("memory://") as connection:
            channel = connection.channel()
            assert demo.wait_for(
                lambda: (
                    channel.queue_declare(
                        dead_queue_name(demo.service, demo.bus.exchange), passive=True
                    ).message_count
                    == 1
                ),
                timeout=20,
            )
            letter = channel.basic_get(dead_queue_name(demo.service, demo.bus.exchange))
            assert letter.headers["x-booster-attempts"] == 3
            assert "cannot handle item 500" in letter.headers["x-booster-error"]
    assert set(demo.effect_counts().values()) == {1}
    assert demo.unsent() == 0
