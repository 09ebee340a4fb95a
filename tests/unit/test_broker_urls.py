"""BOOSTER_BROKER_URL with several nodes (';'), and the connections made from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.bus.connection import check_broker, connect
from shared.config import BusSettings, ConfigError, Settings

A = "amqp://guest:guest@127.0.0.1:5681//"
B = "amqp://guest:guest@127.0.0.1:5682//"
C = "amqp://guest:guest@127.0.0.1:5683//"


def _from_env(tmp_path: Path, url: str) -> Settings:
    environ = {"BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_BROKER_URL": url}
    return Settings.from_env(environ, services=("registry",))


def test_several_urls_are_the_nodes_of_one_broker(tmp_path: Path) -> None:
    settings = _from_env(tmp_path, f" {A} ; {B};{C}; ")

    assert settings.bus.broker_url == f"{A};{B};{C}"
    assert settings.bus.broker_urls == (A, B, C)


def test_one_url_is_a_list_of_one(tmp_path: Path) -> None:
    assert _from_env(tmp_path, A).bus.broker_urls == (A,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"{A};redis://x:secret@h", "redis://x:***@h"),
        (f"{A};memory://", "memory:// cannot be one of several"),
        (f"memory://;{A}", "memory:// cannot be one of several"),
    ],
)
def test_every_url_is_checked(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="BOOSTER_BROKER_URL") as error:
        _from_env(tmp_path, value)

    assert message in str(error.value)
    assert "secret" not in str(error.value)


def test_each_connection_starts_one_node_further() -> None:
    bus = BusSettings(broker_url=f"{A};{B};{C}")

    firsts = [connect(bus).port for _ in range(6)]

    assert sorted(firsts[:3]) == [5681, 5682, 5683]
    assert firsts[3:] == firsts[:3]
    connection = connect(bus)
    assert len(connection.alt) == 3 and connection.cycle is not None  # it fails over


def test_the_heartbeat_comes_from_the_url_and_bounds_blocking_waits() -> None:
    default = connect(BusSettings(broker_url=A))
    short = connect(BusSettings(broker_url=f"{A}?heartbeat=3"))

    assert default.heartbeat == 60
    assert default.transport_options["read_timeout"] == 120
    assert short.heartbeat == 3
    assert short.transport_options["read_timeout"] == 6
    assert short.transport_options["write_timeout"] == 6


@pytest.mark.broker
def test_readiness_passes_while_one_node_answers(broker_url: str) -> None:
    down = "amqp://guest:guest@127.0.0.1:1//"

    for _ in range(2):  # whichever node the check starts with
        check_broker(BusSettings(broker_url=f"{down};{broker_url}"))

    with pytest.raises(Exception):  # noqa: B017 - kombu's or the socket's error
        check_broker(BusSettings(broker_url=f"{down};{down}"), timeout=1.0)
