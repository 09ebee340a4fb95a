"""The read path's pieces (``shared.reads``) on an in-memory SQLite table."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from marshmallow import Schema, fields
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
)
from sqlalchemy.engine import Connection

from shared.http.pagination import encode_cursor
from shared.http.problems import InvalidRequestPart
from shared.reads import (
    Constant,
    Filter,
    From,
    Listing,
    Lookup,
    Order,
    Projection,
    ProjectionDrift,
    Ranked,
    aware,
    by_time,
    encode,
)

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("score", Integer, nullable=False),
    Column("tags", String, nullable=False),
)
THING = Projection(
    id=things.c.id,
    name=things.c.name,
    tags=From(json.loads, things.c.tags),
    label=From(lambda name, score: f"{name}:{score}", things.c.name, things.c.score),
    kind=Constant("thing"),
)


@pytest.fixture
def connection() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            things.insert(),
            [
                {"id": f"{n:02d}", "name": f"n{n % 7}", "score": n % 4, "tags": json.dumps([n])}
                for n in range(23)
            ],
        )
        yield connection


def test_encode_writes_what_jsonify_writes() -> None:
    text = "".join(chr(c) for c in range(0x800)) + "\u2028\ufeff😀\U0010fffd"
    value = {"s": text, "l": [None, True, 1, -2, {"é": [text[::-1]]}], "n": None}
    assert encode(value) == json.dumps(value, separators=(",", ":")).encode()
    assert encode({"plain": "ascii"}) == b'{"plain":"ascii"}'


def test_encode_writes_times_as_isoformat() -> None:
    values = [
        datetime(2026, 1, 15, 9, 30, tzinfo=UTC),
        datetime(2026, 1, 15, 9, 30, 0, 1, tzinfo=UTC),
        aware(datetime(2026, 1, 15, 9, 30, 5, 120000)),  # naive, as SQLite returns it
        aware(datetime(2026, 1, 15, 10, 30, tzinfo=timezone(timedelta(hours=1)))),
        date(2026, 2, 1),
    ]
    assert json.loads(encode(values)) == [value.isoformat() for value in values]
    assert json.loads(encode(values))[3] == "2026-01-15T09:30:00+00:00"


def test_a_projection_builds_items_in_its_order(connection: Connection) -> None:
    assert THING.columns == (things.c.id, things.c.name, things.c.tags, things.c.score)
    lookup = Lookup(THING, things, things.c.id == bindparam("id"))
    item = lookup.get(connection, id="05")
    assert item is not None and lookup.get(connection, id="nope") is None
    assert list(item) == ["id", "name", "tags", "label", "kind"]
    assert item == {"id": "05", "name": "n5", "tags": [5], "label": "n5:1", "kind": "thing"}


class ThingSchema(Schema):
    id = fields.String()
    name = fields.String()
    tags = fields.List(fields.Integer())
    label = fields.String()
    kind = fields.String()
    secret = fields.String(load_only=True)


def test_check_holds_a_projection_to_its_schema() -> None:
    assert THING.check(ThingSchema()) is THING

    class Missing(ThingSchema):
        extra = fields.String()

    class Renamed(ThingSchema):
        kind = fields.String(data_key="type")

    class Reordered(Schema):
        name = fields.String()
        id = fields.String()
        tags = fields.List(fields.Integer())
        label = fields.String()
        kind = fields.String()

    for schema in (Missing(), Renamed(), Reordered()):
        with pytest.raises(ProjectionDrift):
            THING.check(schema)


LISTING = Listing(
    THING,
    things,
    filters={
        "score": things.c.score == bindparam("score"),
        "prefix": Filter(things.c.name.like(bindparam("pattern")), lambda p: {"pattern": p + "%"}),
    },
)
BY_NAME = Order((things.c.name, things.c.id), (str, str))
NEAREST = Ranked(func.abs(things.c.score - bindparam("target")), (things.c.name, things.c.id))


def every_page(connection: Connection, limit: int, order: Order | Ranked, **args: object) -> list:
    items, cursor = [], None
    for _ in range(30):  # a cursor that did not move on would loop
        page = LISTING.page(connection, limit, cursor, order, **args)
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages did not end")


def test_keyset_pages_hold_every_item_once(connection: Connection) -> None:
    everything = every_page(connection, 4, BY_NAME)
    keys = [(item["name"], item["id"]) for item in everything]
    assert keys == sorted(keys) and len(keys) == 23
    assert every_page(connection, 50, BY_NAME) == everything
    only = every_page(connection, 2, BY_NAME, score=1, prefix="n1")
    assert only == [i for i in everything if i["name"] == "n1" and i["label"].endswith(":1")]
    assert only  # the filters kept some


def test_descending_keyset_pages_hold_every_item_once(connection: Connection) -> None:
    """Newest first (the notifications' inbox): the key descending, pages after the last."""
    newest_first = Order((things.c.name, things.c.id), (str, str), descending=True)
    everything = every_page(connection, 4, newest_first)
    keys = [(item["name"], item["id"]) for item in everything]
    assert keys == sorted(keys, reverse=True) and len(keys) == 23
    assert every_page(connection, 50, newest_first) == everything
    only = every_page(connection, 1, newest_first, score=2)
    assert only == [item for item in everything if item["label"].endswith(":2")]
    assert len(only) == 6
    assert LISTING.statement((), newest_first, True) is not LISTING.statement((), BY_NAME, True)


def test_ranked_pages_hold_every_item_once_across_ties(connection: Connection) -> None:
    for limit in (1, 2, 3, 5, 7, 23, 24):
        ranked = every_page(connection, limit, NEAREST, target=2)
        assert sorted(item["id"] for item in ranked) == [f"{n:02d}" for n in range(23)]
        distances = [abs(int(item["label"].split(":")[1]) - 2) for item in ranked]
        assert distances == sorted(distances)
    page = LISTING.page(connection, 6, None, NEAREST, target=2)
    same = [(item["name"], item["id"]) for item in page["items"]]
    assert same == sorted(same)  # six items at distance 0: in name order within the page


def test_statements_are_built_once_per_shape(connection: Connection) -> None:
    first = LISTING.statement(("score",), BY_NAME, True)
    assert LISTING.statement(("score",), BY_NAME, True) is first
    assert LISTING.statement(("score",), BY_NAME, False) is not first


@pytest.mark.parametrize(
    ("order", "cursor"),
    [
        (BY_NAME, "bm9wZQ"),
        (BY_NAME, "WzFd"),  # [1]: one value, of the wrong type
        (NEAREST, "WyJhIiwiYiJd"),  # ["a","b"]
        (NEAREST, "WzAuMCwtMV0"),  # [0.0,-1]
        (NEAREST, "W05hTiwwXQ"),  # [NaN,0]
    ],
)
def test_a_cursor_the_list_did_not_issue_is_a_422(
    connection: Connection, order: Order | Ranked, cursor: str
) -> None:
    with pytest.raises(InvalidRequestPart):
        LISTING.page(connection, 2, cursor, order, target=1)


def test_an_order_may_write_its_key_as_the_cursor_shows_it() -> None:
    """A time key as its isoformat() text (the cursors of the events' list)."""
    engine = create_engine("sqlite://")
    table = Table(
        "slots", MetaData(), Column("id", String, primary_key=True), Column("at", DateTime)
    )
    table.metadata.create_all(engine)
    start = datetime(2026, 3, 1, 9, 0)
    with engine.begin() as connection:
        connection.execute(
            table.insert(), [{"id": f"{n}", "at": start + timedelta(hours=n % 3)} for n in range(7)]
        )
        slots = Listing(Projection(id=table.c.id, at=From(aware, table.c.at)), table, filters={})
        by_time = Order(
            (table.c.at, table.c.id),
            (str, str),
            to_cursor=lambda key: [aware(key[0]).isoformat(), key[1]],
            from_cursor=lambda values: [
                datetime.fromisoformat(values[0]).replace(tzinfo=None),
                values[1],
            ],
        )
        first = slots.page(connection, 3, None, by_time)
        assert decode(first["next_cursor"]) == ["2026-03-01T09:00:00+00:00", "6"]
        seen, cursor = list(first["items"]), first["next_cursor"]
        for _ in range(5):  # three pages; a cursor that did not move on would loop
            if cursor is None:
                break
            page = slots.page(connection, 3, cursor, by_time)
            seen += page["items"]
            cursor = page["next_cursor"]
        assert [item["id"] for item in seen] == ["0", "3", "6", "1", "4", "2", "5"]
        with pytest.raises(InvalidRequestPart):
            slots.page(connection, 3, encode_cursor(["not a time", "1"]), by_time)


def test_a_time_order_pages_both_ways_and_refuses_other_cursors() -> None:
    """``by_time``: (time, id) ascending or newest first; the cursor holds the time in
    UTC as ``isoformat()`` writes it; a time without an offset or out of range is a 422."""
    engine = create_engine("sqlite://")
    table = Table(
        "moments",
        MetaData(),
        Column("id", String, primary_key=True),
        Column("at", DateTime(timezone=True)),
    )
    table.metadata.create_all(engine)
    start = datetime(2026, 3, 1, 9, 0, 0, 250, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            table.insert(), [{"id": f"{n}", "at": start + timedelta(hours=n % 3)} for n in range(7)]
        )
        moments = Listing(Projection(id=table.c.id), table, filters={})
        for descending, expected in (
            (False, ["0", "3", "6", "1", "4", "2", "5"]),
            (True, ["5", "2", "4", "1", "6", "3", "0"]),
        ):
            order = by_time(table.c.at, table.c.id, descending=descending)
            first = moments.page(connection, 3, None, order)
            at = "2026-03-01T09:00:00.000250+00:00" if not descending else None
            assert at is None or decode(first["next_cursor"]) == [at, "6"]
            seen, cursor = [item["id"] for item in first["items"]], first["next_cursor"]
            for _ in range(5):  # a cursor that did not move on would loop
                if cursor is None:
                    break
                page = moments.page(connection, 3, cursor, order)
                seen += [item["id"] for item in page["items"]]
                cursor = page["next_cursor"]
            assert seen == expected
            for forged in ("2026-03-01T09:00:00", "nope", "0001-01-01T00:00:00+01:00"):
                with pytest.raises(InvalidRequestPart):
                    moments.page(connection, 3, encode_cursor([forged, "1"]), order)


def decode(cursor: str) -> list[object]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
