"""Scale: list and filter latency of the registry at 1,000 and at 100,000 clusters.

Each size gets a fresh PostgreSQL database migrated like production, loaded in bulk
(COPY) straight into the registry's tables -- clusters with their sectors and labels,
``people_per_cluster`` people each -- then ANALYZEd. Secondary indexes are dropped
before the load and recreated from their own definitions afterwards (what a bulk load
does; the load time includes rebuilding them). Every query goes through the registry's
real app (Flask test client, in-process: routing, auth, marshmallow, SQL), both sizes
loaded at once and asked in turn, ``scale_requests`` times each (after warm-up requests,
so that psycopg's prepared statements are in their steady state). The figure is the large
set's median with the small set's median as its baseline; a query more than 1.5x slower
does not scale: its plan (EXPLAIN ANALYZE of the SQL the app sent, one-off and as a
prepared statement) is looked at for the index it lacks, and a missing trigram index is
tried in the throwaway database.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from flask.testing import FlaskClient
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.apps import quiet_logs, registry_runtime, secret, token
from bench.common import Report, Result, Sizes, fresh_database, median, percentile
from services.registry.adapters.repository import search_text
from shared.migrations import upgrade
from shared.service import Runtime, create_app, load_spec

SEED = 2021
COUNTRIES = ("MA", "EG", "TN", "JO", "PS", "FR", "IT", "ES")
EXPECTED_REGIONS = {"MA": "mena", "EG": "mena", "TN": "mena", "JO": "mena", "PS": "mena"}
EXPECTED_REGIONS.update({"FR": "eu", "IT": "eu", "ES": "eu"})
SECTORS = (
    "Agrifood",
    "Textile",
    "ICT",
    "Renewable energy",
    "Automotive",
    "Aeronautics",
    "Tourism",
    "Pharma",
    "Logistics",
    "Water",
    "Cosmetics",
    "Fashion",
)
KINDS = {
    "cluster": "Cluster",
    "technopole": "Technopole",
    "competitiveness_pole": "Pole",
    "association": "Association",
}
SYLLABLES = ("ka", "ta", "mar", "sou", "bel", "ra", "zin", "ou", "fes", "dar", "nil", "sa", "mo")
PLACES = tuple(f"{a}{b}{c}".capitalize() for a in SYLLABLES[:6] for b in SYLLABLES for c in "ai")
FIRST = (
    "Leila Karim Amina Youssef Salma Omar Nadia Hassan Rania Mehdi Sara Ali Ines Walid Hind "
    "Tarek Yasmine Nabil Dina Samir Marie Luca Sofia Marco Elena Pablo Lucia Jean Chiara Ahmed"
).split()
LAST = (
    "Benali Haddad Mansour Khalil Nasser Tazi Alaoui Saleh Farouk Bakri Amrani Jaber Toumi "
    "Rahal Zaki Idrissi Chraibi Dupont Rossi Garcia Bianchi Martin Lopez Moreau Ferrari Haddou "
    "Sabri Qasem Awad Darwish"
).split()
NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
INACTIVE_SHARE = 0.05
LABELLED_SHARE = 0.15
PLAN_CACHE_CUSTOM_PLANS = 5
"""PostgreSQL plans a prepared statement with its values 5 times, then may go generic."""
MAX_SECONDS_PER_QUERY = 20.0
"""Stop timing a (slow) query after this long, once it has MIN_REQUESTS samples a side."""
MIN_REQUESTS = 10
WARM_UP_REQUESTS = 12
"""psycopg prepares a query on its 5th execution; PostgreSQL may then switch to a generic
plan after 5 custom ones: time the steady state, not the first requests."""
BULK_TABLES = ("clusters", "cluster_sectors", "cluster_labels", "people")
CLUSTER_COLUMNS = (
    "id name acronym country region city kind sectors labels founded website description "
    "members_count search_text status version created_at updated_at"
).split()
PEOPLE_COLUMNS = (
    "id name email email_key language role cluster_id country phone search_text version "
    "created_at updated_at"
).split()


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- the data set ----------------------------------------------------------------------
@dataclass
class DataSet:
    """What the queries ask for, chosen from the loaded data (the same for every size)."""

    clusters: int
    people: int
    sector: str = "Water"
    place: str = PLACES[17].casefold()
    email_part: str = f"{FIRST[3]}.{LAST[5]}".casefold()
    cluster_id: str = ""
    load_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    matches: dict[str, int] = field(default_factory=dict)
    """Rows each ``q`` query matches (not only the page it returns)."""


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def load(url: str, clusters: int, people_per_cluster: int) -> DataSet:
    """Bulk-load ``clusters`` clusters and their people; time it all (indexes and ANALYZE)."""
    rng = random.Random(SEED)
    data = DataSet(clusters=clusters, people=clusters * people_per_cluster)
    stamp = NOW.isoformat()
    today = NOW.date()
    started = time.perf_counter()
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        regions = dict(
            connection.execute(
                "SELECT code, region FROM countries WHERE code = ANY(%s)", (list(COUNTRIES),)
            ).fetchall()
        )
        if regions != EXPECTED_REGIONS:
            raise RuntimeError(f"the countries' regions are not as expected: {regions}")
        with _without_secondary_indexes(connection):
            rows, sectors, labels = [], [], []
            for n in range(clusters):
                cluster_id = _uuid(rng)
                kind = rng.choice(tuple(KINDS))
                chosen = rng.sample(SECTORS, rng.randint(1, 3))
                name = f"{chosen[0]} {KINDS[kind]} {rng.choice(PLACES)} {n:06d}"
                acronym = f"{chosen[0][0]}{KINDS[kind][0]}{n:06d}"
                country = rng.choice(COUNTRIES)
                status = "inactive" if rng.random() < INACTIVE_SHARE else "active"
                label: dict[str, Any] | None = None
                if rng.random() < LABELLED_SHARE:
                    awarded = today - timedelta(days=rng.randint(30, 2000))
                    valid = awarded + timedelta(days=rng.choice((730, 1460, 3650)))
                    label = {
                        "id": _uuid(rng),
                        "scheme": "ESCA Cluster Excellence",
                        "level": rng.choice(("bronze", "silver", "gold")),
                        "awarded_on": awarded.isoformat(),
                        "valid_until": valid.isoformat(),
                    }
                    labels.append(
                        (label["id"], cluster_id, label["scheme"], label["level"], awarded, valid)
                    )
                rows.append(
                    (
                        cluster_id,
                        name,
                        acronym,
                        country,
                        regions[country],
                        None,
                        kind,
                        json.dumps(chosen),
                        json.dumps([label] if label else []),  # the row's copy of its labels
                        rng.randint(1990, 2022),
                        f"https://{acronym.lower()}.example.org",
                        None,
                        rng.randint(5, 400),
                        search_text(name, acronym),
                        status,
                        1,
                        stamp,
                        stamp,
                    )
                )
                sectors += [(cluster_id, sector.casefold()) for sector in chosen]
            with connection.cursor() as cursor:
                _copy(cursor, "clusters", CLUSTER_COLUMNS, rows)
                _copy(cursor, "cluster_sectors", ("cluster_id", "sector_key"), sectors)
                _copy(
                    cursor,
                    "cluster_labels",
                    ("id", "cluster_id", "scheme", "level", "awarded_on", "valid_until"),
                    labels,
                )
                _copy(cursor, "people", PEOPLE_COLUMNS, _people(rng, rows, people_per_cluster))
        connection.execute("ANALYZE")
        data.load_seconds = time.perf_counter() - started
        data.cluster_id = rows[len(rows) // 2][0]
        for table in BULK_TABLES:
            data.counts[table] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for name, table, text in (
            ("clusters ?q=", "clusters", data.place),
            ("people ?q=", "people", data.email_part),
        ):
            data.matches[name] = connection.execute(
                f"SELECT count(*) FROM {table} WHERE search_text LIKE %s", (f"%{text}%",)
            ).fetchone()[0]
    return data


def _people(
    rng: random.Random, clusters: list[tuple[Any, ...]], per_cluster: int
) -> Iterator[tuple[Any, ...]]:
    stamp = NOW.isoformat()
    number = 0
    for cluster in clusters:
        cluster_id, acronym, country = cluster[0], cluster[2], cluster[3]
        for _ in range(per_cluster):
            number += 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            email = f"{first}.{last}.{number}@{acronym}.example.org".lower()
            yield (
                _uuid(rng),
                name,
                email,
                email.casefold(),
                rng.choice(("en", "fr", "ar")),
                rng.choice(("cluster_manager", "governance_team", "expert", "other")),
                cluster_id,
                country,
                None,
                search_text(name, email),
                1,
                stamp,
                stamp,
            )


def _copy(cursor: psycopg.Cursor[Any], table: str, columns: Any, rows: Any) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def _without_secondary_indexes(connection: psycopg.Connection[Any]) -> Iterator[None]:
    """Drop the bulk tables' indexes that back no constraint; recreate them after."""
    definitions = connection.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        """,
        (list(BULK_TABLES),),
    ).fetchall()
    for name, _ in definitions:
        connection.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        for _, definition in definitions:
            connection.execute(definition)


# -- the queries -------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    name: str
    path: Callable[[DataSet], str]
    pages: int = 1
    """> 1: follow next_cursor to this page and time only its request."""


QUERIES = (
    Query("clusters ?limit=20", lambda d: "/api/v1/clusters?limit=20"),
    Query("clusters ?country=MA", lambda d: "/api/v1/clusters?country=MA"),
    Query("clusters ?region=eu", lambda d: "/api/v1/clusters?region=eu"),
    Query("clusters ?sector=", lambda d: f"/api/v1/clusters?sector={d.sector}"),
    Query("clusters ?label=gold", lambda d: "/api/v1/clusters?label=gold"),
    Query("clusters ?status=inactive", lambda d: "/api/v1/clusters?status=inactive"),
    Query("clusters ?q=", lambda d: f"/api/v1/clusters?q={d.place}"),
    Query("clusters page 10", lambda d: "/api/v1/clusters?limit=20", pages=10),
    Query("people ?cluster_id=", lambda d: f"/api/v1/people?cluster_id={d.cluster_id}"),
    Query("people ?q=", lambda d: f"/api/v1/people?q={d.email_part}"),
)


@dataclass
class Timing:
    median_ms: float
    p99_ms: float
    items: int
    path: str
    requests: int = 0


class Measurer:
    """The registry's app on one database, and a way to time and explain its requests."""

    def __init__(self, url: str) -> None:
        quiet_logs()
        jwt_secret = secret()
        self.runtime: Runtime = registry_runtime(url, jwt_secret)
        self.client: FlaskClient = create_app(self.runtime).test_client()
        self.headers = {"Authorization": f"Bearer {token(jwt_secret)}"}
        self._captured: list[tuple[str, Any]] | None = None
        event.listen(self.runtime.database.engine, "before_cursor_execute", self._capture)

    def _capture(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if self._captured is not None:
            self._captured.append((statement, params))

    def get(self, path: str) -> dict[str, Any]:
        response = self.client.get(path, headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.get_data(True)}")
        return response.get_json()

    def resolve(self, query: Query, data: DataSet) -> str:
        """The path to time: for a later page, follow the cursors to it."""
        path = query.path(data)
        for _ in range(query.pages - 1):
            cursor = self.get(path)["next_cursor"]
            if cursor is None:
                raise RuntimeError(f"{query.name}: fewer than {query.pages} pages")
            path = f"{query.path(data)}&cursor={cursor}"
        return path

    def ready(self, query: Query, data: DataSet) -> tuple[str, int]:
        """The path to time and how many items it returns, after the warm-up requests."""
        path = self.resolve(query, data)
        items = len(self.get(path)["items"])
        for _ in range(WARM_UP_REQUESTS):
            self.get(path)
        return path, items

    def sample(self, path: str) -> float:
        started = time.perf_counter()
        self.get(path)
        return (time.perf_counter() - started) * 1000

    def explain(self, path: str) -> tuple[str, str, str]:
        """(the main SQL the app sent for ``path``, its EXPLAIN ANALYZE with the values
        inlined (a custom plan), and as the app runs it once psycopg has prepared it)."""
        self._captured = []
        try:
            self.get(path)
        finally:
            captured, self._captured = self._captured, None
        statement, params = next(
            (s, p)
            for s, p in captured
            if "\nFROM clusters" in s or "\nFROM people" in s  # not the labels' query
        )
        return statement, *explain_both(self.runtime.database.url, statement, params)

    def close(self) -> None:
        self.runtime.database.dispose()


def explain_both(url: str, statement: str, params: dict[str, Any]) -> tuple[str, str]:
    """EXPLAIN ANALYZE of ``statement`` (psycopg ``%(name)s`` style) as a one-off query,
    and as a server-side prepared statement after the executions that precede
    PostgreSQL's choice between custom and generic plans -- what the app runs from
    psycopg's sixth execution of the same query on a connection (prepare_threshold 5)."""
    order: dict[str, int] = {}
    for name in re.findall(r"%\((\w+)\)s", statement):
        order.setdefault(name, len(order) + 1)
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${order[m.group(1)]}", statement)
    options = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)"
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        values = ", ".join(sql.Literal(params[name]).as_string(connection) for name in order)
        literal = re.sub(
            r"\$(\d+)\b",
            lambda m: sql.Literal(params[list(order)[int(m.group(1)) - 1]]).as_string(connection),
            numbered,
        )
        custom = connection.execute(f"{options} {literal}").fetchall()
        connection.execute(f"PREPARE bench_query AS {numbered}")
        for _ in range(PLAN_CACHE_CUSTOM_PLANS):
            connection.execute(f"EXECUTE bench_query({values})").fetchall()
        prepared = connection.execute(f"{options} EXECUTE bench_query({values})").fetchall()
    return "\n".join(r[0] for r in custom), "\n".join(r[0] for r in prepared)


def _scan(plan: str) -> str:
    line = next((line for line in plan.splitlines() if "Scan" in line), "?")
    return re.sub(r"\s*\(actual.*", "", line.replace("->", "").strip())


def _execution_ms(plan: str) -> float:
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(found.group(1)) if found else math.nan


def filters_search_text(statement: str) -> bool:
    return "search_text LIKE" in statement


def diagnose(statement: str, custom: str, prepared: str) -> str:
    """What the plans show, and the index (or setting) that would serve the query."""
    table = "people" if "\nFROM people" in statement else "clusters"
    notes = [
        f"as the app runs it (prepared): {_scan(prepared)}, {_execution_ms(prepared):.1f} ms"
        f"; one-off: {_scan(custom)}, {_execution_ms(custom):.1f} ms"
    ]
    if filters_search_text(statement) and "search_text_trgm" not in custom + prepared:
        covered = "name/email_key" if table == "people" else "name/acronym"
        notes.append(
            f"LIKE '%...%' on {table}.search_text has no index: migration 0003 puts its "
            f"trigram indexes on {table}.{covered}, which the query does not filter on; "
            f"fix: CREATE INDEX ix_{table}_search_text_trgm ON {table} "
            "USING gin (search_text gin_trgm_ops) (the name 0003's downgrade already drops)"
        )
    elif "Seq Scan" in prepared:
        notes.append("a sequential scan: an index on the filtered columns would serve it")
    else:
        notes.append(
            "no sequential scan and no missing index: the plan stops after a bounded number "
            "of rows whatever the size; the difference is the same plan over a larger, "
            "less cached table (extra.plan)"
        )
    if _execution_ms(prepared) > 1.5 * _execution_ms(custom):
        notes.append(
            "the prepared statement's generic plan is slower than a custom one: psycopg "
            "prepares a query on its 5th run and PostgreSQL then plans it without the "
            "pattern's value"
        )
    return "; ".join(notes)


# -- the report --------------------------------------------------------------------------
@dataclass
class Side:
    """One size: its database, its data, the app over it, its timings."""

    url: str
    data: DataSet
    measurer: Measurer
    timings: dict[str, Timing] = field(default_factory=dict)
    plans: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """(sql, one-off plan, prepared plan) of the queries that were explained."""
    with_index: dict[str, Timing] = field(default_factory=dict)
    """The explained ``q`` queries again, with the trigram index on search_text."""


def time_queries(sides: list[Side], queries: tuple[Query, ...], requests: int) -> None:
    """Time each query on every side, one request per side in turn (ABBA...), so that
    whatever else the machine does meanwhile weighs on every size alike."""
    for query in queries:
        ready = [side.measurer.ready(query, side.data) for side in sides]
        samples: list[list[float]] = [[] for _ in sides]
        deadline = time.perf_counter() + MAX_SECONDS_PER_QUERY
        round_ = 0
        while round_ < requests and (round_ < MIN_REQUESTS or time.perf_counter() < deadline):
            order = range(len(sides)) if round_ % 2 == 0 else reversed(range(len(sides)))
            for index in order:
                samples[index].append(sides[index].measurer.sample(ready[index][0]))
            round_ += 1
        for side, (path, items), taken in zip(sides, ready, samples, strict=True):
            side.timings[query.name] = Timing(
                median(taken), percentile(taken, 99), items, path, len(taken)
            )


def explain_and_try_index(side: Side, names: list[str], requests: int) -> None:
    """EXPLAIN the slow queries; those that filter on search_text are timed again with
    the index the diagnosis suggests (created in this throwaway database only)."""
    for name in names:
        side.plans[name] = side.measurer.explain(side.timings[name].path)
    unindexed = {
        name: "people" if "\nFROM people" in sql else "clusters"
        for name, (sql, _, _) in side.plans.items()
        if filters_search_text(sql)
    }
    if not unindexed:
        return
    with psycopg.connect(_conninfo(side.url), autocommit=True) as connection:
        for table in sorted(set(unindexed.values())):
            connection.execute(
                f"CREATE INDEX IF NOT EXISTS ix_{table}_search_text_trgm "
                f"ON {table} USING gin (search_text gin_trgm_ops)"
            )
            connection.execute(f"ANALYZE {table}")
    side.measurer.close()
    side.measurer = Measurer(side.url)  # new connections: nothing prepared before the index
    indexed = Side(side.url, side.data, side.measurer)
    time_queries([indexed], tuple(q for q in QUERIES if q.name in unindexed), requests)
    side.with_index = indexed.timings


@contextmanager
def loaded(clusters: int, sizes: Sizes) -> Iterator[Side]:
    with fresh_database(f"bench_scale{clusters}") as url:
        upgrade(load_spec("registry"), url)
        data = load(url, clusters, sizes.people_per_cluster)
        side = Side(url, data, Measurer(url))
        try:
            yield side
        finally:
            side.measurer.close()


def run(report: Report, sizes: Sizes) -> None:
    with (
        loaded(sizes.scale_small, sizes) as small_side,
        loaded(sizes.scale_large, sizes) as large_side,
    ):
        time_queries([small_side, large_side], QUERIES, sizes.scale_requests)
        small, large = small_side.timings, large_side.timings
        slow = [name for name in large if large[name].median_ms > 1.5 * small[name].median_ms]
        explain_and_try_index(large_side, slow, sizes.scale_requests)
    small_data, large_data, plans = small_side.data, large_side.data, large_side.plans
    for name, timing in large.items():
        base = small[name]
        met = timing.median_ms <= 1.5 * base.median_ms
        notes = ""
        extra: dict[str, Any] = {
            "path": timing.path,
            "items": timing.items,
            "p99_ms": timing.p99_ms,
            "small_p99_ms": base.p99_ms,
            "requests": timing.requests,
        }
        if name in plans:
            statement, custom, prepared = plans[name]
            notes = diagnose(statement, custom, prepared)
            extra.update(sql=statement, plan=prepared, plan_one_off=custom)
        if name in large_side.with_index:
            fixed = large_side.with_index[name]
            notes += (
                f"; with that index (tried in the throwaway database): median "
                f"{fixed.median_ms:.1f} ms = {fixed.median_ms / base.median_ms:.2f}x "
                f"(the index bounds the work by the rows that match, and those grow with "
                f"the data: {large_data.matches.get(name, 0):,} here, "
                f"{small_data.matches.get(name, 0):,} in the small set)"
            )
            extra.update(with_index_median_ms=fixed.median_ms, with_index_p99_ms=fixed.p99_ms)
        report.add(
            Result(
                "scale",
                f"{name} @{sizes.scale_large:,}",
                timing.median_ms,
                "ms",
                base.median_ms,
                f"median @{sizes.scale_small:,} clusters",
                goal="<= 1.5x",
                met=met,
                notes=notes,
                extra=extra,
            )
        )
    report.add(
        Result(
            "scale",
            f"bulk load {sizes.scale_large:,} clusters",
            large_data.load_seconds,
            "s",
            small_data.load_seconds,
            f"bulk load {sizes.scale_small:,} clusters",
            notes="COPY, secondary indexes rebuilt, ANALYZE",
            extra={
                "rows": large_data.counts,
                "rows_per_second": round(sum(large_data.counts.values()) / large_data.load_seconds),
            },
        )
    )
    report.add(
        Result(
            "scale",
            "50-way registration race",
            math.nan,
            "s",
            notes="not measurable yet: the events service (registrations) is not built",
        )
    )
