"""The mentoring service's tables (its own database; no other service reads them).

Short lists that are always read with their row (languages, competencies, reasons,
participants) are JSON columns; which sessions a pair takes part in is a table of its
own (``session_pairs``), as sessions are looked up by pair.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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

programmes = Table(
    "programmes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("edition", String(50)),
    Column("organiser", String(200)),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("competencies", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_programmes_created_at_id", "created_at", "id"),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("programme_id", String(36), ForeignKey("programmes.id"), nullable=False),
    Column("person_id", String(36), nullable=False),
    Column("role", String(16), nullable=False),
    Column("languages", JSON, nullable=False),
    Column("competencies", JSON, nullable=False),  # [[competency, level], ...]
    Column("sectors", JSON, nullable=False),
    Column("availability", String(500)),
    Column("capacity", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("programme_id", "person_id", name="uq_enrolments_programme_id_person_id"),
    Index("ix_enrolments_programme_id_created_at_id", "programme_id", "created_at", "id"),
)

pairs = Table(
    "pairs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("programme_id", String(36), ForeignKey("programmes.id"), nullable=False),
    Column("mentor_id", String(36), nullable=False),
    Column("mentee_id", String(36), nullable=False),
    Column("status", String(16), nullable=False),
    Column("score", Float),
    Column("reasons", JSON, nullable=False),
    Column("manual", Boolean, nullable=False),
    Column("end_reason", String(500)),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_pairs_programme_id_created_at_id", "programme_id", "created_at", "id"),
    Index("ix_pairs_mentor_id", "mentor_id"),
    Index("ix_pairs_mentee_id", "mentee_id"),
    # one active pair per mentee and programme (the use cases check first; this is the
    # backstop)
    Index(
        "uq_pairs_programme_id_mentee_id_active",
        "programme_id",
        "mentee_id",
        unique=True,
        postgresql_where=text("status = 'active'"),
        sqlite_where=text("status = 'active'"),
    ),
)

goals = Table(
    "goals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("programme_id", String(36), ForeignKey("programmes.id"), nullable=False),
    Column("pair_id", String(36), ForeignKey("pairs.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("competency", String(32), nullable=False),
    Column("progress", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(255)),
    Index("ix_goals_pair_id", "pair_id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("programme_id", String(36), ForeignKey("programmes.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("person_ids", JSON, nullable=False),
    Column("pair_ids", JSON, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("online_link", String(500)),
    Column("agenda", Text),
    Column("notes", Text),
    Column("status", String(16), nullable=False),
    Column("attended", JSON, nullable=False),
    Column("cancel_reason", String(500)),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_programme_id_starts_at_id", "programme_id", "starts_at", "id"),
)

session_pairs = Table(
    "session_pairs",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id"), primary_key=True),
    Column("pair_id", String(36), ForeignKey("pairs.id"), primary_key=True),
    Index("ix_session_pairs_pair_id", "pair_id"),
)

meetings = Table(
    "meetings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("programme_id", String(36), ForeignKey("programmes.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("online_link", String(500), nullable=False),
    Column("agenda", Text),
    Column("person_ids", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("cancel_reason", String(500)),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_meetings_programme_id_starts_at_id", "programme_id", "starts_at", "id"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("programme_id", String(36), ForeignKey("programmes.id"), nullable=False),
    Column("pair_id", String(36), ForeignKey("pairs.id"), nullable=False),
    Column("session_id", String(36), ForeignKey("sessions.id")),
    Column("author_id", String(255), nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_feedback_pair_id", "pair_id"),
    # once per author and session, and once per author on the programme (session null)
    Index(
        "uq_feedback_session", "pair_id", "author_id", "session_id", unique=True,
        postgresql_where=text("session_id IS NOT NULL"),
        sqlite_where=text("session_id IS NOT NULL"),
    ),
    Index(
        "uq_feedback_programme", "pair_id", "author_id", unique=True,
        postgresql_where=text("session_id IS NULL"),
        sqlite_where=text("session_id IS NULL"),
    ),
)  # fmt: skip

people = Table(
    "people",
    metadata,
    # the read copy of the registry's people (registry.person.* events); a removed
    # person keeps a row without personal data, so that a late update cannot bring
    # them back
    Column("id", String(36), primary_key=True),
    Column("name", String(200)),
    Column("language", String(2)),
    Column("cluster_id", String(36)),
    Column("country", String(2)),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
    Column("role", String(32)),
    Index("ix_people_cluster_id", "cluster_id"),
)

clusters = Table(
    "clusters",
    metadata,
    # the read copy of the registry's clusters (registry.cluster.* events): details
    # and status each carry the time of the change they come from
    Column("id", String(36), primary_key=True),
    Column("name", String(200)),
    Column("country", String(2)),
    Column("region", String(16)),
    Column("sectors", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("details_at", DateTime(timezone=True)),
    Column("status_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
    # what a profile in a programme's portfolio shows (details, with their time), and
    # the labels awarded (registry.cluster.label_awarded: [{id, scheme, level,
    # awarded_on, valid_until}, ...]; NULL: none yet)
    Column("acronym", Text),
    Column("city", Text),
    Column("kind", String(32)),
    Column("founded", Integer),
    Column("members_count", Integer),
    Column("website", Text),
    Column("description", Text),
    Column("labels", JSON),
)

portfolio_publications = Table(
    "portfolio_publications",
    metadata,
    # a programme's portfolio that anyone may fetch without a token
    Column("programme_id", String(36), ForeignKey("programmes.id"), primary_key=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("published_by", String(255)),
)

portfolio_files = Table(
    "portfolio_files",
    metadata,
    # the PDF last made of a programme's portfolio in a language, and the fingerprint of
    # the data it was made from: served again as long as the data is the same
    Column("programme_id", String(36), ForeignKey("programmes.id"), primary_key=True),
    Column("language", String(2), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("made_at", DateTime(timezone=True), nullable=False),
)
