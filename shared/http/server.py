"""The HTTP servers in front of the apps: no version in ``Server``, bounded requests.

- ``booster run`` serves with Werkzeug's development server through
  :class:`DevRequestHandler`: ``Server: booster`` (Werkzeug would name itself and the
  Python version), and the errors it answers itself before the app sees a request (a
  request line over 64 KiB: 414; a header line over 64 KiB or over 100 headers: 431; a
  malformed request line: 400) are problem documents too.
- ``booster serve`` runs gunicorn with :data:`GUNICORN_LIMITS`. gunicorn says
  ``Server: gunicorn`` (no version) and answers these errors itself, as a short HTML
  page (the app never sees them): a request line over 4,094 bytes: 414; more than 100
  headers or one over 8,190 bytes: 431; a malformed request: 400.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from shared.http.problems import PROBLEM_JSON

SERVER_NAME = "booster"
GUNICORN_LIMITS: dict[str, Any] = {
    "limit_request_line": 4094,
    "limit_request_fields": 100,
    "limit_request_field_size": 8190,
}
MAX_LOGGED = 200


class DevRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without versions, with problem+json errors."""

    def version_string(self) -> str:
        return SERVER_NAME

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        try:
            status = HTTPStatus(code)
            title, detail = status.phrase, status.description
        except ValueError:
            title, detail = "Error", ""
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": code, "detail": detail or title}
        ).encode()
        self.log_error("code %d, message %s", code, (message or "")[:MAX_LOGGED])
        self.send_response(code, title)
        self.send_header("Content-Type", PROBLEM_JSON)
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)
