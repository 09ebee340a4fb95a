"""Who may see operational detail: ``/metrics`` and the checks of ``/readyz``.

Either the request came in on the admin listener (``BOOSTER_ADMIN_BIND``, a second
address ``booster serve`` binds, meant for the operators' network only: Prometheus,
the orchestrator), or it carries a token with scope ``ops:read`` (or ``admin``). On the
public listener ``/metrics`` needs such a token (401/403 otherwise) and ``/readyz``
answers only ready/not ready without saying which dependency is down. The admin
listener serves nothing but ``/healthz``, ``/readyz`` and ``/metrics`` (404 for the
rest, the API included).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from werkzeug.exceptions import NotFound

from shared.auth import OPS_SCOPE, TokenInvalid, TokenVerifier, bearer_principal
from shared.config import Settings, admin_port
from shared.errors import Forbidden

ADMIN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
ADMIN_PORT = "BOOSTER_ADMIN_PORT"


def on_admin_listener() -> bool:
    """True if the request arrived on the admin listener (the socket's own port, which
    a client cannot choose: not the ``Host`` header)."""
    port = current_app.config.get(ADMIN_PORT)
    return port is not None and request.environ.get("SERVER_PORT") == str(port)


def needs_token() -> bool:
    """True for a request that authenticates: the API, and ``/metrics`` outside the
    admin listener."""
    if request.path.startswith("/api/"):
        return request.endpoint is not None
    return request.path == "/metrics" and not on_admin_listener()


def detail_allowed(verifier: TokenVerifier) -> Callable[[], bool]:
    """For ``/readyz``: show which check failed only to operators."""

    def allowed() -> bool:
        if on_admin_listener():
            return True
        if "Authorization" not in request.headers:
            return False
        try:
            return bearer_principal(verifier).allows(OPS_SCOPE)
        except TokenInvalid:
            return False

    return allowed


def install(app: Flask, settings: Settings, verifier: TokenVerifier) -> None:
    """Guard ``/metrics`` and keep the admin listener to the operational endpoints."""
    app.config[ADMIN_PORT] = admin_port(settings.admin_bind) if settings.admin_bind else None

    @app.before_request
    def _guard() -> None:
        if on_admin_listener():
            if request.path not in ADMIN_PATHS:
                raise NotFound()
            return
        if request.path == "/metrics":
            if not bearer_principal(verifier).allows(OPS_SCOPE):
                raise Forbidden(f"/metrics needs the scope {OPS_SCOPE} (or the admin listener).")
