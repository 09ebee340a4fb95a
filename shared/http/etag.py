"""Optimistic concurrency: version-based ETags and ``If-Match``."""

from __future__ import annotations

from flask import request

from shared.errors import PreconditionFailed


def etag(entity_id: str, version: int) -> str:
    """The strong ETag of one version of one entity."""
    return f'"{entity_id}.{version}"'


def check_if_match(current: str) -> None:
    """Refuse (412) a write whose ``If-Match`` names another version; absent is allowed."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    candidates = {value.strip() for value in header.split(",")}
    if "*" in candidates or current in candidates:
        return
    raise PreconditionFailed("The resource has changed since you read it; read it again.")
