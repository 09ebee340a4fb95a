"""What the notifications service is asked to do: one command per write use case.

Commands are checked for shape at the edge (the HTTP schemas, or the catalogue for a
received integration event); the use cases and the model check the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.notifications.domain.model import Category, Channel, Outcome, RecipientChange


@dataclass(frozen=True)
class KeepRecipients:
    """registry.person.registered / .updated: keep the newest copy of each person."""

    changes: tuple[RecipientChange, ...]


@dataclass(frozen=True)
class ForgetRecipient:
    """registry.person.removed: drop the person's data, inbox and pending emails."""

    person_id: str
    at: datetime


@dataclass(frozen=True)
class Notify:
    """A received event: stage its notifications (inbox rows and emails) per the rules."""

    event_id: str
    event_type: str
    data: Mapping[str, Any]
    time: datetime
    """When the event happened (orders an ``.ics``'s SEQUENCE)."""


@dataclass(frozen=True)
class FanOut:
    """A received event: stage one delivery per matching active webhook subscription."""

    event_id: str
    event_type: str
    body: str
    """The CloudEvent as JSON, as it will be POSTed."""


@dataclass(frozen=True)
class SetPreferences:
    """Turn channels on or off per category (switches not named are kept)."""

    person_id: str
    switches: Mapping[Channel, Mapping[Category, bool]]
    expected_version: int | None = None


@dataclass(frozen=True)
class MarkRead:
    person_id: str
    notification_id: str


@dataclass(frozen=True)
class MarkAllRead:
    person_id: str


@dataclass(frozen=True)
class CreateSubscription:
    url: str
    types: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True)
class UpdateSubscription:
    subscription_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    """Any of url, types, description, active."""
    expected_version: int | None = None


@dataclass(frozen=True)
class DeleteSubscription:
    subscription_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RotateSecret:
    subscription_id: str


@dataclass(frozen=True)
class RetryDelivery:
    """Send a webhook delivery again now (whatever its status)."""

    subscription_id: str
    delivery_id: str


@dataclass(frozen=True)
class RecordAttempt:
    """The sender tried a delivery (email or webhook): log it and decide what next."""

    delivery_id: str
    outcome: Outcome
    at: datetime
