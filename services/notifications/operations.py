"""The notifications service's use cases: each takes a typed command and a unit of work
(or, for the consumer's handlers, the consumer's transaction), and is one transaction.

Three kinds of work:

- **Staging**, in the consumer's transaction (``keep_recipients``, ``forget_recipient``,
  ``notify``, ``fan_out``): rows only, never email or HTTP, since the consumer may run a
  handler more than once before a commit succeeds. The unique keys (one notification per
  event, person and channel; one delivery per subscription and event) make a second run
  add nothing.
- **Sending**, by the sender loop outside any consumer transaction: ``claim_emails`` /
  ``claim_webhooks`` lease what is due in one short transaction, the sender tries each
  outside it, and ``record_email_attempt`` / ``record_webhook_attempt`` log the attempt
  and decide (sent, retry later with back-off, failed for good; a webhook subscription
  failing for long is disabled), each in a transaction with its event. That event
  carries the correlation of the work that staged the row (kept with it at staging),
  not the sender's.
- **Requests** from the HTTP API: the inbox, preferences, webhook subscriptions,
  deliveries and template previews.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from services.notifications.domain.addresses import Resolve, check_target
from services.notifications.domain.commands import (
    CreateSubscription,
    DeleteSubscription,
    FanOut,
    ForgetRecipient,
    KeepRecipients,
    MarkAllRead,
    MarkRead,
    Notify,
    RecordAttempt,
    RetryDelivery,
    RotateSecret,
    SetPreferences,
    UpdateSubscription,
)
from services.notifications.domain.model import (
    DISABLE_AFTER,
    EMAIL_BACKOFF,
    WEBHOOK_BACKOFF,
    Attempt,
    AttemptKind,
    Backoff,
    Channel,
    DeliveryStatus,
    DisableRule,
    Notification,
    Preferences,
    Recipient,
    Rendered,
    Subscription,
    WebhookDelivery,
    WebhookStatus,
    check_pattern,
    delivery_id,
    language_of,
    new_id,
    notification_id,
    now,
    truncated,
)
from services.notifications.domain.ports import (
    DeliveryQuery,
    NotificationQuery,
    NotificationsTx,
    NotificationsUnitOfWork,
    Renderer,
)
from services.notifications.domain.routing import RULES, appointment
from shared import context
from shared.errors import Conflict, NotFound, PlatformError, PreconditionFailed


class RecipientNotKnownYet(PlatformError):
    """An event names a person the service has not heard of from the registry yet: the
    consumer retries it (the registry's event is normally milliseconds behind)."""


# -- staging (in the consumer's transaction) ---------------------------------------------
def keep_recipients(tx: NotificationsTx, command: KeepRecipients) -> None:
    tx.recipients.keep_newest(command.changes)


def forget_recipient(tx: NotificationsTx, command: ForgetRecipient) -> None:
    """Forget the person: their copy (a tombstone stays), preferences, notifications."""
    tx.recipients.forget(command.person_id, command.at)
    tx.preferences.delete(command.person_id)
    tx.notifications.forget_person(command.person_id)


def notify(tx: NotificationsTx, command: Notify, renderer: Renderer) -> list[Notification]:
    """Stage the notifications the event calls for (see ``domain/routing.RULES``): for
    each recipient still in the registry, one per channel their preferences keep on, in
    their language. Emails wait for the sender; in-app ones are in the inbox at once."""
    rule = RULES.get(command.event_type)
    if rule is None:
        return []
    person_ids = rule.recipients(command.data)
    recipients = tx.recipients.many(person_ids)
    missing = [person_id for person_id in person_ids if person_id not in recipients]
    if missing:
        raise RecipientNotKnownYet(
            f"{command.event_type} {command.event_id} names unknown people: {missing[:5]}"
        )
    preferences = tx.preferences.many(person_ids)
    at = now()
    calendar = None
    meeting = appointment(command.event_type, command.data, _sequence(command.time))
    if meeting is not None and rule.invitation is not None:
        calendar = renderer.calendar(meeting, rule.invitation.value)
    caused_by = _work_in_hand()
    staged: list[Notification] = []
    for person_id in person_ids:
        recipient = recipients[person_id]
        if recipient.removed:
            continue
        chosen = preferences.get(person_id) or Preferences(person_id)
        channels = [
            channel
            for channel in rule.channels
            if chosen.allows(rule.category, channel)
            and (channel is not Channel.EMAIL or recipient.email)
        ]
        if not channels:
            continue
        rendered = renderer.render(
            command.event_type, language_of(recipient.language), command.data, recipient
        )
        staged.extend(
            _notification(command, recipient, channel, rendered, calendar, at, caused_by)
            for channel in channels
        )
    tx.notifications.stage(staged)
    return staged


def _sequence(at: datetime) -> int:
    """An ``.ics`` SEQUENCE that grows with the event's time (a later change to the same
    meeting supersedes an earlier one in the person's calendar)."""
    return max(0, int(at.timestamp()) - 1_700_000_000)


def _notification(
    command: Notify,
    recipient: Recipient,
    channel: Channel,
    rendered: Rendered,
    calendar: str | None,
    at: datetime,
    caused_by: tuple[str | None, str | None],
) -> Notification:
    email = channel is Channel.EMAIL
    return Notification(
        id=notification_id(command.event_id, recipient.id, channel),
        event_id=command.event_id,
        event_type=command.event_type,
        person_id=recipient.id,
        channel=channel,
        language=rendered.language,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        created_at=at,
        status=DeliveryStatus.PENDING if email else DeliveryStatus.SENT,
        address=recipient.email if email else None,
        calendar=calendar if email else None,
        next_attempt_at=at if email else None,
        sent_at=None if email else at,
        correlation_id=caused_by[0],
        traceparent=caused_by[1],
    )


def fan_out(
    tx: NotificationsTx, command: FanOut, subscriptions: list[Subscription] | None = None
) -> int:
    """Stage a delivery of the event to each active subscription whose patterns match
    (``subscriptions``: the active ones, if the caller read them already)."""
    at = now()
    correlation_id, traceparent = _work_in_hand()
    active = tx.subscriptions.active() if subscriptions is None else subscriptions
    deliveries = [
        WebhookDelivery(
            id=delivery_id(subscription.id, command.event_id),
            subscription_id=subscription.id,
            event_id=command.event_id,
            event_type=command.event_type,
            body=command.body,
            created_at=at,
            next_attempt_at=at,
            correlation_id=correlation_id,
            traceparent=traceparent,
        )
        for subscription in active
        if subscription.matches(command.event_type)
    ]
    return tx.deliveries.stage(deliveries) if deliveries else 0


def _work_in_hand() -> tuple[str | None, str | None]:
    """The correlation id and span of the work in hand (the consumed event), kept with
    what it stages so that the sender's events about it later carry them."""
    correlation = context.current()
    if correlation is None:
        return None, None
    return correlation.correlation_id, correlation.traceparent


@contextmanager
def _caused_by(correlation_id: str | None, traceparent: str | None) -> Iterator[None]:
    """Emit under the correlation stored with a notification or delivery (its events
    then carry it); one staged without any keeps the sender's context (a fresh id)."""
    if correlation_id is None:
        yield
        return
    with context.correlated(correlation_id, traceparent):
        yield


# -- sending (the sender loop) -------------------------------------------------------------
def claim_emails(
    uow: NotificationsUnitOfWork, at: datetime, lease: timedelta, limit: int
) -> list[Notification]:
    """Lease the emails due (see ``Notifications.claim_due``)."""
    with uow.begin() as tx:
        return tx.notifications.claim_due(at, at + lease, limit)


def record_email_attempt(
    uow: NotificationsUnitOfWork, command: RecordAttempt, backoff: Backoff = EMAIL_BACKOFF
) -> Notification | None:
    """Log the attempt; the email is sent (``notifications.notification.sent``), to be
    retried after the back-off, or failed for good (``notifications.notification.failed``).
    None if the notification is gone (its person was forgotten) or settled already."""
    outcome, at = command.outcome, command.at
    with uow.begin() as tx:
        notification = tx.notifications.get(command.delivery_id)
        if notification is None or notification.status is not DeliveryStatus.PENDING:
            return None
        number = notification.attempts + 1
        tx.attempts.add(_attempt(command, AttemptKind.EMAIL, number))
        if outcome.ok:
            settled = replace(
                notification,
                status=DeliveryStatus.SENT,
                attempts=number,
                next_attempt_at=None,
                sent_at=at,
                last_error=None,
            )
        else:
            retry_at = None if outcome.permanent else backoff.after(number, at)
            settled = replace(
                notification,
                status=DeliveryStatus.PENDING if retry_at else DeliveryStatus.FAILED,
                attempts=number,
                next_attempt_at=retry_at,
                last_error=truncated(outcome.detail),
            )
        tx.notifications.save(settled)
        with _caused_by(settled.correlation_id, settled.traceparent):
            if settled.status is DeliveryStatus.SENT:
                tx.emit(
                    "notifications.notification.sent",
                    subject=settled.id,
                    data=_notification_data(settled),
                )
            elif settled.status is DeliveryStatus.FAILED:
                tx.emit(
                    "notifications.notification.failed",
                    subject=settled.id,
                    data={
                        **_notification_data(settled),
                        "permanent": outcome.permanent,
                        "error": settled.last_error or "",
                    },
                )
        return settled


def _notification_data(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "person_id": notification.person_id,
        "channel": notification.channel.value,
        "event_id": notification.event_id,
        "event_type": notification.event_type,
        "attempts": notification.attempts,
    }


def _attempt(command: RecordAttempt, kind: AttemptKind, number: int) -> Attempt:
    outcome = command.outcome
    return Attempt(
        delivery_id=command.delivery_id,
        kind=kind,
        number=number,
        at=command.at,
        ok=outcome.ok,
        status_code=outcome.status_code,
        detail=truncated(outcome.detail),
        duration_ms=outcome.duration_ms,
    )


def claim_webhooks(
    uow: NotificationsUnitOfWork, at: datetime, lease: timedelta, limit: int
) -> list[tuple[Subscription, WebhookDelivery]]:
    """Lease the webhook deliveries due, each with its subscription (for its URL and
    secrets)."""
    with uow.begin() as tx:
        deliveries = tx.deliveries.claim_due(at, at + lease, limit)
        found = []
        for delivery in deliveries:
            subscription = tx.subscriptions.get(delivery.subscription_id)
            if subscription is not None:
                found.append((subscription, delivery))
        return found


def record_webhook_attempt(
    uow: NotificationsUnitOfWork,
    command: RecordAttempt,
    backoff: Backoff = WEBHOOK_BACKOFF,
    rule: DisableRule = DISABLE_AFTER,
) -> WebhookDelivery | None:
    """Log the attempt; the delivery is delivered, retried after the back-off, or failed
    for good. The subscription counts its failures in a row; a long run of them
    disables it (``notifications.webhook.disabled``). None if the delivery is gone or
    settled already."""
    outcome, at = command.outcome, command.at
    with uow.begin() as tx:
        delivery = tx.deliveries.get(command.delivery_id)
        if delivery is None or delivery.status is not WebhookStatus.PENDING:
            return None
        subscription = tx.subscriptions.get(delivery.subscription_id, lock=True)
        if subscription is None:
            return None
        number = delivery.attempts + 1
        tx.attempts.add(_attempt(command, AttemptKind.WEBHOOK, number))
        if outcome.ok:
            settled = replace(
                delivery,
                status=WebhookStatus.DELIVERED,
                attempts=number,
                next_attempt_at=None,
                delivered_at=at,
                last_status_code=outcome.status_code,
                last_error=None,
            )
            health = subscription.succeeded()
        else:
            retry_at = None if outcome.permanent else backoff.after(number, at)
            settled = replace(
                delivery,
                status=WebhookStatus.PENDING if retry_at else WebhookStatus.FAILED,
                attempts=number,
                next_attempt_at=retry_at,
                last_status_code=outcome.status_code,
                last_error=truncated(outcome.detail),
            )
            health = subscription.failed(at, rule)
        tx.deliveries.save(settled)
        if health != subscription:
            tx.subscriptions.save(health, subscription.version)
        if subscription.active and not health.active:
            # caused by the failing delivery: it carries the work that staged it
            with _caused_by(settled.correlation_id, settled.traceparent):
                tx.emit(
                    "notifications.webhook.disabled",
                    subject=health.id,
                    data={
                        "id": health.id,
                        "description": health.description,
                        "types": list(health.types),
                        "failures": health.failures,
                        "failing_since": (health.failing_since or at).isoformat(),
                        "last_error": settled.last_error or "",
                    },
                )
        return settled


# -- the inbox and preferences -------------------------------------------------------------
def _known(tx: NotificationsTx, person_id: str) -> None:
    """404 unless the person is in the registry's copy (and not removed): nothing is
    read or stored for an unknown person, whoever asks."""
    recipient = tx.recipients.many([person_id]).get(person_id)
    if recipient is None or recipient.removed:
        raise NotFound(f"No recipient {person_id!r}.")


def list_notifications(
    uow: NotificationsUnitOfWork,
    query: NotificationQuery,
    limit: int,
    after: tuple[datetime, str] | None,
) -> tuple[list[Notification], int]:
    """A page of the person's notifications (newest first) and their unread count."""
    with uow.read() as tx:
        _known(tx, query.person_id)
        return tx.notifications.find(query, limit, after), tx.notifications.unread(query.person_id)


def mark_read(uow: NotificationsUnitOfWork, command: MarkRead) -> Notification:
    with uow.begin() as tx:
        _known(tx, command.person_id)
        notification = tx.notifications.get(command.notification_id)
        if (
            notification is None
            or notification.person_id != command.person_id
            or notification.channel is not Channel.IN_APP
        ):
            raise NotFound(f"No notification {command.notification_id!r}.")
        if notification.read_at is None:
            notification = replace(notification, read_at=now())
            tx.notifications.save(notification)
        return notification


def mark_all_read(uow: NotificationsUnitOfWork, command: MarkAllRead) -> int:
    with uow.begin() as tx:
        _known(tx, command.person_id)
        return tx.notifications.mark_all_read(command.person_id, now())


def get_preferences(uow: NotificationsUnitOfWork, person_id: str) -> Preferences:
    """The person's preferences (the defaults, everything on, if never saved)."""
    with uow.read() as tx:
        _known(tx, person_id)
        return tx.preferences.many([person_id]).get(person_id) or Preferences(person_id)


def set_preferences(uow: NotificationsUnitOfWork, command: SetPreferences) -> Preferences:
    """Set the switches given (others kept). A write that changes nothing saves nothing
    and keeps the version (another client's ``If-Match`` stays valid)."""
    with uow.begin() as tx:
        _known(tx, command.person_id)
        current = tx.preferences.many([command.person_id]).get(command.person_id)
        current = current or Preferences(command.person_id)
        if command.expected_version is not None and command.expected_version != current.version:
            raise PreconditionFailed("The preferences have changed since you read them.")
        updated = current.changed(
            {channel: dict(switches) for channel, switches in command.switches.items()}, now()
        )
        if updated.opted_out == current.opted_out:
            return current
        tx.preferences.save(updated)
        return updated


# -- webhook subscriptions -----------------------------------------------------------------
def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _types(types: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(check_pattern(pattern) for pattern in types))


def create_subscription(
    uow: NotificationsUnitOfWork,
    command: CreateSubscription,
    resolve: Resolve,
    allowed_hosts: Collection[str] = (),
) -> Subscription:
    """A new active subscription, its URL checked (only http(s), only public addresses
    unless the host is allowed). Its secret is shown once, in this answer."""
    check_target(command.url, resolve, allowed_hosts)
    at = now()
    subscription = Subscription(
        id=new_id(),
        url=command.url,
        types=_types(command.types),
        description=command.description,
        secret=new_secret(),
        created_at=at,
        updated_at=at,
    )
    with uow.begin() as tx:
        tx.subscriptions.add(subscription)
    return subscription


def _subscription(
    tx: NotificationsTx, subscription_id: str, expected_version: int | None = None
) -> Subscription:
    subscription = tx.subscriptions.get(subscription_id)
    if subscription is None:
        raise NotFound(f"No webhook subscription {subscription_id!r}.")
    if expected_version is not None and expected_version != subscription.version:
        raise PreconditionFailed("The subscription has changed since you read it.")
    return subscription


def get_subscription(uow: NotificationsUnitOfWork, subscription_id: str) -> Subscription:
    with uow.read() as tx:
        return _subscription(tx, subscription_id)


def list_subscriptions(
    uow: NotificationsUnitOfWork, limit: int, after: tuple[datetime, str] | None
) -> list[Subscription]:
    with uow.read() as tx:
        return tx.subscriptions.find(limit, after)


def update_subscription(
    uow: NotificationsUnitOfWork,
    command: UpdateSubscription,
    resolve: Resolve,
    allowed_hosts: Collection[str] = (),
) -> Subscription:
    changes: dict[str, Any] = dict(command.changes)
    if "url" in changes:
        check_target(changes["url"], resolve, allowed_hosts)
    if "types" in changes:
        changes["types"] = _types(tuple(changes["types"]))
    with uow.begin() as tx:
        subscription = _subscription(tx, command.subscription_id, command.expected_version)
        updated = subscription.changed(changes, now())
        tx.subscriptions.save(updated, subscription.version)
        return updated


def delete_subscription(uow: NotificationsUnitOfWork, command: DeleteSubscription) -> None:
    with uow.begin() as tx:
        _subscription(tx, command.subscription_id, command.expected_version)
        tx.subscriptions.delete(command.subscription_id)


def rotate_secret(uow: NotificationsUnitOfWork, command: RotateSecret) -> Subscription:
    """A new secret (shown once); the old one still signs, beside it, for 24 hours."""
    with uow.begin() as tx:
        subscription = _subscription(tx, command.subscription_id)
        rotated = subscription.rotated(new_secret(), now())
        tx.subscriptions.save(rotated, subscription.version)
        return rotated


def list_deliveries(
    uow: NotificationsUnitOfWork,
    query: DeliveryQuery,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[WebhookDelivery]:
    with uow.read() as tx:
        _subscription(tx, query.subscription_id)
        return tx.deliveries.find(query, limit, after)


def _delivery(tx: NotificationsTx, subscription_id: str, delivery_id_: str) -> WebhookDelivery:
    delivery = tx.deliveries.get(delivery_id_)
    if delivery is None or delivery.subscription_id != subscription_id:
        raise NotFound(f"No delivery {delivery_id_!r} of webhook {subscription_id!r}.")
    return delivery


def get_delivery(
    uow: NotificationsUnitOfWork, subscription_id: str, delivery_id_: str
) -> tuple[WebhookDelivery, list[Attempt]]:
    """A delivery and its attempts (the delivery log)."""
    with uow.read() as tx:
        _subscription(tx, subscription_id)
        delivery = _delivery(tx, subscription_id, delivery_id_)
        return delivery, tx.attempts.of(delivery.id)


def retry_delivery(uow: NotificationsUnitOfWork, command: RetryDelivery) -> WebhookDelivery:
    """Send the delivery again as soon as the sender looks: one more attempt, then the
    back-off from where it was."""
    with uow.begin() as tx:
        subscription = _subscription(tx, command.subscription_id)
        delivery = _delivery(tx, command.subscription_id, command.delivery_id)
        if not subscription.active:
            raise Conflict("The subscription is disabled: enable it before retrying.")
        retried = replace(delivery, status=WebhookStatus.PENDING, next_attempt_at=now())
        tx.deliveries.save(retried)
        return retried


def preview(
    renderer: Renderer, event_type: str, language: str, data: Mapping[str, Any], name: str
) -> Rendered:
    """A template rendered with the given data, for a sample recipient."""
    if not renderer.has_template(event_type):
        raise NotFound(f"No template for {event_type!r}.")
    recipient = Recipient("sample-person", name, "person@example.org", language)
    return renderer.render(event_type, language_of(language), data, recipient)
