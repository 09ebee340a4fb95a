"""The platform's exception tree; ``shared.http.problems`` maps it to problem+json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PlatformError(Exception):
    """Base of every expected error a service raises on purpose."""

    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str = "",
        *,
        errors: Mapping[str, Any] | None = None,
        location: str = "json",
    ) -> None:
        """``errors``: field -> messages; ``location``: json, query or headers."""
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = dict(errors) if errors else None
        self.location = location


class NotFound(PlatformError):
    status = 404
    title = "Not found"


class Conflict(PlatformError):
    status = 409
    title = "Conflict"


class InvalidTransition(Conflict):
    """A state change that the entity's current state does not allow."""

    title = "Invalid state transition"


class PreconditionFailed(PlatformError):
    """An ``If-Match`` that no longer matches (a stale write)."""

    status = 412
    title = "Precondition failed"


class InvalidInput(PlatformError):
    """Input that passed the schema but breaks a domain rule."""

    status = 422
    title = "Unprocessable content"


class Unauthorized(PlatformError):
    status = 401
    title = "Unauthorized"


class Forbidden(PlatformError):
    status = 403
    title = "Forbidden"
