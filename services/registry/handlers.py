"""Events the registry service subscribes to, and their handlers (none yet)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.bus.consumer import Handler

HANDLERS: Mapping[str, Handler] = {}
"""Event type (or topic pattern) -> handler: the one declaration of what it consumes."""
