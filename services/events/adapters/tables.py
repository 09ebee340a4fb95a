"""The events service's tables (its own database; no other service reads them)."""

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from shared.db import new_metadata
from shared.idempotency import idempotency_table
from shared.inbox import inbox_table
from shared.outbox import outbox_table

metadata = new_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)

events = Table(
    "events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("format", String(16), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("capacity", Integer),
    Column("city", String(120)),
    Column("country", String(2)),
    Column("online_link", String(500)),
    Column("registration_closes_at", DateTime(timezone=True)),
    Column("description", Text),
    # the agenda ([{starts_at, title, speaker}]) and a business trip's sectors, as JSON
    # (sectors also in event_sectors, for the ?sector= filter)
    Column("agenda", Text, nullable=False, server_default="[]"),
    Column("sectors", Text, nullable=False, server_default="[]"),
    Column("host_organisation", String(200)),
    Column("status", String(16), nullable=False),
    # seats taken, and registrations ever made (the waitlist's sequence): both change
    # only with the event row locked
    Column("confirmed", Integer, nullable=False),
    Column("registrations", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_events_starts_at_id", "starts_at", "id"),
    Index("ix_events_status_starts_at_id", "status", "starts_at", "id"),
    Index("ix_events_kind_starts_at_id", "kind", "starts_at", "id"),
    Index("ix_events_country_starts_at_id", "country", "starts_at", "id"),
)

event_sectors = Table(
    "event_sectors",
    metadata,
    # one row per sector a business trip targets (the ?sector= filter)
    Column("event_id", String(36), ForeignKey("events.id"), primary_key=True),
    Column("sector", String(80), primary_key=True),
    Index("ix_event_sectors_sector_event_id", "sector", "event_id"),
)

registrations = Table(
    "registrations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("event_id", String(36), ForeignKey("events.id"), nullable=False),
    Column("person_id", String(36), nullable=False),
    Column("status", String(16), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("promoted_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancel_reason", String(500)),
    UniqueConstraint("event_id", "sequence", name="uq_registrations_event_id_sequence"),
    Index("ix_registrations_event_id_status_sequence", "event_id", "status", "sequence"),
    Index("ix_registrations_person_id", "person_id"),
    # one live registration per person and event (the operations check first; this is
    # the backstop)
    Index(
        "uq_registrations_event_id_person_id_active",
        "event_id",
        "person_id",
        unique=True,
        postgresql_where=text("status IN ('confirmed', 'waitlisted')"),
        sqlite_where=text("status IN ('confirmed', 'waitlisted')"),
    ),
)

people = Table(
    "people",
    metadata,
    # the service's read copy of the registry's people (registry.person.* events); a
    # removed person keeps a row without personal data, so that a late update cannot
    # bring them back
    Column("id", String(36), primary_key=True),
    Column("name", String(200)),
    Column("email", String(320)),
    Column("language", String(2)),
    Column("cluster_id", String(36)),
    Column("country", String(2)),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
    Index("ix_people_cluster_id", "cluster_id"),
)

clusters = Table(
    "clusters",
    metadata,
    # the read copy of the registry's clusters (registry.cluster.registered / .updated /
    # .removed), for participant lists; a removed cluster keeps its name and country
    Column("id", String(36), primary_key=True),
    Column("name", String(200)),
    Column("country", String(2)),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
)

calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    # a person's secret calendar feed: only the SHA-256 of its secret is kept
    Column("person_id", String(255), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
