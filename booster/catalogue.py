"""The platform's catalogue of integration events, assembled from each publisher's types."""

from __future__ import annotations

from functools import cache

from shared.events.catalogue import Catalogue
from shared.events.types import events, mentoring, registry

PUBLISHERS = (registry, mentoring, events)
"""The catalogue modules, one per publishing service."""


@cache
def platform_catalogue() -> Catalogue:
    """Every event type of the platform (built once, on first use)."""
    catalogue = Catalogue()
    for publisher in PUBLISHERS:
        publisher.register(catalogue)
    return catalogue
