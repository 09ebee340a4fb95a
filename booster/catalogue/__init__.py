"""The catalogue of integration events: every type, its data schema, version and doc.

One module per publishing service (``registry``, ``mentoring``, ``events``), each with a
``register(catalogue)``; :func:`platform_catalogue` assembles them. These schemas are
the only coupling between services. ``shared.events.catalogue`` holds the machinery
(validation, envelopes); the composition root holds the contract, since it is the one
place that may name the services.
"""

from __future__ import annotations

from functools import cache

from booster.catalogue import events, mentoring, notifications, registry
from shared.events.catalogue import Catalogue

PUBLISHERS = (registry, mentoring, events, notifications)
"""The catalogue modules, one per publishing service."""


@cache
def platform_catalogue() -> Catalogue:
    """Every event type of the platform (built once, on first use)."""
    catalogue = Catalogue()
    for publisher in PUBLISHERS:
        publisher.register(catalogue)
    return catalogue
