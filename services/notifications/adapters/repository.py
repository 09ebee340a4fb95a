"""The notifications service's unit of work on its database (repositories join as entities land)."""

from __future__ import annotations

from services.notifications.domain.ports import NotificationsTx
from shared.sql_uow import SqlTransaction


class SqlNotificationsTx(SqlTransaction, NotificationsTx):
    """A database transaction of the notifications service, with its outbox."""
