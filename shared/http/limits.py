"""Rate limits (flask-limiter): failed authentications per client, writes per subject.

- **Failed authentication** (``BOOSTER_RATELIMIT_AUTH_FAILURES``, 10/minute): every
  401 counts against the client's address; once the budget is spent, every request of
  that client that needs a token is answered 429 until the window ends, without its
  token being looked at.
- **Writes** (``BOOSTER_RATELIMIT_WRITES``, 300/minute): every POST, PUT, PATCH or
  DELETE under ``/api/`` of an authenticated subject counts against the token's ``sub``.

Counters live in ``BOOSTER_RATELIMIT_STORAGE_URL``: ``memory://`` (one process: each
gunicorn worker counts on its own) or Redis (shared by every worker and service). If
Redis cannot be reached the limits go on in memory, per process. A refusal is a 429
problem document with ``Retry-After`` (seconds until the window ends).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import Flask, Response, g, request
from flask_limiter import ApplicationLimit, Limiter, RequestLimit

from shared.config import Settings
from shared.http.problems import problem
from shared.logging import get_logger

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STRATEGY = "fixed-window"
log = get_logger(__name__)


def _too_many(detail: str) -> Callable[[RequestLimit], Response]:
    def on_breach(limit: RequestLimit) -> Response:
        retry_after = max(1, math.ceil(limit.window.reset_time - time.time()))
        log.warning("rate limited", limit=str(limit.limit), client=request.remote_addr)
        return problem(429, detail, headers={"Retry-After": str(retry_after)})

    return on_breach


def _limiter(
    app: Flask,
    settings: Settings,
    rate: str,
    *,
    prefix: str,
    key: Callable[[], str],
    exempt: Callable[[], bool],
    deduct_when: Callable[[Response], bool] | None = None,
    detail: str,
) -> Limiter:
    limiter = Limiter(
        key,
        application_limits=[
            ApplicationLimit(
                rate,
                key_function=key,
                exempt_when=exempt,
                deduct_when=deduct_when,
                on_breach=_too_many(detail),
            )
        ],
        storage_uri=settings.ratelimit_storage_url,
        strategy=STRATEGY,
        key_prefix=prefix,
        headers_enabled=False,
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.init_app(app)
    return limiter


def limit_failed_authentication(
    app: Flask, settings: Settings, needs_token: Callable[[], bool]
) -> Limiter | None:
    """Install BEFORE authentication: a client whose 401s spent the budget gets 429.

    ``needs_token``: whether the request in hand is one that authenticates (others,
    like ``/healthz``, are never limited)."""
    if settings.ratelimit_auth_failures is None:
        return None
    return _limiter(
        app,
        settings,
        settings.ratelimit_auth_failures,
        prefix="booster-auth-failures",
        key=lambda: request.remote_addr or "unknown",
        exempt=lambda: not needs_token(),
        deduct_when=lambda response: response.status_code == 401,
        detail="Too many failed authentications from this client; retry later.",
    )


def limit_writes(app: Flask, settings: Settings, prefix: str = "/api/") -> Limiter | None:
    """Install AFTER authentication: writes per token subject."""
    if settings.ratelimit_writes is None:
        return None

    def exempt() -> bool:
        return (
            request.method not in WRITE_METHODS
            or not request.path.startswith(prefix)
            or g.get("principal") is None
        )

    return _limiter(
        app,
        settings,
        settings.ratelimit_writes,
        prefix="booster-writes",
        key=lambda: g.principal.subject,
        exempt=exempt,
        detail="Too many writes by this subject; retry later.",
    )
