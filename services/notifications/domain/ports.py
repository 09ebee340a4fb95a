"""What the notifications service's use cases need: repositories, a renderer, and the
outside world (SMTP, HTTP, DNS), as ports.

Use cases see the data through a :class:`NotificationsTx` (``tx.recipients``,
``tx.preferences``, ``tx.notifications``, ``tx.subscriptions``, ``tx.deliveries``,
``tx.attempts``, plus ``tx.emit``). ``adapters/repository.py`` implements them on SQL,
``adapters/memory.py`` in memory; both keep the semantics written here. The database's
unique keys make staging idempotent: one notification per (event, person, channel), one
webhook delivery per (subscription, event); staging a second copy does nothing.

Claims (``claim_due``) are how the sender takes work outside the consumer's
transaction: the rows due are leased (their ``next_attempt_at`` moved to the lease's
end) in one short transaction, so another sender skips them and a sender that dies
mid-way leaves them to be taken again once the lease ends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifications.domain.model import (
    Attempt,
    Channel,
    Notification,
    Outcome,
    Preferences,
    Recipient,
    RecipientChange,
    Rendered,
    Subscription,
    WebhookDelivery,
    WebhookStatus,
)
from services.notifications.domain.routing import Appointment
from shared.uow import Transaction, UnitOfWork


class Recipients(ABC):
    """The read copy of the registry's people; a removed person stays as a tombstone."""

    @abstractmethod
    def many(self, person_ids: Sequence[str]) -> dict[str, Recipient]:
        """The known people (tombstones included) among ``person_ids``."""

    @abstractmethod
    def keep_newest(self, changes: Sequence[RecipientChange]) -> None:
        """Keep the newest copy of each person: a change older than the copy, or to a
        removed person, is ignored; of two at the same time, the later in the list wins."""

    @abstractmethod
    def forget(self, person_id: str, at: datetime) -> None:
        """Drop the person's data, keep a tombstone (also for someone never seen)."""


class PreferencesRepo(ABC):
    @abstractmethod
    def many(self, person_ids: Sequence[str]) -> dict[str, Preferences]:
        """The saved preferences among ``person_ids`` (the others have the defaults)."""

    @abstractmethod
    def save(self, preferences: Preferences) -> None:
        """Store a new version (``preferences.version``); a stored version other than
        the one before it is a concurrent change: ``PreconditionFailed``."""

    @abstractmethod
    def delete(self, person_id: str) -> None: ...


@dataclass(frozen=True)
class NotificationQuery:
    person_id: str
    channel: Channel | None = None
    unread_only: bool = False


class Notifications(ABC):
    """Every notification (in-app inbox entries and emails)."""

    @abstractmethod
    def stage(self, notifications: Sequence[Notification]) -> int:
        """Insert those not there yet (by (event, person, channel)); return how many."""

    @abstractmethod
    def get(self, notification_id: str) -> Notification | None: ...

    @abstractmethod
    def save(self, notification: Notification) -> None:
        """Store the new state (status, attempts, times, error, read)."""

    @abstractmethod
    def find(
        self, query: NotificationQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[Notification]:
        """Newest first by (created_at, id), before ``after`` when given (a keyset)."""

    @abstractmethod
    def unread(self, person_id: str) -> int:
        """How many of the person's in-app notifications are unread."""

    @abstractmethod
    def mark_all_read(self, person_id: str, at: datetime) -> int:
        """Mark every unread in-app notification of the person read; return how many."""

    @abstractmethod
    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Notification]:
        """Up to ``limit`` pending emails due by ``now`` (oldest due first), leased
        until ``lease_until``; rows another sender holds are skipped."""

    @abstractmethod
    def forget_person(self, person_id: str) -> None:
        """Delete every notification of the person (their personal data)."""


@dataclass(frozen=True)
class DeliveryQuery:
    subscription_id: str
    status: WebhookStatus | None = None


class Subscriptions(ABC):
    @abstractmethod
    def get(self, subscription_id: str, *, lock: bool = False) -> Subscription | None:
        """The subscription, or None; ``lock`` holds it until the unit of work ends."""

    @abstractmethod
    def add(self, subscription: Subscription) -> None: ...

    @abstractmethod
    def save(self, subscription: Subscription, previous_version: int) -> None:
        """Store a new state; a stored version other than ``previous_version`` means
        someone got there first: ``PreconditionFailed``."""

    @abstractmethod
    def delete(self, subscription_id: str) -> None:
        """Remove it and its deliveries (and their attempts)."""

    @abstractmethod
    def find(self, limit: int, after: tuple[datetime, str] | None) -> list[Subscription]:
        """By (created_at, id), after ``after`` when given."""

    @abstractmethod
    def active(self) -> list[Subscription]:
        """The active subscriptions (the fan-out checks each one's patterns)."""


class Deliveries(ABC):
    """Webhook deliveries."""

    @abstractmethod
    def stage(self, deliveries: Sequence[WebhookDelivery]) -> int:
        """Insert those not there yet (by (subscription, event)); return how many."""

    @abstractmethod
    def get(self, delivery_id: str) -> WebhookDelivery | None: ...

    @abstractmethod
    def save(self, delivery: WebhookDelivery) -> None: ...

    @abstractmethod
    def find(
        self, query: DeliveryQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[WebhookDelivery]:
        """Newest first by (created_at, id), before ``after`` when given."""

    @abstractmethod
    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[WebhookDelivery]:
        """Up to ``limit`` pending deliveries of active subscriptions due by ``now``,
        leased until ``lease_until`` (see :meth:`Notifications.claim_due`); those of a
        disabled subscription wait, and go out once it is enabled again."""


class Attempts(ABC):
    """The delivery log: every attempt at an email or a webhook delivery."""

    @abstractmethod
    def add(self, attempt: Attempt) -> None: ...

    @abstractmethod
    def of(self, delivery_id: str) -> list[Attempt]:
        """The delivery's attempts, first first."""


class NotificationsTx(Transaction):
    """One unit of work of the notifications service."""

    recipients: Recipients
    preferences: PreferencesRepo
    notifications: Notifications
    subscriptions: Subscriptions
    deliveries: Deliveries
    attempts: Attempts


NotificationsUnitOfWork = UnitOfWork[NotificationsTx]


# -- the outside world -----------------------------------------------------------------
class Renderer(ABC):
    """Turns an event into a message in a person's language."""

    @abstractmethod
    def has_template(self, event_type: str) -> bool: ...

    @abstractmethod
    def render(
        self, event_type: str, language: str, data: Mapping[str, Any], recipient: Recipient
    ) -> Rendered:
        """The subject, text and HTML (English if the language has no template)."""

    @abstractmethod
    def calendar(self, appointment: Appointment, method: str) -> str:
        """An iCalendar document with ``METHOD`` ``method`` (REQUEST or CANCEL)."""


class Mailer(ABC):
    """Sends one email notification (SMTP in production, a list in unit tests)."""

    @abstractmethod
    def send(self, notification: Notification) -> Outcome:
        """Try once; say how it went (never raises for a failed delivery)."""


class Poster(ABC):
    """POSTs one webhook delivery, signed with the subscription's secrets."""

    @abstractmethod
    def post(self, subscription: Subscription, delivery: WebhookDelivery) -> Outcome:
        """Try once; say how it went (never raises for a failed delivery)."""
