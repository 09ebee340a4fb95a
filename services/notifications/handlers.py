"""Events the notifications service subscribes to, and their handlers.

- ``registry.person.*`` keep its read copy of recipients (name, email, language);
- every type in ``domain/routing.RULES`` (who hears what) stages its notifications;
- every event of the platform (``<service>.#``) is fanned out to the webhook
  subscriptions whose patterns match it.

Handlers only write rows in the consumer's transaction (never email or HTTP: the
consumer may run them more than once before a commit succeeds); the sender
(``sender.py``) delivers what they stage. Each row keeps the correlation of the event
that staged it (the sender's events about it carry it): a batch handler, which the
consumer runs under the first event's correlation, stages each event under its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

from services.notifications import operations as ops
from services.notifications.domain.commands import (
    FanOut,
    ForgetRecipient,
    KeepRecipients,
    Notify,
)
from services.notifications.domain.model import RecipientChange
from services.notifications.domain.ports import NotificationsTx
from services.notifications.domain.routing import RULES
from services.notifications.rendering import JinjaRenderer
from shared import context
from shared.bus.consumer import Handler, batched
from shared.events import CloudEvent

RENDERER = JinjaRenderer()
PUBLISHERS = ("registry", "mentoring", "events", "notifications")
"""The services whose every event goes to the webhook fan-out."""


def _change(event_: CloudEvent) -> RecipientChange:
    data = event_.data
    return RecipientChange(
        data["id"], data["name"], data["email"], data["language"], event_.occurred_at
    )


def _notify(event_: CloudEvent, tx: NotificationsTx) -> None:
    ops.notify(tx, Notify(event_.id, event_.type, event_.data, event_.occurred_at), RENDERER)


def _caused_by(event_: CloudEvent) -> AbstractContextManager[context.Correlation]:
    """The correlation of one event of a batch (the consumer enters the first one's)."""
    return context.correlated(event_.correlationid, event_.traceparent)


def people_registered(events: Sequence[CloudEvent], tx: NotificationsTx) -> None:
    """registry.person.registered: keep the copies (one statement), then welcome each."""
    ops.keep_recipients(tx, KeepRecipients(tuple(_change(e) for e in events)))
    for event_ in events:
        with _caused_by(event_):
            _notify(event_, tx)


def people_updated(events: Sequence[CloudEvent], tx: NotificationsTx) -> None:
    """registry.person.updated: keep the newest copy of each person."""
    ops.keep_recipients(tx, KeepRecipients(tuple(_change(e) for e in events)))


def person_removed(event_: CloudEvent, tx: NotificationsTx) -> None:
    """registry.person.removed: forget the person (copy, preferences, notifications)."""
    ops.forget_recipient(tx, ForgetRecipient(event_.data["id"], event_.occurred_at))


def notify(event_: CloudEvent, tx: NotificationsTx) -> None:
    """A type of the who-hears-what table: stage its notifications."""
    _notify(event_, tx)


def fan_out(events: Sequence[CloudEvent], tx: NotificationsTx) -> None:
    """Any event: a delivery to each matching active webhook subscription (the
    subscriptions read once for a run of events)."""
    active = tx.subscriptions.active()
    if not active:
        return
    for event_ in events:
        with _caused_by(event_):
            ops.fan_out(tx, FanOut(event_.id, event_.type, event_.to_json()), active)


HANDLERS: Mapping[str, Handler] = {
    "registry.person.registered": batched(people_registered),
    "registry.person.updated": batched(people_updated),
    "registry.person.removed": person_removed,
    **{event_type: notify for event_type in RULES if event_type != "registry.person.registered"},
    **{f"{publisher}.#": batched(fan_out) for publisher in PUBLISHERS},
}
"""Event type (or topic pattern) -> handler: the one declaration of what it consumes."""
