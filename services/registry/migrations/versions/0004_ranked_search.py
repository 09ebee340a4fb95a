"""ranked search: GiST trigram indexes on the searched text (PostgreSQL)

``q`` on PostgreSQL matches and orders by trigram word similarity
(``q <% search_text``, ``ORDER BY q <<-> search_text LIMIT n``): a GiST index serves
both in one ordered scan that stops after the page, where the GIN indexes of 0003 found
every match to sort them. ``siglen=256``: signatures long enough that the scan skips
most of the index at 500,000 people (the default, 12 bytes, made it read about four
times as much). The GIN indexes go: the GiST ones serve ``LIKE`` too.

``search_text`` is the name and the acronym (clusters), the name and the email
(people), case-folded: what ``q`` searches. Without pg_trgm on the server nothing
changes (the read path then keeps the substring search; see adapters/reads.py), as in
0003. SQLite: nothing to do.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("clusters", "people")


def _trigrams() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    return bool(available)


def upgrade() -> None:
    if not _trigrams():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_text_trgm")
        op.execute(
            f"CREATE INDEX ix_{table}_search_text_gist_trgm ON {table} "
            "USING gist (search_text gist_trgm_ops(siglen=256))"
        )


def downgrade() -> None:
    if not _trigrams():
        return
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_text_gist_trgm")
        op.execute(
            f"CREATE INDEX ix_{table}_search_text_trgm ON {table} "
            "USING gin (search_text gin_trgm_ops)"
        )
