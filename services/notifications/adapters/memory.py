"""In-memory fakes of the notifications service's ports, for unit tests of its use cases.

Each fake keeps frozen domain objects in a dict and answers as the SQL repositories do
(the same orders, keyset cursors, unique keys, leases); locks are ignored, since a
:class:`~shared.fake_uow.FakeUnitOfWork` runs one unit at a time. :class:`FakeMailer`
and :class:`FakePoster` record what they were given and answer from a script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.notifications.domain.model import (
    Attempt,
    Channel,
    DeliveryStatus,
    Notification,
    Outcome,
    Preferences,
    Recipient,
    RecipientChange,
    Subscription,
    WebhookDelivery,
    WebhookStatus,
)
from services.notifications.domain.ports import (
    Attempts,
    Deliveries,
    DeliveryQuery,
    Mailer,
    NotificationQuery,
    Notifications,
    NotificationsTx,
    Poster,
    PreferencesRepo,
    Recipients,
    Subscriptions,
)
from shared.errors import PreconditionFailed
from shared.events.catalogue import Catalogue
from shared.fake_uow import FakeTransaction, FakeUnitOfWork


@dataclass(frozen=True)
class RecipientRow:
    copy: Recipient
    synced_at: datetime


class FakeRecipients(Recipients):
    def __init__(self) -> None:
        self.rows: dict[str, RecipientRow] = {}

    def many(self, person_ids: Sequence[str]) -> dict[str, Recipient]:
        return {p: self.rows[p].copy for p in person_ids if p in self.rows}

    def keep_newest(self, changes: Sequence[RecipientChange]) -> None:
        newest: dict[str, RecipientChange] = {}
        for change in changes:
            kept = newest.get(change.id)
            if kept is None or kept.at <= change.at:
                newest[change.id] = change
        for person_id, change in newest.items():
            row = self.rows.get(person_id)
            if row is None or (not row.copy.removed and row.synced_at <= change.at):
                copy = Recipient(person_id, change.name, change.email, change.language)
                self.rows[person_id] = RecipientRow(copy, change.at)

    def forget(self, person_id: str, at: datetime) -> None:
        self.rows[person_id] = RecipientRow(Recipient(person_id, None, None, None, True), at)


class FakePreferences(PreferencesRepo):
    def __init__(self) -> None:
        self.rows: dict[str, Preferences] = {}

    def many(self, person_ids: Sequence[str]) -> dict[str, Preferences]:
        return {p: self.rows[p] for p in person_ids if p in self.rows}

    def save(self, preferences: Preferences) -> None:
        stored = self.rows.get(preferences.person_id)
        if (stored.version if stored else 0) != preferences.version - 1:
            raise PreconditionFailed("The preferences were changed by someone else.")
        self.rows[preferences.person_id] = preferences

    def delete(self, person_id: str) -> None:
        self.rows.pop(person_id, None)


def _newest_first(items: list[Notification]) -> list[Notification]:
    return sorted(items, key=lambda n: (n.created_at, n.id), reverse=True)


class FakeNotifications(Notifications):
    def __init__(self) -> None:
        self.rows: dict[str, Notification] = {}

    def stage(self, notifications: Sequence[Notification]) -> int:
        keys = {(n.event_id, n.person_id, n.channel) for n in self.rows.values()}
        added = 0
        for notification in notifications:
            key = (notification.event_id, notification.person_id, notification.channel)
            if key in keys or notification.id in self.rows:
                continue
            keys.add(key)
            self.rows[notification.id] = notification
            added += 1
        return added

    def get(self, notification_id: str) -> Notification | None:
        return self.rows.get(notification_id)

    def save(self, notification: Notification) -> None:
        if notification.id in self.rows:
            self.rows[notification.id] = notification

    def find(
        self, query: NotificationQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[Notification]:
        found = [
            n
            for n in self.rows.values()
            if n.person_id == query.person_id
            and (query.channel is None or n.channel is query.channel)
            and not (query.unread_only and (n.read or n.channel is not Channel.IN_APP))
            and (after is None or (n.created_at, n.id) < after)
        ]
        return _newest_first(found)[:limit]

    def unread(self, person_id: str) -> int:
        return sum(
            1
            for n in self.rows.values()
            if n.person_id == person_id and n.channel is Channel.IN_APP and not n.read
        )

    def mark_all_read(self, person_id: str, at: datetime) -> int:
        unread = [
            n
            for n in self.rows.values()
            if n.person_id == person_id and n.channel is Channel.IN_APP and not n.read
        ]
        for n in unread:
            self.rows[n.id] = replace(n, read_at=at)
        return len(unread)

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Notification]:
        due = sorted(
            (
                n
                for n in self.rows.values()
                if n.channel is Channel.EMAIL
                and n.status is DeliveryStatus.PENDING
                and n.next_attempt_at is not None
                and n.next_attempt_at <= now
            ),
            key=lambda n: (n.next_attempt_at, n.id),
        )[:limit]
        for n in due:
            self.rows[n.id] = replace(n, next_attempt_at=lease_until)
        return [self.rows[n.id] for n in due]

    def forget_person(self, person_id: str) -> None:
        for key in [k for k, n in self.rows.items() if n.person_id == person_id]:
            del self.rows[key]


class FakeSubscriptions(Subscriptions):
    def __init__(self, deliveries: FakeDeliveries, attempts: FakeAttempts) -> None:
        self.rows: dict[str, Subscription] = {}
        self._deliveries = deliveries
        self._attempts = attempts

    def get(self, subscription_id: str, *, lock: bool = False) -> Subscription | None:
        return self.rows.get(subscription_id)

    def add(self, subscription: Subscription) -> None:
        self.rows[subscription.id] = subscription

    def save(self, subscription: Subscription, previous_version: int) -> None:
        stored = self.rows.get(subscription.id)
        if stored is None or stored.version != previous_version:
            raise PreconditionFailed("The subscription was changed by someone else.")
        self.rows[subscription.id] = subscription

    def delete(self, subscription_id: str) -> None:
        self.rows.pop(subscription_id, None)
        dropped = self._deliveries.drop_of(subscription_id)
        self._attempts.rows = [a for a in self._attempts.rows if a.delivery_id not in dropped]

    def find(self, limit: int, after: tuple[datetime, str] | None) -> list[Subscription]:
        found = sorted(self.rows.values(), key=lambda s: (s.created_at, s.id))
        return [s for s in found if after is None or (s.created_at, s.id) > after][:limit]

    def active(self) -> list[Subscription]:
        return sorted((s for s in self.rows.values() if s.active), key=lambda s: s.id)


class FakeDeliveries(Deliveries):
    def __init__(self) -> None:
        self.rows: dict[str, WebhookDelivery] = {}
        self.subscriptions: FakeSubscriptions | None = None

    def stage(self, deliveries: Sequence[WebhookDelivery]) -> int:
        keys = {(d.subscription_id, d.event_id) for d in self.rows.values()}
        added = 0
        for delivery in deliveries:
            key = (delivery.subscription_id, delivery.event_id)
            if key in keys or delivery.id in self.rows:
                continue
            keys.add(key)
            self.rows[delivery.id] = delivery
            added += 1
        return added

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        return self.rows.get(delivery_id)

    def save(self, delivery: WebhookDelivery) -> None:
        if delivery.id in self.rows:
            self.rows[delivery.id] = delivery

    def find(
        self, query: DeliveryQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[WebhookDelivery]:
        found = [
            d
            for d in self.rows.values()
            if d.subscription_id == query.subscription_id
            and (query.status is None or d.status is query.status)
            and (after is None or (d.created_at, d.id) < after)
        ]
        return sorted(found, key=lambda d: (d.created_at, d.id), reverse=True)[:limit]

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[WebhookDelivery]:
        active = (
            {s.id for s in self.subscriptions.rows.values() if s.active}
            if self.subscriptions
            else set()
        )
        due = sorted(
            (
                d
                for d in self.rows.values()
                if d.status is WebhookStatus.PENDING
                and d.subscription_id in active
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
            ),
            key=lambda d: (d.next_attempt_at, d.id),
        )[:limit]
        for d in due:
            self.rows[d.id] = replace(d, next_attempt_at=lease_until)
        return [self.rows[d.id] for d in due]

    def drop_of(self, subscription_id: str) -> set[str]:
        """Delete the subscription's deliveries; return their ids."""
        dropped = {k for k, d in self.rows.items() if d.subscription_id == subscription_id}
        for key in dropped:
            del self.rows[key]
        return dropped


class FakeAttempts(Attempts):
    def __init__(self) -> None:
        self.rows: list[Attempt] = []

    def add(self, attempt: Attempt) -> None:
        self.rows.append(attempt)

    def of(self, delivery_id: str) -> list[Attempt]:
        return sorted((a for a in self.rows if a.delivery_id == delivery_id), key=_number)


def _number(attempt: Attempt) -> int:
    return attempt.number


class FakeNotificationsTx(FakeTransaction, NotificationsTx):
    """A unit of work of the notifications service, in memory."""

    recipients: FakeRecipients
    preferences: FakePreferences
    notifications: FakeNotifications
    subscriptions: FakeSubscriptions
    deliveries: FakeDeliveries
    attempts: FakeAttempts

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__(catalogue)
        self.recipients = FakeRecipients()
        self.preferences = FakePreferences()
        self.notifications = FakeNotifications()
        self.deliveries = FakeDeliveries()
        self.attempts = FakeAttempts()
        self.subscriptions = FakeSubscriptions(self.deliveries, self.attempts)
        self.deliveries.subscriptions = self.subscriptions


def fake_uow(catalogue: Catalogue) -> FakeUnitOfWork[FakeNotificationsTx]:
    """An empty notifications service in memory, emitting against ``catalogue``."""
    return FakeUnitOfWork(FakeNotificationsTx(catalogue))


class FakeMailer(Mailer):
    """Records each email; answers with the next scripted outcome (ok when none left)."""

    def __init__(self, outcomes: Sequence[Outcome] = ()) -> None:
        self.sent: list[Notification] = []
        self.outcomes = list(outcomes)

    def send(self, notification: Notification) -> Outcome:
        self.sent.append(notification)
        return self.outcomes.pop(0) if self.outcomes else Outcome(ok=True, status_code=250)


class FakePoster(Poster):
    """Records each delivery; answers with the next scripted outcome (ok when none left)."""

    def __init__(self, outcomes: Sequence[Outcome | Exception] = ()) -> None:
        self.posted: list[tuple[Subscription, WebhookDelivery]] = []
        self.outcomes = list(outcomes)

    def post(self, subscription: Subscription, delivery: WebhookDelivery) -> Outcome:
        self.posted.append((subscription, delivery))
        outcome = self.outcomes.pop(0) if self.outcomes else Outcome(ok=True, status_code=204)
        if isinstance(outcome, Exception):  # a broken adapter
            raise outcome
        return outcome
