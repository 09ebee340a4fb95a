"""Rate limits (the ``limits`` library): failed authentications per client, writes per
subject.

- **Failed authentication** (``BOOSTER_RATELIMIT_AUTH_FAILURES``, 10/minute): every
  401 counts against the client's address; once the budget is spent, every request of
  that client that needs a token is answered 429 until the window ends, without its
  token being looked at.
- **Writes** (``BOOSTER_RATELIMIT_WRITES``, 300/minute): every POST, PUT, PATCH or
  DELETE under ``/api/`` of an authenticated subject counts against the token's ``sub``.

Counters live in ``BOOSTER_RATELIMIT_STORAGE_URL``: ``memory://`` (one process: each
gunicorn worker counts on its own) or Redis (shared by every worker and service). If
Redis cannot be reached the limits go on in memory, per process, and Redis is tried
again after :data:`RETRY_STORAGE_SECONDS`. A refusal is a 429 problem document with
``Retry-After`` (seconds until the window ends).

The checks are two plain hooks over a fixed-window counter: a read costs one counter
lookup (is this client's failure budget spent?), and nothing else. (flask-limiter, used
before, evaluated its whole limit machinery on every request: a fifth of a cached
detail read.)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, Response, g, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from shared.config import Settings
from shared.http.problems import problem
from shared.logging import get_logger

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_STORAGE_SECONDS = 30.0
AUTH_FAILURES_DETAIL = "Too many failed authentications from this client; retry later."
WRITES_DETAIL = "Too many writes by this subject; retry later."
log = get_logger(__name__)


@dataclass
class Counters:
    """Fixed-window counters in the configured storage, or in this process's memory
    while that storage cannot be reached."""

    storage_url: str
    _shared: FixedWindowRateLimiter = field(init=False)
    _errors: tuple[type[Exception], ...] = field(init=False)
    _local: FixedWindowRateLimiter = field(init=False)
    _local_until: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        storage = storage_from_string(self.storage_url)
        if not isinstance(storage, Storage):  # an async storage (async+redis://)
            raise ValueError(f"not a synchronous rate-limit storage: {self.storage_url}")
        errors = storage.base_exceptions
        self._errors = errors if isinstance(errors, tuple) else (errors,)
        self._shared = FixedWindowRateLimiter(storage)
        self._local = FixedWindowRateLimiter(MemoryStorage())

    def _limiter(self) -> FixedWindowRateLimiter:
        return self._local if time.monotonic() < self._local_until else self._shared

    def _fall_back(self, exc: Exception) -> FixedWindowRateLimiter:
        log.warning(
            "rate-limit storage unreachable; counting in memory",
            error=type(exc).__name__,
            retry_in_s=RETRY_STORAGE_SECONDS,
        )
        self._local_until = time.monotonic() + RETRY_STORAGE_SECONDS
        return self._local

    def spent(self, item: RateLimitItem, *key: str) -> bool:
        """True if ``key``'s budget for the window is used up (nothing is counted)."""
        limiter = self._limiter()
        try:
            return not limiter.test(item, *key)
        except self._errors as exc:
            return not self._fall_back(exc).test(item, *key)

    def hit(self, item: RateLimitItem, *key: str) -> bool:
        """Count one; False if that was beyond the budget."""
        limiter = self._limiter()
        try:
            return limiter.hit(item, *key)
        except self._errors as exc:
            return self._fall_back(exc).hit(item, *key)

    def retry_after(self, item: RateLimitItem, *key: str) -> int:
        """Whole seconds until ``key``'s window ends (at least 1)."""
        limiter = self._limiter()
        try:
            reset = limiter.get_window_stats(item, *key).reset_time
        except self._errors as exc:
            reset = self._fall_back(exc).get_window_stats(item, *key).reset_time
        return max(1, math.ceil(reset - time.time()))


def _too_many(
    counters: Counters, item: RateLimitItem, key: tuple[str, ...], detail: str
) -> Response:
    log.warning("rate limited", limit=str(item), client=request.remote_addr)
    retry_after = counters.retry_after(item, *key)
    return problem(429, detail, headers={"Retry-After": str(retry_after)})


def _counters(app: Flask, settings: Settings) -> Counters:
    """One set of counters per app (both limits share the storage's connection)."""
    counters = app.extensions.get("booster_rate_counters")
    if counters is None:
        counters = app.extensions["booster_rate_counters"] = Counters(
            settings.ratelimit_storage_url
        )
    return counters


def limit_failed_authentication(
    app: Flask, settings: Settings, needs_token: Callable[[], bool]
) -> None:
    """Install BEFORE authentication: a client whose 401s spent the budget gets 429.

    ``needs_token``: whether the request in hand is one that authenticates (others,
    like ``/healthz``, are never limited)."""
    if settings.ratelimit_auth_failures is None:
        return
    item = parse(settings.ratelimit_auth_failures)
    counters = _counters(app, settings)

    def key() -> tuple[str, ...]:
        return ("booster-auth-failures", request.remote_addr or "unknown")

    @app.before_request
    def _refuse_spent_clients() -> Response | None:
        if not needs_token():
            return None
        client = key()
        if counters.spent(item, *client):
            return _too_many(counters, item, client, AUTH_FAILURES_DETAIL)
        return None

    @app.after_request
    def _count_failure(response: Response) -> Response:
        if response.status_code == 401 and needs_token():
            counters.hit(item, *key())
        return response


def limit_writes(app: Flask, settings: Settings, prefix: str = "/api/") -> None:
    """Install AFTER authentication: writes per token subject."""
    if settings.ratelimit_writes is None:
        return
    item = parse(settings.ratelimit_writes)
    counters = _counters(app, settings)

    @app.before_request
    def _count_write() -> Response | None:
        if request.method not in WRITE_METHODS or not request.path.startswith(prefix):
            return None
        principal = g.get("principal")
        if principal is None:
            return None
        key = ("booster-writes", principal.subject)
        if not counters.hit(item, *key):
            return _too_many(counters, item, key, WRITES_DETAIL)
        return None
