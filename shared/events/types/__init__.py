"""The catalogued event types, one module per publishing service.

Each module's ``register(catalogue)`` adds its types; the composition root
(``booster.catalogue``) assembles the platform's catalogue from them. Nothing is
registered on import.
"""
