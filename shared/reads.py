"""The read path of list and detail routes: JSON built from the selected columns.

A list or detail route does not load domain objects and dump them with marshmallow: it
selects the columns of its output and builds the JSON items straight from the rows,
encoded in one ``orjson`` call, on a Core connection without a transaction. What it
keeps: the same bytes and fields as the schema's dump, read-your-writes (every
statement sees the latest committed data), and the marshmallow schemas as the
documentation (and the write side's validation).

The pieces, each declared once at import:

- :class:`Projection`: the JSON fields of one item in the order of its response schema,
  each from a column, a function of columns, or a constant; :meth:`Projection.check`
  holds it to the schema (same fields, same order) so the two cannot drift apart.
- :class:`Listing`: one list (a projection, a table, its filters and its orders); its
  statements are built once per combination of filters given, and its pages follow
  ``shared.http.pagination`` (``{"items": [...], "next_cursor": ...}``, keyset cursors).
- :class:`Lookup`: one item by its key (detail routes).
- :func:`read_connection`: a Core connection in autocommit (no BEGIN/COMMIT round trip;
  on SQLite no write lock).
- :func:`encode`: the JSON bytes Flask's ``jsonify`` gives for the same value
  (compact, ASCII-only), so a fast route's body equals the old one byte for byte.

``shared.http.reads.json_response`` makes the Flask response (flask-smorest's
``@blueprint.response`` passes a ``Response`` through, so it stays as documentation).

Adopting it in a service (the registry, events, mentoring and notifications did: their
``adapters/reads.py`` and ``api.py``):

1. ``adapters/reads.py``: one :class:`Projection` per response schema, fields in the
   schema's order, from ``adapters/tables.py``'s columns (``From(aware, t.c.created_at)``
   for times, ``From(orjson.loads, t.c.tags)`` for JSON text, ``Constant`` for a
   ``fields.Constant``); one :class:`Listing` per list route (the table, the conditions
   always applied, e.g. ``deleted_at IS NULL``, and one :class:`Filter` per query
   argument, meaning what the repository's ``find`` does) with its :class:`Order` (the
   repository's keyset order and cursor types; :func:`by_time` for a (time, id) order,
   ascending or newest first); one :class:`Lookup` per detail route.
2. ``api.py``: at import, ``PROJECTION.check(Schema())`` for each; argument schemas as
   instances built once (``@blueprint.arguments(LIST_ARGS, ...)``); in each GET,
   ``with read_connection(current_runtime().database) as connection: return
   json_response(LISTING.page(connection, limit, cursor, ORDER, **filters))``, and for a
   detail ``Lookup.get`` (None: raise ``NotFound`` with the use case's text) and
   ``json_response(item, headers={"ETag": etag(item["id"], item["version"])})``.
3. A test per route that the body equals the schema's dump of the use case's result
   (``tests/integration/registry/test_fast_reads.py`` shows how), on both databases.

What stays on the use cases: anything that is not a plain projection of rows (a
computed report, a ``self`` token's own view that needs domain rules) and every write.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from marshmallow import Schema
from sqlalchemy import Select, bindparam, event, select, tuple_
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.expression import ColumnElement, FromClause

from shared.db import Database, make_engine, utc
from shared.http.pagination import decode_cursor, encode_cursor, invalid_cursor

Row = Sequence[Any]


# -- JSON -------------------------------------------------------------------------------
def _escape_json(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: non-ASCII characters as JSON ``\\uXXXX`` escapes (surrogate
    pairs beyond the BMP), as ``json.dumps(..., ensure_ascii=True)`` writes them."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    escaped = []
    for character in error.object[error.start : error.end]:
        code = ord(character)
        if code > 0xFFFF:
            code -= 0x10000
            escaped.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
        else:
            escaped.append(f"\\u{code:04x}")
    return "".join(escaped), error.end


_ESCAPE = "booster.json-ascii"
codecs.register_error(_ESCAPE, _escape_json)


def encode(value: Any) -> bytes:
    """``value`` as the JSON bytes of Flask's ``jsonify`` (without its final newline):
    compact, keys in insertion order, every character outside printable ASCII escaped.

    orjson writes UTF-8 and a raw DEL; the two are escaped after it, only when present.
    Datetimes are written as ``isoformat()`` writes them (marshmallow's ``DateTime``).
    Floats: the same digits as ``json.dumps`` except below 1e-4, which orjson writes
    without an exponent (``0.00001``, not ``1e-05``): project such a column as text or
    round it (the mentoring pairs' scores are rounded to 3 places)."""
    body = orjson.dumps(value)
    if body.isascii() and b"\x7f" not in body:
        return body
    return body.decode().replace("\x7f", "\\u007f").encode("ascii", _ESCAPE)


# -- projections --------------------------------------------------------------------------
@dataclass(frozen=True)
class From:
    """A field computed from one or more columns: ``convert(*values)``."""

    convert: Callable[..., Any]
    columns: tuple[ColumnElement[Any], ...]

    def __init__(self, convert: Callable[..., Any], *columns: ColumnElement[Any]) -> None:
        object.__setattr__(self, "convert", convert)
        object.__setattr__(self, "columns", columns)


@dataclass(frozen=True)
class Constant:
    """A field with the same value in every item (e.g. a ``fields.Constant``)."""

    value: Any


Source = ColumnElement[Any] | From | Constant


def aware(value: datetime) -> datetime:
    """A stored time as UTC (``shared.db.utc``): the converter of every timestamp field."""
    return utc(value)


class ProjectionDrift(TypeError):
    """A projection whose fields are not its schema's (a bug caught at import)."""


class Projection:
    """The JSON fields of one item, in order, each from the selected columns.

    ``Projection(id=table.c.id, name=table.c.name, tags=From(json_list, table.c.tags),
    status=Constant("active"))``: :attr:`columns` is what to select (each column once),
    :meth:`item` builds one item from a row of them. The item function is generated
    once (a dict display with one expression per field, as one would write it by hand).
    """

    def __init__(self, **fields: Source) -> None:
        self.fields: tuple[str, ...] = tuple(fields)
        columns: list[ColumnElement[Any]] = []

        def position(column: ColumnElement[Any]) -> int:
            for index, known in enumerate(columns):
                if known is column:
                    return index
            columns.append(column)
            return len(columns) - 1

        namespace: dict[str, Any] = {}
        expressions = []
        for number, (name, source) in enumerate(fields.items()):
            if isinstance(source, Constant):
                namespace[f"k{number}"] = source.value
                expression = f"k{number}"
            elif isinstance(source, From):
                namespace[f"f{number}"] = source.convert
                arguments = ", ".join(f"row[{position(c)}]" for c in source.columns)
                expression = f"f{number}({arguments})"
            else:
                expression = f"row[{position(source)}]"
            expressions.append(f"{name!r}: {expression}")
        code = "def item(row):\n    return {" + ", ".join(expressions) + "}\n"
        exec(compile(code, f"<projection {', '.join(self.fields)}>", "exec"), namespace)
        self.item: Callable[[Row], dict[str, Any]] = namespace["item"]
        self.columns: tuple[ColumnElement[Any], ...] = tuple(columns)

    def check(self, schema: Schema) -> Projection:
        """Raise :class:`ProjectionDrift` unless the fields are ``schema``'s dumped
        fields (their ``data_key`` names), in its order; return the projection."""
        expected = tuple(f.data_key or name for name, f in schema.dump_fields.items())
        if expected != self.fields:
            raise ProjectionDrift(
                f"{type(schema).__name__} dumps {list(expected)}, "
                f"the projection builds {list(self.fields)}"
            )
        return self

    def items(self, rows: Sequence[Row]) -> list[dict[str, Any]]:
        item = self.item
        return [item(row) for row in rows]


# -- connections --------------------------------------------------------------------------
_readers: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()
PREPARED = "booster_prepared"
"""The execution option of a statement run as a server-side prepared statement on
PostgreSQL (:class:`Lookup` sets it): parsed once per connection and, after five runs,
planned once (PostgreSQL's generic plan, as good as any for one row by its key)."""


def reader_engine(database: Database) -> Engine:
    """The engine of ``database``'s reads, made once: on PostgreSQL a pool of its own
    whose connections are in autocommit from their first use (switching a pooled
    connection to autocommit and back on every checkout costs more than the rest of
    the checkout), disposed with the database's engine; on SQLite the same pool in
    autocommit (no ``BEGIN IMMEDIATE``, so reads never wait for the write lock).

    On PostgreSQL a statement marked :data:`PREPARED` is prepared on the server: a
    cluster by id took 72 µs instead of 155 (client and server), and the detail routes
    a fifth more requests a second. Lists are not: a generic plan of a filtered list was
    up to twice as slow as one made for its values (bench scale, 10,000 clusters)."""
    engine = _readers.get(database.engine)
    if engine is None:
        if database.dialect == "postgresql":
            reader = make_engine(
                database.url,
                isolation_level="AUTOCOMMIT",
                # psycopg prepares nothing without a threshold, even when asked to
                connect_args={"prepare_threshold": 5},
            )
            event.listen(reader, "do_execute", _execute)
            event.listen(database.engine, "engine_disposed", lambda _: reader.dispose())
            engine = reader
        else:
            engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")
        _readers[database.engine] = engine
    return engine


def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """Run a statement on psycopg, prepared if marked :data:`PREPARED`, else never
    (returns True: SQLAlchemy leaves the execution to this hook)."""
    cursor.execute(statement, parameters, prepare=bool(context.execution_options.get(PREPARED)))
    return True


@contextmanager
def read_connection(database: Database) -> Iterator[Connection]:
    """A pooled Core connection in autocommit: every statement sees the latest committed
    data (a client reads its own writes) and costs no BEGIN/COMMIT round trips."""
    with reader_engine(database).connect() as connection:
        yield connection


# -- lists and lookups ----------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    """A condition of a list, applied when its argument is given; its bound parameters
    are ``params(value)`` (by default the one parameter named as the filter)."""

    condition: ColumnElement[bool]
    params: Callable[[Any], Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class Order:
    """A keyset order: ``key`` columns ascending (the last one unique), the types of the
    cursor's values; the cursor holds the key of the last item of the page. With
    ``descending``, every key column descending (e.g. newest first)."""

    key: tuple[ColumnElement[Any], ...]
    kinds: tuple[type, ...]
    to_cursor: Callable[[list[Any]], list[Any]] | None = None
    """The cursor's values from the key's as selected (default: the same), e.g. a time
    as its ``isoformat()`` string."""
    from_cursor: Callable[[list[Any]], list[Any]] | None = None
    """The key's values from the cursor's (default: the same); a ValueError is a 422."""
    descending: bool = False


def _time_cursor(key: list[Any]) -> list[Any]:
    return [aware(key[0]).isoformat(), key[1]]


def _time_key(cursor: list[Any]) -> list[Any]:
    """The (time, id) a cursor of :func:`by_time` holds; a ValueError (a 422) unless
    the time is an ISO 8601 time with an offset (in UTC's range)."""
    at = datetime.fromisoformat(cursor[0])
    if at.tzinfo is None:
        raise ValueError("a time without an offset")
    try:
        return [at.astimezone(UTC), cursor[1]]
    except OverflowError:
        raise ValueError("a time out of range") from None


def by_time(
    time: ColumnElement[Any], unique: ColumnElement[Any], *, descending: bool = False
) -> Order:
    """The keyset order by a stored time, then a unique text column (e.g. created_at,
    id); the cursor holds the time as its ``isoformat()`` in UTC and the id."""
    return Order(
        (time, unique),
        (str, str),
        to_cursor=_time_cursor,
        from_cursor=_time_key,
        descending=descending,
    )


@dataclass(frozen=True)
class Ranked:
    """A best-first order by a distance (e.g. a trigram distance served by a GiST index,
    ``ORDER BY distance LIMIT n``: the cost follows the page, not the matches).

    A distance is not unique and adding a tie-breaker would keep the index from
    ordering the rows, so the cursor is ``[distance of the last item, how many items of
    that distance were shown]``: the next page starts at that distance and skips them.
    Pages neither repeat nor miss an item unless items of exactly that distance are
    added or removed in between (an item of another distance moves no page boundary).
    Within a page, items of equal distance come in ``then`` order."""

    distance: ColumnElement[float]
    then: tuple[ColumnElement[Any], ...] = ()
    kinds: tuple[type, ...] = field(default=(float, int), init=False)


class Listing:
    """One list: a projection over ``table``, conditions always applied, named
    filters, and orders; statements built once per shape (filters given, order, page)."""

    def __init__(
        self,
        projection: Projection,
        table: FromClause,
        *,
        filters: Mapping[str, Filter | ColumnElement[bool]],
        where: Sequence[ColumnElement[bool]] = (),
    ) -> None:
        self.projection = projection
        self.table = table
        self.where = tuple(where)
        self.filters = {
            name: f if isinstance(f, Filter) else Filter(f) for name, f in filters.items()
        }
        self._shapes: dict[tuple[Any, ...], _Shape] = {}

    def statement(self, given: tuple[str, ...], order: Order | Ranked, after: bool) -> Select[Any]:
        """The SELECT for the filters ``given`` (in the listing's order), built once."""
        return self._shape(given, order, after).statement

    def _shape(self, given: tuple[str, ...], order: Order | Ranked, after: bool) -> _Shape:
        key = (given, order, after)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._build(given, order, after)
        return shape

    def _build(self, given: tuple[str, ...], order: Order | Ranked, after: bool) -> _Shape:
        columns = list(self.projection.columns)

        def index(column: ColumnElement[Any]) -> int:
            for number, known in enumerate(columns):
                if known is column:
                    return number
            columns.append(column)
            return len(columns) - 1

        if isinstance(order, Ranked):
            keys = (index(order.distance), *(index(column) for column in order.then))
            ordering: tuple[ColumnElement[Any], ...] = (order.distance,)
        else:
            keys = tuple(index(column) for column in order.key)
            ordering = order.key
        statement = select(*columns).select_from(self.table).where(*self.where)
        statement = statement.where(*(self.filters[name].condition for name in given))
        descending = isinstance(order, Order) and order.descending
        by = tuple(column.desc() for column in ordering) if descending else ordering
        statement = statement.order_by(*by).limit(bindparam("limit"))
        if after and isinstance(order, Ranked):
            statement = statement.where(order.distance >= bindparam("after_distance"))
            statement = statement.offset(bindparam("after_skip"))
        elif after:
            bound: list[ColumnElement[Any]] = [  # typed as the key (SQLite's stored times)
                bindparam(f"after_{n}", type_=column.type) for n, column in enumerate(ordering)
            ]
            key, last = tuple_(*ordering), tuple_(*bound)
            statement = statement.where(key < last if descending else key > last)
        return _Shape(statement, keys)

    def page(
        self,
        connection: Connection,
        limit: int,
        cursor: str | None,
        order: Order | Ranked,
        **arguments: Any,
    ) -> dict[str, Any]:
        """``{"items": [...], "next_cursor": ...}``: ``limit`` items after ``cursor``
        (a 422 if it is not one this list issued), filtered by the ``arguments`` given
        (None: not given; an argument that names no filter is a bound parameter, e.g.
        the text a :class:`Ranked` distance is measured from)."""
        after = decode_cursor(cursor, order.kinds)
        given = tuple(name for name in self.filters if arguments.get(name) is not None)
        params: dict[str, Any] = {"limit": limit + 1}
        for name, value in arguments.items():
            if name not in self.filters:
                params[name] = value
        for name in given:
            custom = self.filters[name].params
            params.update(custom(arguments[name]) if custom else {name: arguments[name]})
        if isinstance(order, Ranked):
            return self._ranked_page(connection, limit, order, given, params, after)
        if after is not None and order.from_cursor is not None:
            try:
                after = order.from_cursor(after)
            except ValueError:
                raise invalid_cursor() from None
        if after is not None:
            params.update({f"after_{n}": value for n, value in enumerate(after)})
        shape = self._shape(given, order, after is not None)
        rows = connection.execute(shape.statement, params).all()
        shown = rows[:limit]
        next_cursor = None
        if len(rows) > limit and shown:
            key = [shown[-1][i] for i in shape.keys]
            next_cursor = encode_cursor(order.to_cursor(key) if order.to_cursor else key)
        return {"items": self.projection.items(shown), "next_cursor": next_cursor}

    def _ranked_page(
        self,
        connection: Connection,
        limit: int,
        order: Ranked,
        given: tuple[str, ...],
        params: dict[str, Any],
        after: list[Any] | None,
    ) -> dict[str, Any]:
        if after is not None:
            if after[0] != after[0] or after[1] < 0:  # NaN, a negative count
                raise invalid_cursor()
            params.update(after_distance=after[0], after_skip=after[1])
        shape = self._shape(given, order, after is not None)
        rows = connection.execute(shape.statement, params).all()
        shown = rows[:limit]
        next_cursor = None
        distance = shape.keys[0]
        if len(rows) > limit and shown:
            last = shown[-1][distance]
            same = sum(1 for row in shown if row[distance] == last)
            if after is not None and after[0] == last:
                same += after[1]
            next_cursor = encode_cursor([float(last), same])
        if len(shape.keys) > 1:  # ties in ``then`` order, within the page
            shown = sorted(shown, key=lambda row: tuple(row[i] for i in shape.keys))
        return {"items": self.projection.items(shown), "next_cursor": next_cursor}


@dataclass(frozen=True)
class _Shape:
    statement: Select[Any]
    keys: tuple[int, ...]
    """Where the order's key (or the distance, then the tie order) is in a row."""


class Lookup:
    """One item by its key: ``Lookup(projection, table, table.c.id == bindparam("id"))``."""

    def __init__(
        self, projection: Projection, table: FromClause, *where: ColumnElement[bool]
    ) -> None:
        self.projection = projection
        self.statement = (
            select(*projection.columns)
            .select_from(table)
            .where(*where)
            .execution_options(**{PREPARED: True})
        )

    def row(self, connection: Connection, **params: Any) -> Row | None:
        """The selected row (the projection's columns), or None."""
        return connection.execute(self.statement, params).first()

    def get(self, connection: Connection, **params: Any) -> dict[str, Any] | None:
        """The item, or None if no row matches."""
        row = self.row(connection, **params)
        return None if row is None else self.projection.item(row)
