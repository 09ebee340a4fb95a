"""the programme portfolio: profile details of the clusters copy, people's role,
publications and rendered PDFs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:00:00.000000

Clusters copied before this revision have no profile details (description, city, ...)
until the registry next announces a change to them (``registry.cluster.updated``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acronym", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("city", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("founded", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("members_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("website", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("labels", sa.JSON(), nullable=True))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=32), nullable=True))
    op.create_table(
        "portfolio_publications",
        sa.Column("programme_id", sa.String(length=36), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_portfolio_publications_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint("programme_id", name=op.f("pk_portfolio_publications")),
    )
    op.create_table(
        "portfolio_files",
        sa.Column("programme_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_portfolio_files_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint("programme_id", "language", name=op.f("pk_portfolio_files")),
    )


def downgrade() -> None:
    op.drop_table("portfolio_files")
    op.drop_table("portfolio_publications")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("role")
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        for column in (
            "labels",
            "description",
            "website",
            "members_count",
            "founded",
            "kind",
            "city",
            "acronym",
        ):
            batch_op.drop_column(column)
