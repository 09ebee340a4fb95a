"""Integration fixtures: the demo service on a real database and the real broker."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from shared.config import BusSettings
from tests.integration.demo import Demo


@pytest.fixture
def demo(database_url: str, bus_settings: BusSettings, unique: str) -> Iterator[Demo]:
    """The demo service on SQLite and on PostgreSQL, with its own queues."""
    service = Demo(unique, database_url, bus_settings)
    yield service
    service.delete_queues()


@pytest.fixture
def demo_pg(postgres_url: str, bus_settings: BusSettings, unique: str) -> Iterator[Demo]:
    service = Demo(unique, postgres_url, bus_settings)
    yield service
    service.delete_queues()


@contextmanager
def running(*loops: object) -> Iterator[None]:
    """Run relays/consumers (objects with run/stop) in threads for a block."""
    threads = []
    for loop in loops:
        thread = threading.Thread(target=loop.run, daemon=True)  # type: ignore[attr-defined]
        thread.start()
        threads.append(thread)
    try:
        for loop in loops:
            assert loop.ready.wait(15), f"{loop} did not become ready"  # type: ignore[attr-defined]
        yield
    finally:
        for loop in loops:
            loop.stop()  # type: ignore[attr-defined]
        for thread in threads:
            thread.join(15)
            assert not thread.is_alive(), "a loop did not stop"


@pytest.fixture
def run_loops() -> Callable[..., object]:
    return running
