"""Fixtures of the security suite: a real service as an outside client meets it, and the
log it writes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from booster.testing import ServiceHarness, service_harness
from shared.logging import configure_logging
from tests.conftest import TEST_SECRET
from tests.security.helpers import Log


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ServiceHarness]:
    """The registry on SQLite: the probes' target."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with service_harness("registry", url, tmp_path, TEST_SECRET) as harness:
        yield harness


@pytest.fixture
def log(restore_logging: None) -> Log:
    """The process's log as JSON lines, captured."""
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    return Log(stream)
