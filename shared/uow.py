"""The unit of work: one database transaction holding a change and the events it causes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session

from shared.db import Database
from shared.events.catalogue import CATALOGUE, Catalogue
from shared.events.envelope import CloudEvent
from shared.outbox import Outbox


class Transaction:
    """The open transaction: its session, and ``emit`` to stage an event in the outbox."""

    def __init__(self, session: Session, outbox: Outbox, catalogue: Catalogue) -> None:
        self.session = session
        self._outbox = outbox
        self._catalogue = catalogue
        self.events: list[CloudEvent] = []

    def emit(self, event_type: str, *, subject: str | None, data: Mapping[str, Any]) -> CloudEvent:
        """Validate and stage an event; it is published only if the transaction commits."""
        event_ = self._catalogue.make_event(event_type, subject=subject, data=data)
        self._outbox.add(self.session, event_)
        self.events.append(event_)
        return event_


class UnitOfWork:
    """A service's database, outbox and catalogue, opened one transaction at a time.

    ``begin()`` inside an open ``begin()`` of the same unit of work (same thread or
    task) joins the outer transaction: a request wrapper (idempotency) can then commit
    the stored response together with the change and its events.
    """

    def __init__(self, database: Database, outbox: Outbox, catalogue: Catalogue = CATALOGUE):
        self.database = database
        self.outbox = outbox
        self.catalogue = catalogue
        self._current: ContextVar[Transaction | None] = ContextVar(
            f"booster_tx_{id(self)}", default=None
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only (see ``Database.reading``); inside an open
        transaction, that transaction's session, so a write path reads its own writes."""
        outer = self._current.get()
        if outer is not None:
            yield outer.session
            return
        with self.database.reading() as session:
            yield session

    @contextmanager
    def begin(self) -> Iterator[Transaction]:
        """Commit the change and its events together, or neither."""
        outer = self._current.get()
        if outer is not None:
            yield outer
            return
        with self.database.session() as session:
            tx = Transaction(session, self.outbox, self.catalogue)
            token = self._current.set(tx)
            try:
                yield tx
            finally:
                self._current.reset(token)
