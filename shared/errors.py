"""The platform's exception tree: what went wrong, in the domain's words.

These errors say nothing of HTTP: ``shared.http.problems`` maps each class to a
status and a title in one table. Services raise them (or their own subclasses) from
use cases and domain rules alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PlatformError(Exception):
    """Base of every expected error a service raises on purpose."""

    def __init__(self, detail: str = "", *, errors: Mapping[str, Any] | None = None) -> None:
        """``detail``: one sentence for a person; ``errors``: field -> messages."""
        super().__init__(detail or type(self).__name__)
        self.detail = detail
        self.errors = dict(errors) if errors else None


class NotFound(PlatformError):
    """The entity does not exist (or is not visible to the caller)."""


class Conflict(PlatformError):
    """The request contradicts the current state (a duplicate, a full event, ...)."""


class InvalidTransition(Conflict):
    """A state change that the entity's current state does not allow."""


class PreconditionFailed(PlatformError):
    """The caller's expected version is stale (someone else changed the entity)."""


class InvalidInput(PlatformError):
    """Input that is well-formed but breaks a domain rule."""


class Unauthorized(PlatformError):
    """No valid credentials."""


class Forbidden(PlatformError):
    """Valid credentials without the right to do this."""
