"""The mentoring service's unit of work on its database (repositories join as entities land)."""

from __future__ import annotations

from services.mentoring.domain.ports import MentoringTx
from shared.sql_uow import SqlTransaction


class SqlMentoringTx(SqlTransaction, MentoringTx):
    """A database transaction of the mentoring service, with its outbox."""
