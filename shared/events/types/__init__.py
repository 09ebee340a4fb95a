"""The catalogued event types, one module per publishing service.

Importing this package fills ``shared.events.CATALOGUE``.
"""
