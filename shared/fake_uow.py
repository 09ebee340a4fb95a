"""An in-memory unit of work for unit tests of use cases: no database, no broker.

A service's fake transaction (``adapters/memory.py``) subclasses
:class:`FakeTransaction` and its own port, holding in-memory repositories as
attributes. :class:`FakeUnitOfWork` keeps one such transaction: on an error inside
``begin()`` every attribute is put back as it was (a rollback), on success the staged
events move to ``uow.events`` (what the outbox would publish). Tests assert that
state, not calls.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from shared.events.catalogue import Catalogue
from shared.events.envelope import CloudEvent
from shared.uow import ReadOnly, Transaction, UnitOfWork

_NOT_STATE = ("catalogue", "staged", "read_only")


class FakeTransaction(Transaction):
    """Staged events, validated against the real catalogue as the outbox would."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.staged: list[CloudEvent] = []
        self.read_only = False

    def emit(self, event_type: str, *, subject: str | None, data: Mapping[str, Any]) -> CloudEvent:
        if self.read_only:
            raise ReadOnly(f"{event_type} emitted in a read-only unit of work")
        event_ = self.catalogue.make_event(event_type, subject=subject, data=data)
        self.staged.append(event_)
        return event_


FT = TypeVar("FT", bound=FakeTransaction)


class FakeUnitOfWork(UnitOfWork[FT]):
    """Commits into the fake transaction's repositories; rolls back on an error."""

    def __init__(self, transaction: FT) -> None:
        self.tx = transaction
        self.events: list[CloudEvent] = []
        """Every event committed so far, in order."""
        self.commits = 0
        self._open = False

    @contextmanager
    def begin(self) -> Iterator[FT]:
        if self._open:
            yield self.tx
            return
        saved = copy.deepcopy(_state(self.tx))
        self._open = True
        try:
            yield self.tx
        except BaseException:
            vars(self.tx).update(saved)
            raise
        else:
            self.events.extend(self.tx.staged)
            self.commits += 1
        finally:
            self.tx.staged.clear()
            self._open = False

    @contextmanager
    def read(self) -> Iterator[FT]:
        if self._open:
            yield self.tx
            return
        self.tx.read_only = True
        try:
            yield self.tx
        finally:
            self.tx.read_only = False

    def types(self) -> list[str]:
        """The types of the committed events, in order."""
        return [event_.type for event_ in self.events]


def _state(tx: FakeTransaction) -> dict[str, Any]:
    return {name: value for name, value in vars(tx).items() if name not in _NOT_STATE}
