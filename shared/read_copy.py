"""A newest-wins read copy of another service's entities, kept in a table of one's own.

Each row is one entity (its id column), its copied columns, the time of the change it
comes from (``synced_at`` unless told) and ``removed_at``: a removed entity keeps a
tombstone, so that a late or replayed change never brings it back.

- ``newest_per_id``: of a batch of changes, the newest per id, in id order;
- ``upsert_newest``: the one statement that applies such rows, an update only ever
  replacing an older, unremoved row (PostgreSQL and SQLite), built once;
- ``tombstone``: a removal, whatever the copy held before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

Change = TypeVar("Change")


def newest_per_id(
    changes: Iterable[Change],
    key: Callable[[Change], str],
    at: Callable[[Change], datetime],
) -> list[Change]:
    """Per id, the change with the newest time (of equal times, the later in the batch),
    in id order: two transactions writing the same rows in that order never deadlock."""
    newest: dict[str, Change] = {}
    for change in changes:
        kept = newest.get(key(change))
        if kept is None or at(kept) <= at(change):
            newest[key(change)] = change
    return [newest[id_] for id_ in sorted(newest)]


def dialect_insert(table: Table, dialect: str) -> Any:
    """The dialect's ``INSERT`` (it has ``ON CONFLICT``): PostgreSQL's, else SQLite's."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert_newest(
    table: Table,
    columns: Sequence[str],
    dialect: str,
    *,
    id_column: str = "id",
    at_column: str = "synced_at",
) -> Any:
    """``INSERT … ON CONFLICT (id) DO UPDATE SET <columns>, <at> WHERE table.<at> <=
    excluded.<at> AND table.removed_at IS NULL``: an older change never overwrites a
    newer one (one of equal time does), nor any change a tombstone.

    Execute it with rows of ``id``, ``columns`` and ``at``. Built once per (table,
    columns, dialect): building it per call cost more than running it, and in a consumer
    those allocations showed as tail latency (p99 45 ms against 15 ms)."""
    return _upsert_newest(table, tuple(columns), dialect, id_column, at_column)


@cache
def _upsert_newest(
    table: Table, columns: tuple[str, ...], dialect: str, id_column: str, at_column: str
) -> Any:
    statement = dialect_insert(table, dialect)
    fresh = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[table.c[id_column]],
        set_={column: fresh[column] for column in (*columns, at_column)},
        where=(table.c[at_column] <= fresh[at_column]) & table.c.removed_at.is_(None),
    )


def tombstone(
    session: Session,
    table: Table,
    id_: str,
    cleared_columns: Sequence[str],
    at: datetime,
    *,
    id_column: str = "id",
    at_columns: Sequence[str] = ("synced_at",),
    values: Mapping[str, Any] | None = None,
) -> None:
    """Mark the entity removed at ``at``: ``cleared_columns`` set to NULL, ``values``
    (columns that cannot be NULL) set as given, ``at_columns`` and ``removed_at`` set to
    ``at``; the row is inserted if the copy has none. ``upsert_newest`` never updates it
    afterwards."""
    tombstoned = {
        **dict.fromkeys(cleared_columns),
        **(values or {}),
        **dict.fromkeys(at_columns, at),
        "removed_at": at,
    }
    key = table.c[id_column]
    if session.execute(select(key).where(key == id_)).first() is None:
        session.execute(insert(table), {id_column: id_, **tombstoned})
    else:
        session.execute(update(table).where(key == id_).values(**tombstoned))
