"""What the notifications service's use cases need from storage: its unit-of-work port.

Repositories are added here as the service's entities land (see
``services/registry/domain/ports.py`` for the pattern); the SQL implementation lives in
``adapters/repository.py``, the in-memory fake in ``adapters/memory.py``.
"""

from __future__ import annotations

from shared.uow import Transaction, UnitOfWork


class NotificationsTx(Transaction):
    """A unit of work of the notifications service (no repositories yet)."""


NotificationsUnitOfWork = UnitOfWork[NotificationsTx]
