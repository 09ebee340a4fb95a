"""Wiring: settings and a service's spec in, its runtime, app or worker out.

``booster run``, ``serve``, ``worker``, the test harness and the benchmarks all build
their services here, so each runs with the same adapters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from flask import Flask

from booster.catalogue import platform_catalogue
from booster.platform import SERVICE_NAMES, all_specs, spec
from shared.bus.topology import Topology
from shared.config import BusSettings, Settings
from shared.db import Database
from shared.events.catalogue import Catalogue
from shared.http.app import create_service_app
from shared.idempotency import IdempotencyStore
from shared.inbox import Inbox
from shared.outbox import Outbox, wake_relay_on_commit
from shared.service import Runtime, ServiceSpec
from shared.sql_uow import SqlUnitOfWork

if TYPE_CHECKING:
    from shared.worker import Worker


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The platform's settings from ``BOOSTER_*`` variables (every service's database)."""
    return Settings.from_env(environ, services=SERVICE_NAMES)


def bootstrap(
    service: str | ServiceSpec,
    settings: Settings,
    database: Database | None = None,
    *,
    catalogue: Catalogue | None = None,
) -> Runtime:
    """Build a service's runtime: its database, unit of work, inbox and idempotency
    store, on the platform's catalogue (tests may pass their own); commits wake its
    relay in-process."""
    service_spec = spec(service) if isinstance(service, str) else service
    settings = settings.for_service(service_spec.name)  # its own broker user, if it has one
    database = database or Database(settings.database_url(service_spec.name))
    wake_relay_on_commit(database.sessions)
    catalogue = catalogue or platform_catalogue()
    uow = SqlUnitOfWork(
        database,
        Outbox(service_spec.outbox_table, service_spec.name),
        catalogue,
        service_spec.transaction,
    )
    return Runtime(
        spec=service_spec,
        settings=settings,
        catalogue=catalogue,
        database=database,
        uow=uow,
        inbox=Inbox(service_spec.inbox_table),
        idempotency=IdempotencyStore(service_spec.idempotency_table, uow),
    )


def create_app(runtime: Runtime) -> Flask:
    """The service's HTTP app, bound to its runtime."""
    app = create_service_app(
        runtime.name,
        runtime.settings,
        blueprints=runtime.spec.blueprints(),
        checks=runtime.readiness_checks(),
        title=runtime.spec.title,
    )
    app.extensions["booster_runtime"] = runtime
    app.extensions["booster_idempotency"] = runtime.idempotency
    return app


def platform_topologies(bus: BusSettings) -> list[Topology]:
    """Every subscribing service's queue and bindings: each relay declares them all
    before it publishes, so no event is routed to a queue that does not exist yet."""
    return [Topology(s.name, s.subscribes, bus) for s in all_specs() if s.subscribes]


def create_worker(runtime: Runtime, declare: Sequence[Topology] | None = None) -> Worker:
    """The service's relay and consumer; ``declare`` defaults to the platform's queues."""
    from shared.worker import Worker  # an API process never needs the relay's imports

    if declare is None:
        declare = platform_topologies(runtime.settings.bus)
    return Worker(runtime, declare)
