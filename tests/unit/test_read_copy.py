"""``shared.read_copy``: newest-wins read copies (newest per id, the cached upsert, the
tombstone), on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Column, DateTime, MetaData, String, Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from shared.db import make_engine, utc
from shared.read_copy import newest_per_id, tombstone, upsert_newest

metadata = MetaData()
copies = Table(
    "copies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200)),
    Column("email", String(320)),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
)
groups = Table(
    "groups",
    metadata,
    Column("key", String(36), primary_key=True),
    Column("name", String(200)),
    Column("tags", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("details_at", DateTime(timezone=True)),
    Column("status_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
)
COLUMNS = ("name", "email")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Change:
    id: str
    name: str
    at: datetime


def _newest(changes: list[Change]) -> list[Change]:
    return newest_per_id(changes, lambda c: c.id, lambda c: c.at)


def test_newest_per_id_keeps_the_newest_change_of_each_id_in_id_order() -> None:
    later = T0 + timedelta(seconds=1)
    changes = [
        Change("b", "b-new", later),
        Change("a", "a-first", T0),
        Change("b", "b-old", T0),
        Change("a", "a-second", T0),  # an equal time: the later in the batch wins
        Change("c", "c", T0),
    ]
    assert [c.name for c in _newest(changes)] == ["a-second", "b-new", "c"]
    assert _newest([]) == []


def test_the_upsert_is_built_once_per_table_columns_and_dialect() -> None:
    built = upsert_newest(copies, COLUMNS, "sqlite")
    assert upsert_newest(copies, list(COLUMNS), "sqlite") is built
    assert upsert_newest(copies, COLUMNS, "postgresql") is not built
    assert upsert_newest(copies, ("name",), "sqlite") is not built


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_upsert_updates_only_an_older_unremoved_row(dialect: str) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    compiler = (postgresql if dialect == "postgresql" else sqlite).dialect()
    sql = " ".join(str(upsert_newest(copies, COLUMNS, dialect).compile(dialect=compiler)).split())
    assert "ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, " in sql
    assert "synced_at = excluded.synced_at" in sql
    assert "WHERE copies.synced_at <= excluded.synced_at AND copies.removed_at IS NULL" in sql


def _row(id_: str, name: str | None, at: datetime) -> dict[str, Any]:
    return {"id": id_, "name": name, "email": f"{name}@example.org", "synced_at": at}


def _stored(session: Session, id_: str) -> tuple[str | None, datetime, datetime | None]:
    row = session.execute(select(copies).where(copies.c.id == id_)).one()
    return row.name, utc(row.synced_at), utc(row.removed_at)


def _newest_wins_and_tombstones_stay(engine: Engine) -> None:
    metadata.create_all(engine)
    statement = upsert_newest(copies, COLUMNS, engine.dialect.name)
    t1, t2, t3 = (T0 + timedelta(minutes=n) for n in (1, 2, 3))
    with Session(engine) as session, session.begin():
        session.execute(statement, [_row("p1", "new", t2), _row("p2", "kept", t1)])
    with Session(engine) as session, session.begin():
        # an older change never overwrites a newer one; one of equal time does
        session.execute(statement, [_row("p1", "old", t1), _row("p2", "same-time", t1)])
    with Session(engine) as session:
        assert _stored(session, "p1") == ("new", t2, None)
        assert _stored(session, "p2") == ("same-time", t1, None)
    with Session(engine) as session, session.begin():
        tombstone(session, copies, "p1", COLUMNS, t2)
        tombstone(session, copies, "p3", COLUMNS, t1)  # absent: inserted as a tombstone
    with Session(engine) as session, session.begin():
        # a tombstone is never revived, however new the change
        session.execute(statement, [_row("p1", "back", t3), _row("p3", "back", t3)])
    with Session(engine) as session:
        assert _stored(session, "p1") == (None, t2, t2)
        assert _stored(session, "p3") == (None, t1, t1)
        email = session.execute(select(copies.c.email).where(copies.c.id == "p1")).scalar()
        assert email is None


def test_newest_wins_and_tombstones_stay_on_sqlite(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        _newest_wins_and_tombstones_stay(engine)
    finally:
        engine.dispose()


def test_newest_wins_and_tombstones_stay_on_postgresql(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        _newest_wins_and_tombstones_stay(engine)
    finally:
        engine.dispose()


def test_a_tombstone_sets_its_own_time_columns_and_non_null_values() -> None:
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    with Session(engine) as session, session.begin():
        session.execute(
            groups.insert(),
            {"key": "g1", "name": "G", "tags": ["x"], "active": True, "status_at": t1},
        )
        for key in ("g1", "g2"):
            tombstone(
                session,
                groups,
                key,
                ("name",),
                t2,
                id_column="key",
                at_columns=("details_at", "status_at"),
                values={"tags": [], "active": False},
            )
    with Session(engine) as session:
        rows = session.execute(select(groups).order_by(groups.c.key)).all()
    assert [
        (r.key, r.name, r.tags, r.active, utc(r.details_at), utc(r.status_at), utc(r.removed_at))
        for r in rows
    ] == [(key, None, [], False, t2, t2, t2) for key in ("g1", "g2")]
