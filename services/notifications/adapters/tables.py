"""The notifications service's tables (its own database; no other service reads them)."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shared.db import new_metadata
from shared.idempotency import idempotency_table
from shared.inbox import inbox_table
from shared.outbox import outbox_table

metadata = new_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)

recipients = Table(
    "recipients",
    metadata,
    # the read copy of the registry's people (registry.person.* events); a removed
    # person keeps a row without personal data, so a late update cannot bring them back
    Column("id", String(36), primary_key=True),
    Column("name", String(200)),
    Column("email", String(320)),
    Column("language", String(2)),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
)

preferences = Table(
    "preferences",
    metadata,
    Column("person_id", String(36), primary_key=True),
    # JSON list of "category.channel" switched off (no row: everything on)
    Column("opted_out", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("person_id", String(36), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("language", String(2), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("address", String(320)),
    Column("calendar", Text),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("read_at", DateTime(timezone=True)),
    # the correlation of the work that staged it (its sent/failed events carry it)
    Column("correlation_id", String(128)),
    Column("traceparent", String(55)),
    # one notification per event, person and channel, however often the event arrives
    UniqueConstraint(
        "event_id", "person_id", "channel", name="uq_notifications_event_id_person_id_channel"
    ),
    Index("ix_notifications_person_id_created_at_id", "person_id", "created_at", "id"),
    Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
)

subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("types", Text, nullable=False),  # JSON list of patterns
    Column("description", String(500)),
    Column("secret", String(100), nullable=False),
    Column("previous_secret", String(100)),
    Column("previous_secret_expires_at", DateTime(timezone=True)),
    Column("active", Boolean, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("failing_since", DateTime(timezone=True)),
    Column("disabled_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_webhook_subscriptions_created_at_id", "created_at", "id"),
)

deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "subscription_id",
        String(36),
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    # the correlation of the work that staged it (a webhook.disabled event carries it)
    Column("correlation_id", String(128)),
    Column("traceparent", String(55)),
    # one delivery per subscription and event, however often the event arrives
    UniqueConstraint(
        "subscription_id", "event_id", name="uq_webhook_deliveries_subscription_id_event_id"
    ),
    Index(
        "ix_webhook_deliveries_subscription_id_created_at_id",
        "subscription_id",
        "created_at",
        "id",
    ),
    Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

attempts = Table(
    "delivery_attempts",
    metadata,
    # the delivery log: every try at an email (notifications.id) or a webhook delivery
    # (webhook_deliveries.id); no foreign key, as it names either
    Column("id", String(36), primary_key=True),
    Column("delivery_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("number", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status_code", Integer),
    Column("detail", Text, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_delivery_attempts_delivery_id_number", "delivery_id", "number"),
)
