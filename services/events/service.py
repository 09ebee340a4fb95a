"""The events service's parts, for the composition root (`shared.service.bootstrap`)."""

from pathlib import Path

from services.events import api, handlers
from services.events.adapters import tables
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="events",
    metadata=tables.metadata,
    outbox_table=tables.outbox,
    inbox_table=tables.inbox,
    idempotency_table=tables.idempotency_keys,
    migrations=Path(__file__).parent / "migrations",
    blueprints=api.blueprints,
    handlers=handlers.subscriptions,
    subscribes=handlers.SUBSCRIBES,
    title="Booster Track events API",
)
