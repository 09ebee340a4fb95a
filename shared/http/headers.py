"""Security headers on every response, and ``Cache-Control: no-store`` on personal data.

Every ``/api/`` answer is behind a token and most name people (people, registrations,
enrolments, notifications, a person's own ``/me/*``): none may be kept by a browser or
a shared cache, so the whole API says ``no-store``, and so do the calendar feeds
(``/feeds/``) and the operational endpoints (``/readyz`` detail, ``/metrics``).

HTML (the ``/docs`` page) gets a policy that loads scripts and styles from the service
itself only; everything else a policy that allows nothing (a JSON answer never runs
anything). No response names a server version: ``Server`` is set by gunicorn
(``gunicorn``, no version) and by the development server (``booster``, see
:mod:`shared.http.server`).
"""

from __future__ import annotations

from flask import Flask, Response, request

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
HTML_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
)
PRIVATE_PREFIXES = ("/api/", "/feeds/", "/readyz", "/metrics")


def install(app: Flask) -> None:
    @app.after_request
    def _secure(response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        policy = HTML_POLICY if response.mimetype == "text/html" else API_POLICY
        headers.extend(
            (name, value)
            for name, value in (*SECURITY_HEADERS.items(), ("Content-Security-Policy", policy))
            if name.lower() not in present
        )
        if request.path.startswith(PRIVATE_PREFIXES):
            if "cache-control" in present:
                headers["Cache-Control"] = "no-store"
            else:
                headers.add("Cache-Control", "no-store")
        return response
