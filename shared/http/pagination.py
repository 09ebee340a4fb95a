"""List pagination: ``?limit=`` (1–200, default 20) and an opaque keyset ``cursor``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from marshmallow import Schema, fields, validate

from shared.http.problems import InvalidRequestPart

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 200


class PageArgs(Schema):
    """Query arguments every list accepts."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)
    )
    cursor = fields.String(
        load_default=None, metadata={"description": "next_cursor of the previous page"}
    )


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The ``{"items": [...], "next_cursor": ...}`` envelope of a list."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, kinds: tuple[type, ...]) -> list[Any] | None:
    """The key values a cursor holds, one of each type in ``kinds``; else a 422."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != len(kinds)
        or not all(type(v) is kind for v, kind in zip(values, kinds, strict=True))
        or any(isinstance(v, str) and "\x00" in v for v in values)
    ):
        raise invalid_cursor()
    return values


def invalid_cursor() -> InvalidRequestPart:
    """The 422 for a cursor this API did not issue."""
    return InvalidRequestPart(
        "The cursor is not valid.", errors={"cursor": ["Not a valid cursor."]}, location="query"
    )


def page(items: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> dict[str, Any]:
    """Cut a list fetched with ``limit + 1`` rows into a page and its next cursor."""
    has_more = len(items) > limit
    shown = list(items[:limit])
    return {
        "items": shown,
        "next_cursor": encode_cursor(key(shown[-1])) if has_more and shown else None,
    }
