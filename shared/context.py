"""The correlation context of the work in hand (an HTTP request or a consumed event).

Kept in context variables so that events published while handling a request or an
event carry the same ``correlationid`` and ``traceparent``, and logs show them.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import structlog

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class Correlation:
    """Ids that follow one piece of work across services."""

    correlation_id: str
    traceparent: str
    request_id: str | None = None


_current: ContextVar[Correlation | None] = ContextVar("booster_correlation", default=None)


def new_traceparent(parent: str | None = None) -> str:
    """A W3C traceparent: a child span of ``parent`` when it is valid, else a new trace."""
    match = _TRACEPARENT.match(parent or "")
    if match and (match.group(1) == "0" * 32 or match.group(2) == "0" * 16):
        match = None  # all-zero ids are invalid (W3C Trace Context): start a new trace
    trace_id = match.group(1) if match else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def valid_id(value: str | None, max_length: int = 128) -> str | None:
    """Accept a caller's id only if it is short printable ASCII (they end up in logs)."""
    if value and len(value) <= max_length and value.isascii() and value.isprintable():
        return value
    return None


def current() -> Correlation | None:
    """The correlation of the work in hand, if any."""
    return _current.get()


@contextmanager
def correlated(
    correlation_id: str | None = None,
    traceparent: str | None = None,
    request_id: str | None = None,
) -> Iterator[Correlation]:
    """Run a block of work under a correlation (new ids where none are given)."""
    correlation = Correlation(
        correlation_id=valid_id(correlation_id) or str(uuid.uuid4()),
        traceparent=new_traceparent(traceparent),
        request_id=request_id,
    )
    token = _current.set(correlation)
    bound = {"correlation_id": correlation.correlation_id}
    if request_id:
        bound["request_id"] = request_id
    with structlog.contextvars.bound_contextvars(**bound):
        try:
            yield correlation
        finally:
            _current.reset(token)
