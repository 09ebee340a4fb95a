"""The mentoring service's parts, for the composition root (`booster.bootstrap`)."""

from pathlib import Path

from services.mentoring import api, handlers
from services.mentoring.adapters import tables
from services.mentoring.adapters.repository import SqlMentoringTx
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="mentoring",
    port=8002,
    title="Booster Track mentoring API",
    metadata=tables.metadata,
    outbox_table=tables.outbox,
    inbox_table=tables.inbox,
    idempotency_table=tables.idempotency_keys,
    migrations=Path(__file__).parent / "migrations",
    blueprints=api.blueprints,
    transaction=SqlMentoringTx,
    handlers=handlers.HANDLERS,
)
