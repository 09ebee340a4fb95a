"""The registry's tables (its own database; no other service reads them)."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
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

countries = Table(
    "countries",
    metadata,
    Column("code", String(2), primary_key=True),
    Column("name_en", String(120), nullable=False),
    Column("name_fr", String(120), nullable=False),
    Column("name_ar", String(120), nullable=False),
    Column("region", String(8), nullable=False, index=True),
    Column("programme", Boolean, nullable=False, default=False),
    Column("policy_summary", Text),
    Column("policy_facts", Text, nullable=False, default="[]"),
)

clusters = Table(
    "clusters",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("acronym", String(40)),
    Column("country", String(2), ForeignKey("countries.code"), nullable=False),
    Column("region", String(8), nullable=False),
    Column("city", String(120)),
    Column("kind", String(32), nullable=False),
    Column("sectors", Text, nullable=False, default="[]"),
    # a copy of the cluster's rows in cluster_labels, so that reads need one query
    Column("labels", Text, nullable=False, default="[]"),
    Column("founded", Integer),
    Column("website", String(300)),
    Column("description", Text),
    Column("members_count", Integer),
    Column("search_text", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Index("ix_clusters_name_id", "name", "id"),
    Index("ix_clusters_country_name_id", "country", "name", "id"),
    Index("ix_clusters_region_name_id", "region", "name", "id"),
    Index("ix_clusters_status_name_id", "status", "name", "id"),
)

cluster_sectors = Table(
    "cluster_sectors",
    metadata,
    Column("cluster_id", String(36), ForeignKey("clusters.id"), primary_key=True),
    Column("sector_key", String(80), primary_key=True),
    Index("ix_cluster_sectors_sector_key_cluster_id", "sector_key", "cluster_id"),
)

cluster_labels = Table(
    "cluster_labels",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("cluster_id", String(36), ForeignKey("clusters.id"), nullable=False, index=True),
    Column("scheme", String(160), nullable=False),
    Column("level", String(8), nullable=False),
    Column("awarded_on", Date, nullable=False),
    Column("valid_until", Date),
    Index("ix_cluster_labels_level_cluster_id", "level", "cluster_id"),
)

members = Table(
    "members",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("cluster_id", String(36), ForeignKey("clusters.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("size_class", String(8)),
    Column("sector", String(80)),
    Column("country", String(2), ForeignKey("countries.code")),
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date),
    Index("ix_members_cluster_id_name_id", "cluster_id", "name", "id"),
)

people = Table(
    "people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("email_key", String(320), nullable=False),
    Column("language", String(2), nullable=False),
    Column("role", String(32), nullable=False),
    Column("cluster_id", String(36), ForeignKey("clusters.id")),
    Column("country", String(2), ForeignKey("countries.code")),
    Column("phone", String(40)),
    Column("search_text", String(600), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Index(
        "uq_people_email_key_live",
        "email_key",
        unique=True,
        postgresql_where=text("deleted_at IS NULL"),
        sqlite_where=text("deleted_at IS NULL"),
    ),
    Index("ix_people_name_id", "name", "id"),
    Index("ix_people_cluster_id_name_id", "cluster_id", "name", "id"),
)
