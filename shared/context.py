"""The correlation context of the work in hand (an HTTP request or a consumed event).

Kept in context variables so that events published while handling a request or an
event carry the same ``correlationid`` and ``traceparent``, and logs show them.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import structlog

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class Correlation:
    """Ids that follow one piece of work across services.

    The work's own span (``traceparent``, a child of the caller's ``parent``) is drawn
    the first time it is asked for: most reads publish nothing and never need one."""

    correlation_id: str
    parent: str | None = None
    request_id: str | None = None

    @cached_property
    def traceparent(self) -> str:
        return new_traceparent(self.parent)


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
    correlation, tokens = begin(correlation_id, traceparent, request_id)
    try:
        yield correlation
    finally:
        end(tokens)


Tokens = tuple[Token[Correlation | None], Mapping[str, Token[Any]]]


def begin(
    correlation_id: str | None = None,
    traceparent: str | None = None,
    request_id: str | None = None,
) -> tuple[Correlation, Tokens]:
    """:func:`correlated` in two calls, for work whose start and end are two hooks (an
    HTTP request): the correlation, and the tokens :func:`end` takes."""
    correlation = Correlation(
        correlation_id=valid_id(correlation_id) or str(uuid.uuid4()),
        parent=traceparent,
        request_id=request_id,
    )
    token = _current.set(correlation)
    bound = {"correlation_id": correlation.correlation_id}
    if request_id:
        bound["request_id"] = request_id
    return correlation, (token, structlog.contextvars.bind_contextvars(**bound))


def end(tokens: Tokens) -> None:
    """Leave the correlation :func:`begin` entered."""
    token, bound = tokens
    structlog.contextvars.reset_contextvars(**bound)
    _current.reset(token)
