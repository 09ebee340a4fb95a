"""Logs are JSON lines carrying the correlation and request ids; console lines when a
person reads them at a terminal."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared import context
from shared.logging import configure_logging, get_logger, wants_json


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


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        super().isatty()  # ValueError once closed, like a real stream
        return True


@pytest.mark.parametrize(
    ("stream", "json_setting", "json_lines"),
    [
        (io.StringIO(), None, True),  # a file or a pipe: JSON
        (Terminal(), None, False),  # a person at a terminal: console lines
        (Terminal(), True, True),  # BOOSTER_LOG_JSON=true forces JSON
        (io.StringIO(), False, False),  # BOOSTER_LOG_JSON=false forces the console
    ],
)
def test_json_unless_a_terminal_reads_the_logs(
    restore_logging: None, stream: io.StringIO, json_setting: bool | None, json_lines: bool
) -> None:
    configure_logging("INFO", json=json_setting, stream=stream)
    with context.correlated("corr-1", request_id="req-1"):
        get_logger("booster.test").info("hello", answer=42)
    [line] = stream.getvalue().splitlines()
    if json_lines:
        record = json.loads(line)
        assert record["event"] == "hello" and record["request_id"] == "req-1"
    else:
        assert not line.startswith("{")
        assert "hello" in line and "answer" in line and "42" in line and "req-1" in line
    assert wants_json(json_setting, stream) is json_lines


def test_the_development_servers_own_request_lines_are_dropped(restore_logging: None) -> None:
    """``booster run`` serves with werkzeug, which logs each request itself (INFO); the
    access log already has it, with its ids: one line per request, not two."""
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.info('127.0.0.1 - - "GET /api/v1/clusters HTTP/1.1" 200 -')
    werkzeug.error("Error on request: a real problem")
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["event"] == "Error on request: a real problem"


def test_a_closed_stream_counts_as_no_terminal() -> None:
    closed = Terminal()
    closed.close()
    assert wants_json(None, closed) is True
