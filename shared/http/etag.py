"""Optimistic concurrency: version-based ETags and ``If-Match``.

An entity's ETag is ``"<id>.<version>"``. A write may send ``If-Match`` with the ETag
it read; the operation then refuses (412) if the entity has moved on. Without
``If-Match`` the write applies to the current version.
"""

from __future__ import annotations

import re

from flask import request

STALE = -1
"""A version no entity has: an ``If-Match`` naming no version of this entity."""
VERSION = re.compile(r"[0-9]{1,18}")
"""A version as an ETag shows it: ASCII digits, small enough for a 64-bit column.
Anything else (``²``, Arabic-Indic digits, 5,000 digits) names no version: 412."""


def etag(entity_id: str, version: int) -> str:
    """The strong ETag of one version of one entity."""
    return f'"{entity_id}.{version}"'


def expected_version(entity_id: str) -> int | None:
    """The version ``If-Match`` names for ``entity_id``: None if absent or ``*``."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    prefix = f'"{entity_id}.'
    for candidate in (value.strip().removeprefix("W/") for value in header.split(",")):
        if candidate == "*":
            return None
        if candidate.startswith(prefix) and candidate.endswith('"'):
            number = candidate[len(prefix) : -1]
            if VERSION.fullmatch(number):
                return int(number)
    return STALE
