"""The notifications service's read path (``shared.reads``): list and detail JSON from
the columns.

Each projection names the fields of one response schema of ``schemas.py``, in its order
(``api.py`` checks them against the schemas at import; ``tests/integration/notifications/
test_fast_reads.py`` compares the bytes with the schema's dump of the same rows). The
lists' filters and orders mean what the repository's ``find`` methods do
(``adapters/repository.py``): notifications and deliveries newest first, subscriptions
oldest first, each by (created_at, id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from services.notifications.adapters.tables import (
    deliveries,
    notifications,
    recipients,
    subscriptions,
)
from services.notifications.domain.model import Channel
from shared.reads import Filter, From, Listing, Lookup, Projection, aware, by_time

_IN_APP = Channel.IN_APP.value


# -- converters ---------------------------------------------------------------------------
def _aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


def _is_read(read_at: datetime | None) -> bool:
    """``Notification.read``."""
    return read_at is not None


def _json_list(stored: str) -> Any:
    return [] if stored == "[]" else orjson.loads(stored)


# -- projections (the fields of schemas.py, in order) ----------------------------------------
NOTIFICATION = Projection(
    id=notifications.c.id,
    event_id=notifications.c.event_id,
    event_type=notifications.c.event_type,
    channel=notifications.c.channel,
    language=notifications.c.language,
    subject=notifications.c.subject,
    text=notifications.c.body_text,
    read=From(_is_read, notifications.c.read_at),
    status=notifications.c.status,
    attempts=notifications.c.attempts,
    created_at=From(aware, notifications.c.created_at),
    sent_at=From(_aware_or_none, notifications.c.sent_at),
    read_at=From(_aware_or_none, notifications.c.read_at),
    last_error=notifications.c.last_error,
)

SUBSCRIPTION = Projection(
    id=subscriptions.c.id,
    url=subscriptions.c.url,
    types=From(_json_list, subscriptions.c.types),
    description=subscriptions.c.description,
    active=From(bool, subscriptions.c.active),
    failures=subscriptions.c.failures,
    failing_since=From(_aware_or_none, subscriptions.c.failing_since),
    disabled_at=From(_aware_or_none, subscriptions.c.disabled_at),
    previous_secret_expires_at=From(_aware_or_none, subscriptions.c.previous_secret_expires_at),
    version=subscriptions.c.version,
    created_at=From(aware, subscriptions.c.created_at),
    updated_at=From(aware, subscriptions.c.updated_at),
)

DELIVERY = Projection(
    id=deliveries.c.id,
    subscription_id=deliveries.c.subscription_id,
    event_id=deliveries.c.event_id,
    event_type=deliveries.c.event_type,
    status=deliveries.c.status,
    attempts=deliveries.c.attempts,
    next_attempt_at=From(_aware_or_none, deliveries.c.next_attempt_at),
    last_status_code=deliveries.c.last_status_code,
    last_error=deliveries.c.last_error,
    created_at=From(aware, deliveries.c.created_at),
    delivered_at=From(_aware_or_none, deliveries.c.delivered_at),
)


# -- notifications ------------------------------------------------------------------------------
NOTIFICATIONS = Listing(
    NOTIFICATION,
    notifications,
    where=[notifications.c.person_id == bindparam("person_id")],
    filters={
        "channel": notifications.c.channel == bindparam("channel"),
        "unread": Filter(
            (notifications.c.channel == _IN_APP) & notifications.c.read_at.is_(None),
            lambda _: {},
        ),
    },
)
NEWEST_NOTIFICATIONS = by_time(notifications.c.created_at, notifications.c.id, descending=True)
_UNREAD = (
    select(func.count())
    .select_from(notifications)
    .where(
        notifications.c.person_id == bindparam("person_id"),
        notifications.c.channel == _IN_APP,
        notifications.c.read_at.is_(None),
    )
)


def unread(connection: Connection, person_id: str) -> int:
    """How many of the person's in-app notifications are unread."""
    return int(connection.execute(_UNREAD, {"person_id": person_id}).scalar_one())


KNOWN_RECIPIENT = Lookup(
    Projection(id=recipients.c.id),
    recipients,
    recipients.c.id == bindparam("id"),
    recipients.c.removed_at.is_(None),
)


# -- webhooks -----------------------------------------------------------------------------------
SUBSCRIPTIONS = Listing(SUBSCRIPTION, subscriptions, filters={})
OLDEST_SUBSCRIPTIONS = by_time(subscriptions.c.created_at, subscriptions.c.id)
SUBSCRIPTION_BY_ID = Lookup(SUBSCRIPTION, subscriptions, subscriptions.c.id == bindparam("id"))
SUBSCRIPTION_EXISTS = Lookup(
    Projection(id=subscriptions.c.id), subscriptions, subscriptions.c.id == bindparam("id")
)

DELIVERIES = Listing(
    DELIVERY,
    deliveries,
    where=[deliveries.c.subscription_id == bindparam("subscription_id")],
    filters={"status": deliveries.c.status == bindparam("status")},
)
NEWEST_DELIVERIES = by_time(deliveries.c.created_at, deliveries.c.id, descending=True)
