"""The events service's use cases on in-memory repositories: no database, no broker."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from services.events import operations as ops
from services.events.adapters.memory import FakeEventsTx, fake_uow
from services.events.domain.commands import CreateEvent, KeepPeople, PublishEvent, Register
from services.events.domain.model import (
    Event,
    EventFormat,
    EventKind,
    PersonChange,
    Registration,
)
from shared.fake_uow import FakeUnitOfWork

Uow = FakeUnitOfWork[FakeEventsTx]
T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
"""When the registry's changes of the tests were made."""


@pytest.fixture
def uow() -> Uow:
    return fake_uow(platform_catalogue())


def in_days(days: float, hour: int = 9) -> datetime:
    """``days`` from now at ``hour`` UTC (days > 0: in the future)."""
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def trip(**fields: Any) -> CreateEvent:
    """A business trip to Lyon in thirty days, three seats."""
    command: dict[str, Any] = {
        "kind": EventKind.BUSINESS_TRIP,
        "title": "Business trip to Lyon",
        "format": EventFormat.IN_PERSON,
        "starts_at": in_days(30, 8),
        "ends_at": in_days(32, 16),
        "timezone": "Europe/Paris",
        "capacity": 3,
        "city": "Lyon",
        "country": "FR",
    }
    return CreateEvent(**{**command, **fields})


def published(uow: Uow, **fields: Any) -> Event:
    event = ops.create_event(uow, trip(**fields))
    return ops.publish_event(uow, PublishEvent(event.id))


def change(person_id: str, at: datetime = T0, **fields: Any) -> PersonChange:
    data = {"name": f"Person {person_id}", "email": f"{person_id}@example.org", "language": "fr"}
    return PersonChange(id=person_id, at=at, **{**data, **fields})


def known(uow: Uow, *person_ids: str) -> list[str]:
    """People the registry told the service of."""
    with uow.begin() as tx:
        ops.keep_people(tx, KeepPeople(tuple(change(p) for p in person_ids)))
    return list(person_ids)


def register(uow: Uow, event: Event, person_id: str) -> Registration:
    return ops.register(uow, Register(event.id, person_id))[0]


def under_way(uow: Uow, event_id: str, *, ended: bool = False) -> Event:
    """Move the event's times so that it has started (and ``ended``, if asked)."""
    now = datetime.now(UTC)
    starts, ends = (
        (now - timedelta(hours=3), now - timedelta(hours=1))
        if ended
        else (
            now - timedelta(hours=1),
            now + timedelta(hours=2),
        )
    )
    with uow.begin() as tx:
        event = tx.events.get(event_id)
        assert event is not None
        moved = replace(event, starts_at=starts, ends_at=ends)
        tx.events.save(moved)
    return moved


def statuses(uow: Uow, event: Event) -> dict[str, str]:
    """Person id -> the status of their latest registration to the event."""
    with uow.read() as tx:
        return {r.person_id: r.status.value for r in tx.registrations.of_event(event.id)}
