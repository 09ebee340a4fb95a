"""``booster dlq list`` and ``booster dlq replay`` against the real broker."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from kombu import Connection, Producer

from booster.cli import main
from shared.bus.consumer import ATTEMPTS_HEADER, ERROR_HEADER, FAILED_AT_HEADER
from shared.bus.topology import Topology, dead_queue_name, queue_name
from shared.config import BusSettings
from shared.events import CONTENT_TYPE, CloudEvent
from shared.testing import delete_queues

SERVICE = "notifications"


@pytest.fixture
def cli_env(cli_env: dict[str, str], bus_settings: BusSettings) -> dict[str, str]:
    """The CLI on the test's own exchange, hence its own queues."""
    return {
        **cli_env,
        "BOOSTER_BROKER_URL": bus_settings.broker_url,
        "BOOSTER_EXCHANGE": bus_settings.exchange,
        "BOOSTER_LOG_JSON": "false",
    }


@pytest.fixture
def queues(bus_settings: BusSettings) -> Iterator[Connection]:
    """The service's queue and dead-letter queue on the test's exchange; deleted after."""
    topology = Topology(SERVICE, (), bus_settings)
    with Connection(bus_settings.broker_url) as connection:
        topology.declare(connection)
        try:
            yield connection
        finally:
            delete_queues(SERVICE, bus_settings)


def _dead_letter(connection: Connection, exchange: str, seq: int) -> CloudEvent:
    event = CloudEvent(
        type="registry.person.registered", source="/booster/registry", data={"seq": seq}
    )
    Producer(connection.default_channel).publish(
        event.to_json(),
        routing_key=dead_queue_name(SERVICE, exchange),
        content_type=CONTENT_TYPE,
        content_encoding="utf-8",
        message_id=event.id,
        type=event.type,
        headers={
            ATTEMPTS_HEADER: 5,
            ERROR_HEADER: f"KeyError: {seq}",
            FAILED_AT_HEADER: "2026-01-01T00:00:00+00:00",
        },
    )
    return event


def _depth(connection: Connection, name: str) -> int:
    return connection.channel().queue_declare(name, passive=True).message_count


def test_list_then_replay_one_then_all(
    queues: Connection, cli_env: dict[str, str], bus_settings: BusSettings
) -> None:
    exchange = bus_settings.exchange
    first, second = _dead_letter(queues, exchange, 1), _dead_letter(queues, exchange, 2)
    runner = CliRunner()
    listed = runner.invoke(main, ["dlq", "list", SERVICE], env=cli_env)
    assert listed.exit_code == 0, listed.output
    letters = [json.loads(line) for line in listed.output.splitlines() if line.startswith("{")]
    assert [letter["message_id"] for letter in letters] == [first.id, second.id]
    assert letters[0]["error"] == "KeyError: 1" and letters[0]["attempts"] == 5

    one = runner.invoke(main, ["dlq", "replay", SERVICE, "--id", second.id], env=cli_env)
    assert one.exit_code == 0 and "replayed 1 message" in one.output
    missing = runner.invoke(main, ["dlq", "replay", SERVICE, "--id", "nope"], env=cli_env)
    assert missing.exit_code == 1 and "replayed 0 message" in missing.output
    rest = runner.invoke(main, ["dlq", "replay", SERVICE], env=cli_env)
    assert rest.exit_code == 0 and "replayed 1 message" in rest.output

    import time

    deadline = time.monotonic() + 10
    while _depth(queues, queue_name(SERVICE, exchange)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _depth(queues, queue_name(SERVICE, exchange)) == 2
    assert _depth(queues, dead_queue_name(SERVICE, exchange)) == 0


def test_a_missing_dead_letter_queue_is_a_clear_error(
    cli_env: dict[str, str], bus_settings: BusSettings
) -> None:
    result = CliRunner().invoke(main, ["dlq", "list", "events"], env=cli_env)
    assert result.exit_code == 1
    assert f"no queue {dead_queue_name('events', bus_settings.exchange)}" in result.output
