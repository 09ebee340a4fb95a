"""Scale: list and filter latency of the registry at 1,000 and at 100,000 clusters.

Each size gets a fresh PostgreSQL database migrated like production, loaded in bulk
(COPY) straight into the registry's tables -- clusters with their sectors and labels,
``people_per_cluster`` people each -- then ANALYZEd. Secondary indexes are dropped
before the load and recreated from their own definitions afterwards (what a bulk load
does; the load time includes rebuilding them). Every query goes through the registry's
real app (Flask test client, in-process: routing, auth, the read path, SQL), both sizes
loaded at once and asked in turn, ``scale_requests`` times each (after warm-up requests
that fill the connection pool and the caches). The figure is the large set's median with
the small set's median as its baseline; a query more than 1.5x slower does not scale: the
plan of the SQL the app sent (EXPLAIN ANALYZE; the app plans every query with its values,
``shared.db`` turns psycopg's server-side prepares off) says why. ``q`` is ranked on
PostgreSQL (trigram word similarity, best first, from a GiST index: see
``services/registry/adapters/reads.py``): its cost should follow the page, not the matches.
The full run loads 100,000 clusters and 500,000 people (5 a cluster).
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
from booster.bootstrap import create_app
from booster.platform import spec as load_spec
from services.registry.adapters.repository import search_text
from shared.migrations import upgrade
from shared.reads import reader_engine
from shared.service import Runtime

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
MAX_SECONDS_PER_QUERY = 20.0
"""Stop timing a (slow) query after this long, once it has MIN_REQUESTS samples a side."""
MIN_REQUESTS = 10
WARM_UP_REQUESTS = 12
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
            # what q matches on PostgreSQL: trigram word similarity (adapters/reads.py)
            data.matches[name] = connection.execute(
                f"SELECT count(*) FROM {table} WHERE %s <%% search_text", (text,)
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
        # list and detail routes read on the read path's own engine (shared.reads)
        event.listen(reader_engine(self.runtime.database), "before_cursor_execute", self._capture)

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

    def explain(self, path: str) -> tuple[str, str]:
        """(the main SQL the app sent for ``path``, its EXPLAIN ANALYZE)."""
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
        return statement, explain_analyze(self.runtime.database.url, statement, params)

    def close(self) -> None:
        self.runtime.database.dispose()


def explain_analyze(url: str, statement: str, params: dict[str, Any]) -> str:
    """EXPLAIN ANALYZE of ``statement`` (psycopg ``%(name)s`` style) with its values."""
    with psycopg.connect(_conninfo(url), autocommit=True) as connection:
        literal = re.sub(
            r"%\((\w+)\)s",
            lambda m: sql.Literal(params[m.group(1)]).as_string(connection),
            statement,
        ).replace("%%", "%")  # an operator's % (pg_trgm's <%), doubled for the driver
        rows = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {literal}").fetchall()
    return "\n".join(row[0] for row in rows)


def _scan(plan: str) -> str:
    line = next((line for line in plan.splitlines() if "Scan" in line), "?")
    return re.sub(r"\s*\(actual.*", "", line.replace("->", "").strip())


def _execution_ms(plan: str) -> float:
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(found.group(1)) if found else math.nan


def filters_search_text(statement: str) -> bool:
    return "search_text LIKE" in statement


def ranks_search_text(statement: str) -> bool:
    """``q`` on PostgreSQL: trigram word similarity, best first (adapters/reads.py)."""
    return "<<->" in statement


def diagnose(statement: str, plan: str, matches: tuple[int, int] | None = None) -> str:
    """What the plan shows; ``matches``: rows the filter matches in the large and the
    small set."""
    notes = [f"plan: {_scan(plan)}, {_execution_ms(plan):.1f} ms"]
    searched = f"{matches[0]:,} rows match here, {matches[1]:,} in the small set" if matches else ""
    if "Seq Scan" in plan:
        notes.append("a sequential scan: an index on the filtered columns would serve it")
    elif ranks_search_text(statement) and "Order By" in plan:
        notes.append(
            f"the GiST trigram index hands the matches over best first and the scan stops "
            f"after the page ({searched}); what grows is the part of the index the ordered "
            "scan visits (and the rows it rechecks) before it has the page"
        )
    elif filters_search_text(statement) and "search_text_trgm" in plan:
        notes.append(
            f"the trigram index finds every row that matches ({searched}); they are read "
            "and sorted for the page, so the work grows with the matches, not with the page "
            "(no index yields substring matches in name order)"
        )
    elif filters_search_text(statement):
        notes.append(
            f"the planner walks the (name, id) index and filters ({searched}): it reads "
            "about limit / selectivity rows, which can be more than the matches the trigram "
            "index would read"
        )
    else:
        notes.append(
            "no sequential scan: the plan stops after a bounded number of rows whatever "
            "the size; the difference is the same plan over a larger, less cached table "
            "(extra.plan)"
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
    plans: dict[str, tuple[str, str]] = field(default_factory=dict)
    """(sql, EXPLAIN ANALYZE) of the queries that were explained."""


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


def explain(side: Side, names: list[str]) -> None:
    """EXPLAIN ANALYZE the slow queries as the app sent them."""
    for name in names:
        side.plans[name] = side.measurer.explain(side.timings[name].path)


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
        explain(large_side, slow)
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
            statement, plan = plans[name]
            counts = (large_data.matches.get(name, 0), small_data.matches.get(name, 0))
            notes = diagnose(statement, plan, counts if name in large_data.matches else None)
            extra.update(sql=statement, plan=plan)
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
