"""The unit of work, as ports: what a use case sees of one atomic change.

A use case opens ``uow.begin()`` and gets a :class:`Transaction`: the service's
repositories (``tx.clusters``, ``tx.people``, ... declared on the service's own
subclass in ``domain/ports.py``) and :meth:`Transaction.emit`, which stages an
integration event to be published only if the change commits. ``uow.read()`` gives
the same repositories for reads only.

Two implementations: ``shared.sql_uow`` (a database transaction with its outbox) and
``shared.fake_uow`` (in memory, for unit tests of use cases). This module imports
neither SQLAlchemy nor any framework, so domain ports may build on it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from shared.events.envelope import CloudEvent


class ReadOnly(RuntimeError):
    """An event emitted through a unit of work opened for reads only (a bug)."""


class Transaction(ABC):
    """One unit of work in progress: a service's repositories, and ``emit``."""

    @abstractmethod
    def emit(self, event_type: str, *, subject: str | None, data: Mapping[str, Any]) -> CloudEvent:
        """Validate and stage an integration event; it goes out only if the unit commits."""


T = TypeVar("T", bound=Transaction, covariant=True)
"""Covariant: a unit of work of a fake transaction is a unit of work of its port."""


class UnitOfWork(ABC, Generic[T]):
    """Opens units of work of one service, one at a time per thread.

    ``begin()`` inside an open ``begin()`` (same thread or task) joins the outer unit,
    so a request wrapper (idempotency) commits its record with the change.
    """

    @abstractmethod
    def begin(self) -> AbstractContextManager[T]:
        """Commit every write and staged event together on exit, or none on an error."""

    @abstractmethod
    def read(self) -> AbstractContextManager[T]:
        """Reads only (``emit`` raises :class:`ReadOnly`); inside an open ``begin()``,
        that unit, so a write path reads its own writes."""
