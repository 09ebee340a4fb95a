"""The catalogued event types, one module per publishing service.

Importing this package fills ``shared.events.CATALOGUE``.
"""

from shared.events.types import registry

__all__ = ["registry"]
