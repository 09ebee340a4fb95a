"""The unit of work on a service's database: one transaction, its outbox rows included.

A service's SQL transaction class (``adapters/repository.py``) subclasses
:class:`SqlTransaction` and its own port, and builds its repositories from
``self.session``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from shared.db import Database
from shared.events.catalogue import Catalogue
from shared.events.envelope import CloudEvent
from shared.outbox import Outbox
from shared.uow import ReadOnly, Transaction, UnitOfWork


class SqlTransaction(Transaction):
    """An open database transaction; ``emit`` writes the event into the outbox."""

    def __init__(self, session: Session, outbox: Outbox | None, catalogue: Catalogue) -> None:
        """``outbox`` None: a read-only unit (``emit`` raises)."""
        self.session = session
        self.catalogue = catalogue
        self._outbox = outbox
        self.emitted: list[CloudEvent] = []
        """What this transaction emitted, in order (a service's ``events`` may be a repository)."""

    def emit(self, event_type: str, *, subject: str | None, data: Mapping[str, Any]) -> CloudEvent:
        if self._outbox is None:
            raise ReadOnly(f"{event_type} emitted in a read-only unit of work")
        event_ = self.catalogue.make_event(event_type, subject=subject, data=data)
        self._outbox.add(self.session, event_)
        self.emitted.append(event_)
        return event_


ST = TypeVar("ST", bound=SqlTransaction)
TransactionFactory = Callable[[Session, Outbox | None, Catalogue], ST]


class SqlUnitOfWork(UnitOfWork[ST]):
    """A service's database, outbox and catalogue, opened one transaction at a time."""

    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        catalogue: Catalogue,
        transaction: TransactionFactory[ST],
    ) -> None:
        """``transaction``: builds the service's transaction (its repositories) on a session."""
        self.database = database
        self.outbox = outbox
        self.catalogue = catalogue
        self._transaction = transaction
        self._current: ContextVar[ST | None] = ContextVar(f"booster_tx_{id(self)}", default=None)

    @contextmanager
    def begin(self) -> Iterator[ST]:
        outer = self._current.get()
        if outer is not None:
            yield outer
            return
        with self.database.session() as session:
            tx = self._transaction(session, self.outbox, self.catalogue)
            token = self._current.set(tx)
            try:
                yield tx
            finally:
                self._current.reset(token)

    @contextmanager
    def read(self) -> Iterator[ST]:
        """Without a transaction (see ``Database.reading``): each statement sees the
        latest committed data."""
        outer = self._current.get()
        if outer is not None:
            yield outer
            return
        with self.database.reading() as session:
            yield self._transaction(session, None, self.catalogue)
