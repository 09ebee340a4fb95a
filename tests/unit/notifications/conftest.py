"""The notifications service's use cases on in-memory repositories: no database, no broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from services.notifications import operations as ops
from services.notifications.adapters.memory import FakeNotificationsTx, fake_uow
from services.notifications.domain.commands import KeepRecipients, Notify
from services.notifications.domain.model import Notification, RecipientChange
from services.notifications.rendering import JinjaRenderer
from shared.events import CloudEvent
from shared.fake_uow import FakeUnitOfWork

Uow = FakeUnitOfWork[FakeNotificationsTx]
T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
RENDERER = JinjaRenderer()


@pytest.fixture
def uow() -> Uow:
    return fake_uow(platform_catalogue())


def person(person_id: str, language: str = "en", at: datetime = T0) -> RecipientChange:
    return RecipientChange(
        id=person_id,
        name=f"Person {person_id}",
        email=f"{person_id}@example.org",
        language=language,
        at=at,
    )


def known(uow: Uow, *people: RecipientChange) -> None:
    with uow.begin() as tx:
        ops.keep_recipients(tx, KeepRecipients(tuple(people)))


def make(event_type: str, subject: str | None = None, **data: Any) -> CloudEvent:
    return platform_catalogue().make_event(event_type, subject=subject, data=data)


def notify(uow: Uow, event_: CloudEvent) -> list[Notification]:
    with uow.begin() as tx:
        return ops.notify(
            tx,
            Notify(event_.id, event_.type, event_.data, datetime.fromisoformat(event_.time)),
            RENDERER,
        )


def participant(person_id: str, language: str = "en") -> dict[str, Any]:
    return {"person_id": person_id, "name": f"Person {person_id}", "language": language}


def pair(event_type: str = "mentoring.pair.matched", **extra: Any) -> CloudEvent:
    data: dict[str, Any] = {
        "id": "pair-1",
        "programme_id": "cmr",
        "programme_name": "Cluster Mentoring Reloaded",
        "mentor": participant("mentor", "fr"),
        "mentee": participant("mentee", "ar"),
    }
    if event_type == "mentoring.pair.matched":
        data |= {"score": 0.8, "reasons": ["both work on export"]}
    else:
        data |= {"status": "ended", "reason": "The mentee's cluster was deactivated."}
    return make(event_type, "pair-1", **{**data, **extra})


START = datetime(2030, 3, 4, 8, 30, tzinfo=UTC)


def summary(**fields: Any) -> dict[str, Any]:
    return {
        "id": "event-1",
        "kind": "business_trip",
        "title": "Business trip to Lyon",
        "format": "in_person",
        "starts_at": START.isoformat(),
        "ends_at": (START + timedelta(days=2)).isoformat(),
        "timezone": "Europe/Paris",
        "city": "Lyon",
        "country": "FR",
        "online_link": None,
        **fields,
    }


def registration(event_type: str, person_id: str, **extra: Any) -> CloudEvent:
    data = {
        "id": f"reg-{person_id}",
        "event_id": "event-1",
        "person_id": person_id,
        "status": "waitlisted" if event_type.endswith("waitlisted") else "confirmed",
        "waitlist_position": 2 if event_type.endswith("waitlisted") else None,
        "event": summary(),
        **extra,
    }
    if event_type.endswith("cancelled"):
        data |= {"status": "cancelled", "reason": extra.get("reason")}
    return make(event_type, data["id"], **data)
