"""The notifications service's parts, for the composition root (`booster.bootstrap`)."""

from pathlib import Path

from services.notifications import api, handlers, sender
from services.notifications.adapters import tables
from services.notifications.adapters.repository import SqlNotificationsTx
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="notifications",
    port=8004,
    title="Booster Track notifications API",
    metadata=tables.metadata,
    outbox_table=tables.outbox,
    inbox_table=tables.inbox,
    idempotency_table=tables.idempotency_keys,
    migrations=Path(__file__).parent / "migrations",
    blueprints=api.blueprints,
    transaction=SqlNotificationsTx,
    handlers=handlers.HANDLERS,
    background=sender.background,
)
