"""Fixtures shared by every test tier."""

from __future__ import annotations

import dataclasses
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from kombu import Connection

import shared.logging
from booster.platform import SERVICE_NAMES
from shared import testing
from shared.config import BusSettings, Settings

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    testing.stop_containers()


@pytest.fixture(scope="session")
def broker_url() -> str:
    return testing.find_broker()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return testing.find_postgres()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test's own."""
    with testing.fresh_postgres_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin_url")
        with testing.fresh_postgres_database(admin) as url:
            yield url


@pytest.fixture
def unique() -> str:
    """A short unique name so tests sharing the broker do not collide."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def bus_settings(broker_url: str, unique: str) -> Iterator[BusSettings]:
    """Bus settings on the real broker, with this test's own exchange; cleaned up after."""
    settings = BusSettings(
        broker_url=broker_url,
        exchange=f"booster.events.{unique}",
        retry_delays=(0.1, 0.2),
        max_attempts=3,
        relay_poll_interval=0.5,
    )
    yield settings
    # every worker declares every subscribing service's queues on the test's exchange:
    # leaving them behind piles up quorum queues on the shared broker
    for service in SERVICE_NAMES:
        testing.delete_queues(service, settings)
    with Connection(broker_url) as connection:
        channel = connection.channel()
        try:
            channel.exchange_delete(settings.exchange)
        finally:
            channel.close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo the logging setup that a CLI call (``configure_logging``) installs."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    output = dataclasses.replace(shared.logging.OUTPUT)
    yield
    shared.logging.OUTPUT.__dict__.update(output.__dict__)
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.configure(**config)


@pytest.fixture
def cli_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> dict[str, str]:
    """A clean BOOSTER_* environment for invoking ``booster`` with click's CliRunner."""
    for name in list(os.environ):
        if name.startswith("BOOSTER_"):
            monkeypatch.delenv(name)
    return {"BOOSTER_JWT_SECRET": TEST_SECRET, "BOOSTER_VAR_DIR": str(tmp_path / "cli-var")}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", var_dir=tmp_path, jwt_secret=TEST_SECRET)
