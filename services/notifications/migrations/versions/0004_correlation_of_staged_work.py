"""the correlation of the work that staged a notification or a webhook delivery

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("notifications", "webhook_deliveries")


def upgrade() -> None:
    # nullable: rows staged before this carry none (their events get a fresh id)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("correlation_id", sa.String(length=128), nullable=True))
            batch_op.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("traceparent")
            batch_op.drop_column("correlation_id")
