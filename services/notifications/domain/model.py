"""The notifications service's entities and rules (no framework imports).

- :class:`Recipient`: the read copy of a registry person (name, email, language); a
  removed person stays as a tombstone without personal data.
- :class:`Preferences`: each channel on or off per category; everything is on until
  the person turns it off.
- :class:`Notification`: one message to one person on one channel, for one received
  event (at most one per event, person and channel). In-app ones are the person's
  inbox; email ones are deliveries that a sender works through, with retries.
- :class:`Subscription` and :class:`WebhookDelivery`: another system's signed webhook
  and each event POSTed (or to be POSTed) to it.
- :class:`Attempt`: one try at an email or a webhook delivery (the delivery log).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from shared.errors import InvalidInput


class Channel(StrEnum):
    EMAIL = "email"
    IN_APP = "in_app"


class Category(StrEnum):
    """What a notification is about: the publishing service of its event."""

    REGISTRY = "registry"
    MENTORING = "mentoring"
    EVENTS = "events"


class DeliveryStatus(StrEnum):
    """Of a notification: ``pending`` (an email still to send, or to retry), ``sent``
    (handed to the SMTP server, or stored in the inbox), ``failed`` (given up)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class WebhookStatus(StrEnum):
    """Of a webhook delivery: ``pending`` (to send or retry), ``delivered`` (a 2xx),
    ``failed`` (every attempt failed, or the subscription was disabled or removed)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class AttemptKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Invitation(StrEnum):
    """The iCalendar METHOD of an email's ``.ics`` attachment."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


LANGUAGES = ("en", "fr", "ar")
DEFAULT_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})

NOTIFICATIONS = uuid.UUID("5b0f3c1e-8a51-4a56-9d1c-6f3f1b7c2e90")
"""Namespace of notification ids: one id per (event, person, channel), for every replay."""
DELIVERIES = uuid.UUID("0c7f5e4b-2d1a-4f7e-b6a8-93e2d4c1a7f5")
"""Namespace of webhook delivery ids: one per (subscription, event)."""


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


def notification_id(event_id: str, person_id: str, channel: Channel) -> str:
    """The id of the one notification of ``event_id`` to ``person_id`` on ``channel``."""
    return str(uuid.uuid5(NOTIFICATIONS, f"{event_id}/{person_id}/{channel.value}"))


def delivery_id(subscription_id: str, event_id: str) -> str:
    """The id of the one delivery of ``event_id`` to the subscription."""
    return str(uuid.uuid5(DELIVERIES, f"{subscription_id}/{event_id}"))


def language_of(language: str | None) -> str:
    """A language the templates speak: the person's, else English."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


# -- recipients ----------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    """A person as the registry last described them (None fields: removed)."""

    id: str
    name: str | None
    email: str | None
    language: str | None
    removed: bool = False


@dataclass(frozen=True)
class RecipientChange:
    """A person's details as of ``at`` (the registry's event time)."""

    id: str
    name: str
    email: str
    language: str
    at: datetime


# -- preferences ---------------------------------------------------------------------
Switch = tuple[Category, Channel]


@dataclass(frozen=True)
class Preferences:
    """Which channels a person keeps on, per category (all on by default)."""

    person_id: str
    opted_out: frozenset[Switch] = frozenset()
    version: int = 0
    """0: never saved (the defaults)."""
    updated_at: datetime | None = None

    def allows(self, category: Category, channel: Channel) -> bool:
        return (category, channel) not in self.opted_out

    def matrix(self) -> dict[str, dict[str, bool]]:
        """``{channel: {category: on}}`` for every channel and category."""
        return {
            channel.value: {category.value: self.allows(category, channel) for category in Category}
            for channel in Channel
        }

    def changed(self, matrix: dict[Channel, dict[Category, bool]], at: datetime) -> Preferences:
        """The preferences with the given switches set (others kept as they are)."""
        opted_out = set(self.opted_out)
        for channel, categories in matrix.items():
            for category, on in categories.items():
                if on:
                    opted_out.discard((category, channel))
                else:
                    opted_out.add((category, channel))
        return replace(
            self, opted_out=frozenset(opted_out), version=self.version + 1, updated_at=at
        )


# -- notifications -------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    """A message in one language: subject, plain text and HTML."""

    language: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Notification:
    """One message to one person on one channel about one event."""

    id: str
    event_id: str
    event_type: str
    person_id: str
    channel: Channel
    language: str
    subject: str
    text: str
    html: str
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    address: str | None = None
    """The email address it goes to (email only)."""
    calendar: str | None = None
    """An iCalendar attachment (email only)."""
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    read_at: datetime | None = None
    correlation_id: str | None = None
    """The correlation of the work that staged it (the consumed event's): its
    ``notifications.notification.sent`` / ``.failed`` carry it (None: a fresh one)."""
    traceparent: str | None = None
    """That work's span, the parent of the span its events are sent under."""

    @property
    def read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True)
class Outcome:
    """How one attempt at a delivery went."""

    ok: bool
    permanent: bool = False
    """A failure no retry can fix (a refused address, a 4xx that is not a timeout...)."""
    status_code: int | None = None
    detail: str = ""
    duration_ms: int = 0


@dataclass(frozen=True)
class Attempt:
    """One try at a delivery, as the delivery log keeps it."""

    delivery_id: str
    kind: AttemptKind
    number: int
    at: datetime
    ok: bool
    status_code: int | None
    detail: str
    duration_ms: int
    id: str = field(default_factory=new_id)


MAX_DETAIL = 1000
"""Characters of a response or an error kept in the delivery log."""


def truncated(text: str, limit: int = MAX_DETAIL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts: after attempt n (1 up) fails, wait ``delays[n-1]``;
    once they are used up, the delivery has failed for good."""

    delays: tuple[float, ...]

    def after(self, attempts: int, at: datetime) -> datetime | None:
        """When to try again after ``attempts`` failed ones, or None: give up."""
        if attempts > len(self.delays):
            return None
        return at + timedelta(seconds=self.delays[attempts - 1])


EMAIL_BACKOFF = Backoff((60, 300, 1800, 7200, 21600))
"""About nine hours of retries for a temporary SMTP failure."""
WEBHOOK_BACKOFF = Backoff((5, 300, 1800, 7200, 18000, 36000, 36000))
"""The Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about a
day and a half across eight attempts)."""


# -- webhooks ------------------------------------------------------------------------
SECRET_OVERLAP = timedelta(hours=24)
"""How long a rotated-out secret still signs deliveries."""


@dataclass(frozen=True)
class Subscription:
    """Another system's webhook: where to POST, which event types, how to sign."""

    id: str
    url: str
    types: tuple[str, ...]
    description: str | None
    secret: str
    created_at: datetime
    updated_at: datetime
    active: bool = True
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    failures: int = 0
    """Failed attempts in a row (any delivery); a success resets it."""
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    version: int = 1

    def matches(self, event_type: str) -> bool:
        return any(topic_matches(pattern, event_type) for pattern in self.types)

    def signing_secrets(self, at: datetime) -> list[str]:
        """The current secret, and the previous one during its overlap."""
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and at < self.previous_secret_expires_at
        ):
            secrets.append(self.previous_secret)
        return secrets

    def rotated(self, secret: str, at: datetime) -> Subscription:
        return replace(
            self,
            secret=secret,
            previous_secret=self.secret,
            previous_secret_expires_at=at + SECRET_OVERLAP,
            updated_at=at,
            version=self.version + 1,
        )

    def succeeded(self) -> Subscription:
        return replace(self, failures=0, failing_since=None)

    def failed(self, at: datetime, rule: DisableRule) -> Subscription:
        """One more failure; disabled if that makes a long enough run of them."""
        failing = replace(self, failures=self.failures + 1, failing_since=self.failing_since or at)
        if failing.active and rule.reached(failing, at):
            return replace(
                failing, active=False, disabled_at=at, updated_at=at, version=self.version + 1
            )
        return failing

    def changed(self, changes: dict[str, object], at: datetime) -> Subscription:
        """New url, types, description or ``active``; re-enabling clears the failures."""
        updated = replace(self, **changes, updated_at=at, version=self.version + 1)  # type: ignore[arg-type]
        if changes.get("active") is True and not self.active:
            updated = replace(updated, failures=0, failing_since=None, disabled_at=None)
        return updated


@dataclass(frozen=True)
class DisableRule:
    """A subscription is disabled after ``failures`` failed attempts in a row that span
    at least ``seconds`` (by default, fifty over a day: a long outage, not a blip)."""

    failures: int = 50
    seconds: float = 86400.0

    def reached(self, subscription: Subscription, at: datetime) -> bool:
        since = subscription.failing_since or at
        return (
            subscription.failures >= self.failures and (at - since).total_seconds() >= self.seconds
        )


DISABLE_AFTER = DisableRule()


@dataclass(frozen=True)
class WebhookDelivery:
    """One event for one subscription, and how its delivery went."""

    id: str
    subscription_id: str
    event_id: str
    event_type: str
    body: str
    """The CloudEvent as JSON: exactly the bytes that are signed and POSTed."""
    created_at: datetime
    status: WebhookStatus = WebhookStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    correlation_id: str | None = None
    """The correlation of the work that staged it: a ``notifications.webhook.disabled``
    it leads to carries it (None: a fresh one)."""
    traceparent: str | None = None


# -- topic patterns ------------------------------------------------------------------
TYPE_WORD = "abcdefghijklmnopqrstuvwxyz0123456789_"


def check_pattern(pattern: str) -> str:
    """An AMQP-style topic pattern over event types: words of ``a-z0-9_`` separated by
    dots, ``*`` for one word, ``#`` for any number; else :class:`InvalidInput`."""
    words = pattern.split(".")
    if not 1 <= len(words) <= 5 or not all(
        word in ("*", "#") or (word and all(c in TYPE_WORD for c in word)) for word in words
    ):
        raise InvalidInput(
            f"{pattern!r} is not an event type pattern.",
            errors={"types": [f"{pattern!r}: words of a-z, 0-9, _, or * and #, dot-separated."]},
        )
    return pattern


def topic_matches(pattern: str, event_type: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more words."""
    return _match(pattern.split("."), event_type.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])
