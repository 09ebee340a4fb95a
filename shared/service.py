"""What a service is made of, and the one composition root that wires it.

Every service package exposes ``SPEC`` (a :class:`ServiceSpec`) in ``service.py``;
``bootstrap(spec, settings)`` builds its :class:`Runtime` (database, unit of work,
inbox). The web app and the worker both start from the same runtime.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from flask import Flask, current_app
from flask_smorest import Blueprint
from sqlalchemy import MetaData, Table

import shared.events.types  # noqa: F401 - fills the event catalogue
from shared.bus.connection import check_broker
from shared.bus.consumer import Handler
from shared.bus.topology import Topology
from shared.config import SERVICE_NAMES, SERVICE_PORTS, Settings
from shared.db import Database
from shared.http.app import create_service_app
from shared.http.health import Check
from shared.idempotency import IdempotencyStore
from shared.inbox import Inbox
from shared.outbox import Outbox
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class ServiceSpec:
    """The parts of one service, declared by its package."""

    name: str
    metadata: MetaData
    outbox_table: Table
    inbox_table: Table
    idempotency_table: Table
    migrations: Path
    blueprints: Callable[[], Iterable[Blueprint]] = tuple
    handlers: Callable[[Runtime], Mapping[str, Handler]] = field(default=lambda runtime: {})
    subscribes: tuple[str, ...] = ()
    """The event types (or topic patterns) ``handlers`` covers, known without a runtime
    so that any worker can declare every service's queue before it publishes."""
    title: str = ""

    @property
    def port(self) -> int:
        return SERVICE_PORTS[self.name]


@dataclass
class Runtime:
    """A service wired to its concrete adapters."""

    spec: ServiceSpec
    settings: Settings
    database: Database
    uow: UnitOfWork
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

    def handlers(self) -> Mapping[str, Handler]:
        handlers = self.spec.handlers(self)
        if set(handlers) != set(self.spec.subscribes):
            raise ValueError(
                f"{self.name}: handlers cover {sorted(handlers)} "
                f"but the spec subscribes to {sorted(self.spec.subscribes)}"
            )
        return handlers


def load_spec(name: str) -> ServiceSpec:
    """The ``SPEC`` of ``services.<name>``."""
    if name not in SERVICE_NAMES:
        raise ValueError(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")
    return importlib.import_module(f"services.{name}.service").SPEC


def platform_topologies(settings: Settings) -> list[Topology]:
    """Every service's queue and bindings (declared by each relay before it publishes)."""
    return [
        Topology(name, load_spec(name).subscribes, settings.bus)
        for name in SERVICE_NAMES
        if load_spec(name).subscribes
    ]


def bootstrap(spec: ServiceSpec, settings: Settings, database: Database | None = None) -> Runtime:
    """Build a service's runtime (the composition root)."""
    database = database or Database(settings.database_url(spec.name))
    uow = UnitOfWork(database, Outbox(spec.outbox_table, spec.name))
    return Runtime(
        spec=spec,
        settings=settings,
        database=database,
        uow=uow,
        inbox=Inbox(spec.inbox_table),
        idempotency=IdempotencyStore(spec.idempotency_table, uow),
    )


def create_app(runtime: Runtime) -> Flask:
    """The service's HTTP app, bound to its runtime."""
    app = create_service_app(
        runtime.name,
        runtime.settings,
        blueprints=runtime.spec.blueprints(),
        checks=runtime.readiness_checks(),
        title=runtime.spec.title or None,
    )
    app.extensions["booster_runtime"] = runtime
    app.extensions["booster_idempotency"] = runtime.idempotency
    return app


def current_runtime() -> Runtime:
    """The runtime of the app serving the request in hand."""
    return current_app.extensions["booster_runtime"]
