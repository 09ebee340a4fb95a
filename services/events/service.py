"""The events service's parts, for the composition root (`booster.bootstrap`)."""

from pathlib import Path

from services.events import api, handlers
from services.events.adapters import tables
from services.events.adapters.repository import SqlEventsTx
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="events",
    port=8003,
    title="Booster Track events API",
    metadata=tables.metadata,
    outbox_table=tables.outbox,
    inbox_table=tables.inbox,
    idempotency_table=tables.idempotency_keys,
    migrations=Path(__file__).parent / "migrations",
    transaction=SqlEventsTx,
    blueprints=api.blueprints,
    handlers=handlers.HANDLERS,
)
