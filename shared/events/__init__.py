"""Integration events: the CloudEvents envelope and the catalogue of types."""

from shared.events.catalogue import (
    Catalogue,
    EventType,
    InvalidEventData,
    UnknownEventType,
)
from shared.events.envelope import CONTENT_TYPE, CloudEvent, EnvelopeError

__all__ = [
    "CONTENT_TYPE",
    "Catalogue",
    "CloudEvent",
    "EnvelopeError",
    "EventType",
    "InvalidEventData",
    "UnknownEventType",
]
