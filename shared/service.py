"""What a service is made of (:class:`ServiceSpec`) and what it runs on (:class:`Runtime`).

Every service package declares ``SPEC`` in its ``service.py``. The composition root
(``booster.bootstrap``), the only code that names services, turns a spec and the
settings into a runtime, and a runtime into an app or a worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import MetaData, Table

from shared.bus.connection import check_broker
from shared.bus.consumer import Handler
from shared.config import Settings
from shared.db import Database
from shared.events.catalogue import Catalogue
from shared.http.health import Check
from shared.idempotency import IdempotencyStore
from shared.inbox import Inbox
from shared.sql_uow import SqlTransaction, SqlUnitOfWork, TransactionFactory


class BackgroundLoop(Protocol):
    """A loop a service's worker runs in a thread of its own (e.g. a sender of emails):
    ``run()`` until ``stop()`` is called, then return promptly."""

    def run(self) -> None: ...

    def stop(self) -> None: ...


def no_background(runtime: Runtime) -> Sequence[BackgroundLoop]:
    return ()


@dataclass(frozen=True)
class ServiceSpec:
    """The parts of one service, declared by its package."""

    name: str
    port: int
    title: str
    metadata: MetaData
    outbox_table: Table
    inbox_table: Table
    idempotency_table: Table
    migrations: Path
    transaction: TransactionFactory[Any] = SqlTransaction
    """Builds the service's SQL transaction (its repositories) on a session."""
    blueprints: Callable[[], Iterable[Blueprint]] = tuple
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    """Event type (or topic pattern) -> handler, declared once in ``handlers.py``."""
    background: Callable[[Runtime], Sequence[BackgroundLoop]] = no_background
    """The service's own loops, run by its worker beside the relay and the consumer."""

    @property
    def subscribes(self) -> tuple[str, ...]:
        """The event types (or patterns) the service's queue is bound to."""
        return tuple(self.handlers)


@dataclass
class Runtime:
    """A service wired to its concrete adapters (built by ``booster.bootstrap``)."""

    spec: ServiceSpec
    settings: Settings
    catalogue: Catalogue
    database: Database
    uow: SqlUnitOfWork[Any]
    inbox: Inbox
    idempotency: IdempotencyStore

    @property
    def name(self) -> str:
        return self.spec.name

    def readiness_checks(self) -> Mapping[str, Check]:
        return {
            "database": self.database.ping,
            "broker": partial(check_broker, self.settings.bus),
        }


def current_runtime() -> Runtime:
    """The runtime of the app serving the request in hand."""
    runtime: Runtime = current_app.extensions["booster_runtime"]
    return runtime
