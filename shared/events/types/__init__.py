"""The catalogued event types, one module per publishing service.

Importing this package fills ``shared.events.CATALOGUE``.
"""

from shared.events.types import events, mentoring, registry

__all__ = ["events", "mentoring", "registry"]
