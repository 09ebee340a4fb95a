"""Events the events service subscribes to, and their handlers."""

from __future__ import annotations

from collections.abc import Mapping

from shared.bus.consumer import Handler
from shared.service import Runtime


def subscriptions(runtime: Runtime) -> Mapping[str, Handler]:
    """Event type (or topic pattern) -> handler."""
    return {}
