"""Events the events service subscribes to, and their handlers.

It keeps its own read copy of the registry's people, so that a registration names a
known person without asking the registry; a removed person's registrations end. It
hosts the mentoring programme's meetings as online events (flow 3 of the design).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from services.events import operations as ops
from services.events.adapters.repository import EventsRepository
from shared.bus.consumer import Handler, batched
from shared.events import CloudEvent
from shared.service import Runtime
from shared.uow import Transaction

SUBSCRIBES = (
    "registry.person.registered",
    "registry.person.updated",
    "registry.person.removed",
    "mentoring.meeting.scheduled",
)


def keep_people(events: Sequence[CloudEvent], tx: Transaction) -> None:
    """registry.person.registered / .updated: keep the newest copy of each person (one
    statement for a run of events)."""
    EventsRepository(tx.session).save_people([(e.data, _at(e)) for e in events])


people_changed = batched(keep_people)


def person_removed(event_: CloudEvent, tx: Transaction) -> None:
    """registry.person.removed: end their registrations, then forget them."""
    ops.forget_person(tx, event_.data["id"], _at(event_))


def meeting_scheduled(event_: CloudEvent, tx: Transaction) -> None:
    """mentoring.meeting.scheduled: host it, every participant registered (flow 3)."""
    ops.host_meeting(tx, event_.data, datetime.now(UTC))


def _at(event_: CloudEvent) -> datetime:
    """When the registry made the change: orders updates that arrive out of order."""
    at = datetime.fromisoformat(event_.time)
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def subscriptions(runtime: Runtime) -> Mapping[str, Handler]:
    """Event type (or topic pattern) -> handler."""
    return {
        "registry.person.registered": people_changed,
        "registry.person.updated": people_changed,
        "registry.person.removed": person_removed,
        "mentoring.meeting.scheduled": meeting_scheduled,
    }
