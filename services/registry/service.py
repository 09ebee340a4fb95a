"""The registry service's parts, for the composition root (`booster.bootstrap`)."""

from pathlib import Path

from services.registry import api, handlers
from services.registry.adapters import tables
from services.registry.adapters.repository import SqlRegistryTx
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="registry",
    port=8001,
    title="Booster Track registry API",
    metadata=tables.metadata,
    outbox_table=tables.outbox,
    inbox_table=tables.inbox,
    idempotency_table=tables.idempotency_keys,
    migrations=Path(__file__).parent / "migrations",
    blueprints=api.blueprints,
    transaction=SqlRegistryTx,
    handlers=handlers.HANDLERS,
)
