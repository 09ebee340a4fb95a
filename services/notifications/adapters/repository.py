"""The notifications service's repositories on SQL (SQLAlchemy Core), and its transaction.

Staging is ``INSERT … ON CONFLICT DO NOTHING`` on the unique keys (one statement for a
whole fan-out); claims are ``SELECT … FOR UPDATE SKIP LOCKED`` then one ``UPDATE`` of the
lease (on SQLite, ``BEGIN IMMEDIATE`` already serialises writers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.notifications.adapters.tables import (
    attempts,
    deliveries,
    notifications,
    preferences,
    recipients,
    subscriptions,
)
from services.notifications.domain.model import (
    Attempt,
    AttemptKind,
    Category,
    Channel,
    DeliveryStatus,
    Notification,
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
    NotificationQuery,
    Notifications,
    NotificationsTx,
    PreferencesRepo,
    Recipients,
    Subscriptions,
)
from shared.db import utc
from shared.errors import PreconditionFailed
from shared.events.catalogue import Catalogue
from shared.outbox import Outbox
from shared.read_copy import newest_per_id, tombstone, upsert_newest
from shared.sql_uow import SqlTransaction

_PENDING = DeliveryStatus.PENDING.value
_EMAIL = Channel.EMAIL.value
_IN_APP = Channel.IN_APP.value


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@cache
def _insert_ignoring(dialect: str, table_name: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (built once per dialect)."""
    table = {"notifications": notifications, "webhook_deliveries": deliveries}[table_name]
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_(table).on_conflict_do_nothing().returning(table.c.id)


class SqlRecipients(Recipients):
    def __init__(self, session: Session) -> None:
        self.session = session

    def many(self, person_ids: Sequence[str]) -> dict[str, Recipient]:
        if not person_ids:
            return {}
        rows = self.session.execute(
            select(recipients).where(recipients.c.id.in_(sorted(set(person_ids))))
        )
        return {
            row.id: Recipient(row.id, row.name, row.email, row.language, row.removed_at is not None)
            for row in rows
        }

    def keep_newest(self, changes: Sequence[RecipientChange]) -> None:
        rows = [
            {
                "id": change.id,
                "name": change.name,
                "email": change.email,
                "language": change.language,
                "synced_at": change.at,
            }
            for change in newest_per_id(changes, lambda c: c.id, lambda c: c.at)
        ]
        if rows:
            statement = upsert_newest(recipients, _RECIPIENT_COLUMNS, _dialect(self.session))
            self.session.execute(statement, rows)

    def forget(self, person_id: str, at: datetime) -> None:
        tombstone(self.session, recipients, person_id, _RECIPIENT_COLUMNS, at)


_RECIPIENT_COLUMNS = ("name", "email", "language")


class SqlPreferences(PreferencesRepo):
    def __init__(self, session: Session) -> None:
        self.session = session

    def many(self, person_ids: Sequence[str]) -> dict[str, Preferences]:
        if not person_ids:
            return {}
        rows = self.session.execute(
            select(preferences).where(preferences.c.person_id.in_(sorted(set(person_ids))))
        )
        return {row.person_id: _preferences(row) for row in rows}

    def save(self, chosen: Preferences) -> None:
        values = {
            "opted_out": json.dumps(
                sorted(
                    f"{category.value}.{channel.value}" for category, channel in chosen.opted_out
                )
            ),
            "version": chosen.version,
            "updated_at": chosen.updated_at,
        }
        if chosen.version == 1:
            statement = _insert_preferences(_dialect(self.session))
            parameters = {"person_id": chosen.person_id, **values}
        else:
            statement = (
                update(preferences)
                .where(
                    preferences.c.person_id == chosen.person_id,
                    preferences.c.version == chosen.version - 1,
                )
                .values(**values)
                .returning(preferences.c.person_id)
            )
            parameters = {}
        if self.session.execute(statement, parameters).first() is None:
            raise PreconditionFailed("The preferences were changed by someone else.")

    def delete(self, person_id: str) -> None:
        self.session.execute(delete(preferences).where(preferences.c.person_id == person_id))


@cache
def _insert_preferences(dialect: str) -> Any:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_(preferences).on_conflict_do_nothing().returning(preferences.c.person_id)


def _preferences(row: Row[Any]) -> Preferences:
    switches = set()
    for name in json.loads(row.opted_out):
        category, channel = name.split(".")
        switches.add((Category(category), Channel(channel)))
    return Preferences(row.person_id, frozenset(switches), row.version, utc(row.updated_at))


class SqlNotifications(Notifications):
    def __init__(self, session: Session) -> None:
        self.session = session

    def stage(self, staged: Sequence[Notification]) -> int:
        if not staged:
            return 0
        result = self.session.execute(
            _insert_ignoring(_dialect(self.session), "notifications"),
            [_notification_values(n) for n in staged],
        )
        return len(result.all())

    def get(self, notification_id: str) -> Notification | None:
        row = self.session.execute(
            select(notifications).where(notifications.c.id == notification_id)
        ).first()
        return _notification(row) if row else None

    def save(self, notification: Notification) -> None:
        self.session.execute(
            update(notifications)
            .where(notifications.c.id == notification.id)
            .values(
                status=notification.status.value,
                attempts=notification.attempts,
                next_attempt_at=notification.next_attempt_at,
                last_error=notification.last_error,
                sent_at=notification.sent_at,
                read_at=notification.read_at,
            )
        )

    def find(
        self, query: NotificationQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[Notification]:
        statement = (
            select(notifications)
            .where(notifications.c.person_id == query.person_id)
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
            .limit(limit)
        )
        if query.channel:
            statement = statement.where(notifications.c.channel == query.channel.value)
        if query.unread_only:
            statement = statement.where(
                notifications.c.channel == _IN_APP, notifications.c.read_at.is_(None)
            )
        if after:
            statement = statement.where(
                tuple_(notifications.c.created_at, notifications.c.id) < tuple_(after[0], after[1])
            )
        return [_notification(row) for row in self.session.execute(statement)]

    def unread(self, person_id: str) -> int:
        count = self.session.execute(
            select(func.count())
            .select_from(notifications)
            .where(
                notifications.c.person_id == person_id,
                notifications.c.channel == _IN_APP,
                notifications.c.read_at.is_(None),
            )
        ).scalar_one()
        return int(count)

    def mark_all_read(self, person_id: str, at: datetime) -> int:
        result = self.session.execute(
            update(notifications)
            .where(
                notifications.c.person_id == person_id,
                notifications.c.channel == _IN_APP,
                notifications.c.read_at.is_(None),
            )
            .values(read_at=at)
        )
        return int(result.rowcount)

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Notification]:
        due = (
            select(notifications)
            .where(
                notifications.c.status == _PENDING,
                notifications.c.channel == _EMAIL,
                notifications.c.next_attempt_at <= now,
            )
            .order_by(notifications.c.next_attempt_at, notifications.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = [_notification(row) for row in self.session.execute(due)]
        if rows:
            self.session.execute(
                update(notifications)
                .where(notifications.c.id.in_([n.id for n in rows]))
                .values(next_attempt_at=lease_until)
            )
        return rows

    def forget_person(self, person_id: str) -> None:
        self.session.execute(delete(notifications).where(notifications.c.person_id == person_id))


def _notification_values(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "event_id": n.event_id,
        "event_type": n.event_type,
        "person_id": n.person_id,
        "channel": n.channel.value,
        "language": n.language,
        "subject": n.subject,
        "body_text": n.text,
        "body_html": n.html,
        "address": n.address,
        "calendar": n.calendar,
        "status": n.status.value,
        "attempts": n.attempts,
        "next_attempt_at": n.next_attempt_at,
        "last_error": n.last_error,
        "created_at": n.created_at,
        "sent_at": n.sent_at,
        "read_at": n.read_at,
        "correlation_id": n.correlation_id,
        "traceparent": n.traceparent,
    }


def _notification(row: Row[Any]) -> Notification:
    return Notification(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        person_id=row.person_id,
        channel=Channel(row.channel),
        language=row.language,
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        created_at=utc(row.created_at),
        status=DeliveryStatus(row.status),
        address=row.address,
        calendar=row.calendar,
        attempts=row.attempts,
        next_attempt_at=utc(row.next_attempt_at),
        last_error=row.last_error,
        sent_at=utc(row.sent_at),
        read_at=utc(row.read_at),
        correlation_id=row.correlation_id,
        traceparent=row.traceparent,
    )


class SqlSubscriptions(Subscriptions):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, subscription_id: str, *, lock: bool = False) -> Subscription | None:
        query = select(subscriptions).where(subscriptions.c.id == subscription_id)
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _subscription(row) if row else None

    def add(self, subscription: Subscription) -> None:
        self.session.execute(insert(subscriptions), _subscription_values(subscription))

    def save(self, subscription: Subscription, previous_version: int) -> None:
        values = _subscription_values(subscription)
        values.pop("id")
        values.pop("created_at")
        result = self.session.execute(
            update(subscriptions)
            .where(
                subscriptions.c.id == subscription.id,
                subscriptions.c.version == previous_version,
            )
            .values(**values)
        )
        if result.rowcount != 1:
            raise PreconditionFailed("The subscription was changed by someone else.")

    def delete(self, subscription_id: str) -> None:
        owned = select(deliveries.c.id).where(deliveries.c.subscription_id == subscription_id)
        self.session.execute(delete(attempts).where(attempts.c.delivery_id.in_(owned)))
        self.session.execute(
            delete(deliveries).where(deliveries.c.subscription_id == subscription_id)
        )
        self.session.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))

    def find(self, limit: int, after: tuple[datetime, str] | None) -> list[Subscription]:
        statement = (
            select(subscriptions)
            .order_by(subscriptions.c.created_at, subscriptions.c.id)
            .limit(limit)
        )
        if after:
            statement = statement.where(
                tuple_(subscriptions.c.created_at, subscriptions.c.id) > tuple_(after[0], after[1])
            )
        return [_subscription(row) for row in self.session.execute(statement)]

    def active(self) -> list[Subscription]:
        rows = self.session.execute(
            select(subscriptions)
            .where(subscriptions.c.active.is_(True))
            .order_by(subscriptions.c.id)
        )
        return [_subscription(row) for row in rows]


def _subscription_values(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "url": s.url,
        "types": json.dumps(list(s.types)),
        "description": s.description,
        "secret": s.secret,
        "previous_secret": s.previous_secret,
        "previous_secret_expires_at": s.previous_secret_expires_at,
        "active": s.active,
        "failures": s.failures,
        "failing_since": s.failing_since,
        "disabled_at": s.disabled_at,
        "version": s.version,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        types=tuple(json.loads(row.types)),
        description=row.description,
        secret=row.secret,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        active=bool(row.active),
        previous_secret=row.previous_secret,
        previous_secret_expires_at=utc(row.previous_secret_expires_at),
        failures=row.failures,
        failing_since=utc(row.failing_since),
        disabled_at=utc(row.disabled_at),
        version=row.version,
    )


class SqlDeliveries(Deliveries):
    def __init__(self, session: Session) -> None:
        self.session = session

    def stage(self, staged: Sequence[WebhookDelivery]) -> int:
        if not staged:
            return 0
        result = self.session.execute(
            _insert_ignoring(_dialect(self.session), "webhook_deliveries"),
            [_delivery_values(d) for d in staged],
        )
        return len(result.all())

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        row = self.session.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        return _delivery(row) if row else None

    def save(self, delivery: WebhookDelivery) -> None:
        self.session.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery.id)
            .values(
                status=delivery.status.value,
                attempts=delivery.attempts,
                next_attempt_at=delivery.next_attempt_at,
                last_status_code=delivery.last_status_code,
                last_error=delivery.last_error,
                delivered_at=delivery.delivered_at,
            )
        )

    def find(
        self, query: DeliveryQuery, limit: int, after: tuple[datetime, str] | None
    ) -> list[WebhookDelivery]:
        statement = (
            select(deliveries)
            .where(deliveries.c.subscription_id == query.subscription_id)
            .order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc())
            .limit(limit)
        )
        if query.status:
            statement = statement.where(deliveries.c.status == query.status.value)
        if after:
            statement = statement.where(
                tuple_(deliveries.c.created_at, deliveries.c.id) < tuple_(after[0], after[1])
            )
        return [_delivery(row) for row in self.session.execute(statement)]

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[WebhookDelivery]:
        active = select(subscriptions.c.id).where(subscriptions.c.active.is_(True))
        due = (
            select(deliveries)
            .where(
                deliveries.c.status == WebhookStatus.PENDING.value,
                deliveries.c.next_attempt_at <= now,
                deliveries.c.subscription_id.in_(active),
            )
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=deliveries)
        )
        rows = [_delivery(row) for row in self.session.execute(due)]
        if rows:
            self.session.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([d.id for d in rows]))
                .values(next_attempt_at=lease_until)
            )
        return rows


def _delivery_values(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "subscription_id": d.subscription_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "body": d.body,
        "status": d.status.value,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
        "correlation_id": d.correlation_id,
        "traceparent": d.traceparent,
    }


def _delivery(row: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        event_type=row.event_type,
        body=row.body,
        created_at=utc(row.created_at),
        status=WebhookStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=utc(row.next_attempt_at),
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=utc(row.delivered_at),
        correlation_id=row.correlation_id,
        traceparent=row.traceparent,
    )


class SqlAttempts(Attempts):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, attempt: Attempt) -> None:
        self.session.execute(
            insert(attempts),
            {
                "id": attempt.id,
                "delivery_id": attempt.delivery_id,
                "kind": attempt.kind.value,
                "number": attempt.number,
                "at": attempt.at,
                "ok": attempt.ok,
                "status_code": attempt.status_code,
                "detail": attempt.detail,
                "duration_ms": attempt.duration_ms,
            },
        )

    def of(self, delivery_id: str) -> list[Attempt]:
        rows = self.session.execute(
            select(attempts)
            .where(attempts.c.delivery_id == delivery_id)
            .order_by(attempts.c.number, attempts.c.at)
        )
        return [
            Attempt(
                delivery_id=row.delivery_id,
                kind=AttemptKind(row.kind),
                number=row.number,
                at=utc(row.at),
                ok=bool(row.ok),
                status_code=row.status_code,
                detail=row.detail,
                duration_ms=row.duration_ms,
                id=row.id,
            )
            for row in rows
        ]


class SqlNotificationsTx(SqlTransaction, NotificationsTx):
    """A database transaction of the notifications service, with its repositories."""

    def __init__(self, session: Session, outbox: Outbox | None, catalogue: Catalogue) -> None:
        super().__init__(session, outbox, catalogue)
        self.recipients = SqlRecipients(session)
        self.preferences = SqlPreferences(session)
        self.notifications = SqlNotifications(session)
        self.subscriptions = SqlSubscriptions(session)
        self.deliveries = SqlDeliveries(session)
        self.attempts = SqlAttempts(session)
