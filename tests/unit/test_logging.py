"""Logs are JSON lines carrying the correlation and request ids."""

from __future__ import annotations

import json
import logging

import pytest

from shared import context
from shared.logging import configure_logging, get_logger


def test_json_lines_with_ids(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    with context.correlated("corr-7", request_id="req-9"):
        get_logger("booster.test").info("something happened", answer=42)
    logging.getLogger("plain.stdlib").warning("from the standard library")
    get_logger("booster.test").debug("below the level")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["event"] == "something happened" and first["answer"] == 42
    assert first["correlation_id"] == "corr-7" and first["request_id"] == "req-9"
    assert first["level"] == "info" and first["timestamp"].endswith("Z")
    assert second["event"] == "from the standard library" and second["level"] == "warning"
    assert "correlation_id" not in second
