"""The mentoring service's use cases: each takes a typed command (``domain/commands.py``)
and a unit of work (``domain/ports.py``), and is one transaction with its events.

None yet: the service's routes are still to be built (see the registry's for the pattern).
"""
