"""What every probe of the security suite checks: a 4xx problem and a bounded log."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from werkzeug.test import TestResponse

from shared.http import PROBLEM_JSON

MAX_LOG_BYTES = 2048
"""What one refused request may write to the log, at most (a traceback is ~100 KB)."""


@dataclass
class Log:
    """The JSON log lines the process writes, read a stretch at a time."""

    stream: io.StringIO
    mark: int = 0

    def since_mark(self) -> str:
        text = self.stream.getvalue()
        written, self.mark = text[self.mark :], len(text)
        return written

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]


def assert_refused(
    response: TestResponse, log: Log, status: int | tuple[int, ...] | None = None
) -> dict[str, Any]:
    """A 4xx problem document (``status`` if given), and a bounded log without a traceback."""
    text = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, text[:500])
    if status is not None:
        expected = (status,) if isinstance(status, int) else status
        assert response.status_code in expected, (response.status_code, text[:500])
    assert response.mimetype == PROBLEM_JSON, response.mimetype
    body = json.loads(text)
    assert body["status"] == response.status_code
    assert "Traceback" not in text
    written = log.since_mark()
    assert len(written.encode()) <= MAX_LOG_BYTES, f"{len(written)} bytes logged: {written[:300]}"
    assert "Traceback" not in written
    return body
