"""REST throughput: the registry's list and detail routes under gunicorn, against peers.

The registry (auth, request logs as JSON lines, Prometheus metrics, the read path of
``shared.reads``; a PostgreSQL database holding 1,000 clusters) runs beside:

- a bare Flask app that returns the same JSON bytes (the framework's floor);
- the peers of ``bench/peers.py`` -- what a Python team would write instead: plain
  Flask + SQLAlchemy Core + marshmallow, the same with orjson, and FastAPI +
  SQLAlchemy + pydantic (sync) -- serving the same page from the same tables, the JWT
  verified on every request.

All run at once under the same gunicorn settings (2 workers on loopback; uvicorn
workers for FastAPI) and are loaded by wrk with the same request, token included, in
turn, in short slices (ABBA...), so that what else the machine does meanwhile weighs on
every side alike. ``GET /clusters?limit=20`` is measured against every peer,
``GET /clusters/{id}`` against the bare app, and so is ``GET /events/{id}``: the events
service (its own database, as ``service_app('events')`` builds it) serving a published
business trip set up over HTTP (description, agenda, sectors, seats, a few people
registered).

The in-process breakdown (request logs off) says where a request's time goes: the
whole request, ``/healthz``, the same request answering an empty page (the page
function replaced once, outside the timing: the platform's cost per request without
data), the query (execute and fetch on a read connection, its CPU in this process and
the rest, the database's round trip), building the page from the rows (items and one
orjson call), and, for comparison, the old path's marshmallow dump of the same page
and the JWT verification with and without the token cache.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

from bench import scale
from bench.apps import (
    BARE_BODY_ENV,
    BARE_DETAIL_ENV,
    BARE_EVENT_ENV,
    GUNICORN_WORKERS,
    EventsApi,
    Process,
    WrkResult,
    booster_env,
    combine,
    cpu_ms_per_request,
    events_people,
    free_port,
    get,
    gunicorn_command,
    interleave,
    quiet_logs,
    registry_runtime,
    round_ratios,
    secret,
    service_runtime,
    timed_cpu,
    token,
    wrk,
)
from bench.common import BROKER_URL, Report, Result, Sizes, fresh_database
from booster.bootstrap import create_app
from booster.platform import spec as load_spec
from services.registry import operations
from services.registry import schemas as s
from services.registry.adapters import reads
from services.registry.adapters.repository import ClusterQuery
from shared.auth import TokenVerifier
from shared.http.pagination import page
from shared.migrations import upgrade
from shared.reads import encode, read_connection
from shared.service import Runtime
from shared.token_cache import CachedTokenVerifier

CLUSTERS = 1_000
PATH = "/api/v1/clusters?limit=20"
WARM_UP_SECONDS = 1
BREAKDOWN_CALLS = 200
EMPTY_PAGE: dict[str, Any] = {"items": [], "next_cursor": None}
EVENTS_SCOPES = "events:read events:write"
EVENT_SEATS = 40
EVENT_REGISTRATIONS = 8


@dataclass(frozen=True)
class Peer:
    """A server of the same list: its name in the report, its gunicorn app, a goal."""

    key: str
    title: str
    factory: str
    module: str = "bench.peers"
    worker_class: str | None = None
    goal: float | None = None
    same_bytes: bool = True


PEERS = (
    Peer(
        "flask_marshmallow",
        "plain Flask + SQLAlchemy Core + marshmallow",
        "flask_marshmallow_app()",
        goal=1.0,
    ),
    Peer("flask_orjson", "plain Flask + SQLAlchemy Core + orjson", "flask_orjson_app()", goal=0.8),
    Peer(
        "fastapi",
        "FastAPI + SQLAlchemy + pydantic (sync)",
        "fastapi_app()",
        worker_class="uvicorn_worker.UvicornWorker",
        same_bytes=False,  # pydantic writes UTC as Z; no final newline
    ),
)


def _timed(call: Callable[[], Any], calls: int = BREAKDOWN_CALLS) -> tuple[float, float]:
    """(wall ms, this thread's CPU ms) per call, after 10 warm-up calls."""
    for _ in range(10):
        call()
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(calls):
        call()
    return (
        (time.perf_counter() - wall) * 1000 / calls,
        (time.thread_time() - cpu) * 1000 / calls,
    )


def breakdown(runtime: Runtime, bearer: str, jwt_secret: str) -> dict[str, float]:
    """Milliseconds per call, in this process (see the module's docstring)."""
    quiet_logs()
    client = create_app(runtime).test_client()
    headers = {"Authorization": f"Bearer {bearer}"}
    statement = reads.CLUSTERS.statement((), reads.CLUSTERS_BY_NAME, False)
    with read_connection(runtime.database) as connection:
        rows = connection.execute(statement, {"limit": 21}).all()
        body = reads.cluster_page(connection, 20, None)
    old_items = operations.list_clusters(runtime.uow, ClusterQuery(), 21, None)
    old_page = page(old_items, 20, key=lambda cluster: [cluster.name, cluster.id])
    dump = s.ClusterPage()

    def query() -> Any:
        with read_connection(runtime.database) as connection:
            return connection.execute(statement, {"limit": 21}).all()

    def build() -> bytes:
        shown = rows[:20]
        return encode({"items": reads.CLUSTER.items(shown), "next_cursor": body["next_cursor"]})

    verifier = TokenVerifier(jwt_secret)
    cached = CachedTokenVerifier(jwt_secret)

    @contextmanager
    def empty_pages() -> Iterator[None]:
        with mock.patch.object(reads, "cluster_page", lambda *args, **kwargs: EMPTY_PAGE):
            yield

    calls: dict[str, tuple[Callable[[], Any], Callable[[], AbstractContextManager[Any]]]] = {
        "request": (lambda: client.get(PATH, headers=headers), nullcontext),
        "healthz": (lambda: client.get("/healthz"), nullcontext),
        "empty_list": (lambda: client.get(PATH, headers=headers), empty_pages),
        "query": (query, nullcontext),
        "build": (build, nullcontext),
        "old_dump": (lambda: dump.dump(old_page), nullcontext),
        "old_list_clusters": (
            lambda: operations.list_clusters(runtime.uow, ClusterQuery(), 21, None),
            nullcontext,
        ),
        "jwt": (lambda: verifier.verify(bearer), nullcontext),
        "jwt_cached": (lambda: cached.verify(bearer), nullcontext),
    }
    costs: dict[str, float] = {}
    for name, (call, around) in calls.items():
        with around():
            wall, cpu = _timed(call)
        costs[f"{name}_ms"] = round(wall, 3)
        if name == "query":
            costs["query_cpu_ms"] = round(cpu, 3)
            costs["query_round_trip_ms"] = round(max(0.0, wall - cpu), 3)
    return costs


def published_event(api: EventsApi, runtime: Runtime) -> str:
    """A business trip as an organiser publishes it (``EventsApi``, over HTTP): two days,
    a description, a five-item agenda, sectors, a host, ``EVENT_SEATS`` seats and
    ``EVENT_REGISTRATIONS`` people registered. Its id."""
    start = (datetime.now(UTC) + timedelta(days=45)).replace(
        hour=7, minute=30, second=0, microsecond=0
    )
    agenda = [
        (1, "Welcome and presentation of the delegation", "Claire Martin"),
        (3, "Visit of the composite materials platform", None),
        (6, "B2B meetings with the host cluster's members", None),
        (25, "Round table: certification and market access", "Youssef El Amrani"),
        (29, "Closing and follow-up of the contacts made", "Claire Martin"),
    ]
    event_id = api.published_event(
        title="Aerospace and advanced materials delegation to Toulouse",
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(days=1, hours=10)).isoformat(),
        capacity=EVENT_SEATS,
        city="Toulouse",
        registration_closes_at=(start - timedelta(days=7)).isoformat(),
        description=(
            "Two days with the aerospace cluster of Occitania for the members of our "
            "clusters working on composite materials, surface treatments and embedded "
            "systems: site visits, pre-arranged business meetings and a round table on "
            "certification. Travel and accommodation are booked by each participant; the "
            "programme, the meetings and the transfers on site are organised by the host."
        ),
        agenda=[
            {"starts_at": (start + timedelta(hours=h)).isoformat(), "title": t, "speaker": who}
            for h, t, who in agenda
        ],
        sectors=["Aerospace", "Advanced materials", "Embedded systems"],
        host_organisation="Aerospace Valley",
    )
    for person_id in events_people(runtime, EVENT_REGISTRATIONS, name="Delegate"):
        status, registration = api.call(
            "POST", f"/api/v1/events/{event_id}/registrations", {"person_id": person_id}
        )
        assert status == 201, registration
    return event_id


def warm_up(url: str, bearer: str, script: str | None = None) -> None:
    wrk(url, WARM_UP_SECONDS, token=bearer, script=script)


def slice_seconds(total: int) -> tuple[int, int]:
    """(rounds, seconds per slice) for ``total`` seconds of load per side."""
    seconds = 1 if total < 6 else 2
    return max(1, total // seconds), seconds


def _same_page(ours: bytes, theirs: bytes, same_bytes: bool) -> bool:
    import json

    if same_bytes:
        return ours.rstrip(b"\n") == theirs.rstrip(b"\n")
    mine, other = json.loads(ours), json.loads(theirs)
    return [i["id"] for i in mine["items"]] == [i["id"] for i in other["items"]] and mine[
        "next_cursor"
    ] == other["next_cursor"]


def _load(
    servers: dict[str, Process], path: str, seconds: int, rounds: int, bearer: str
) -> tuple[dict[str, WrkResult], dict[str, list[WrkResult]], dict[str, dict[str, float]]]:
    cpu: dict[str, dict[str, float]] = {name: {} for name in servers}
    slices = interleave(
        [
            timed_cpu(partial(wrk, server.base_url + path, seconds, token=bearer), cpu[name])
            for name, server in servers.items()
        ],
        rounds,
    )
    by_name = dict(zip(servers, slices, strict=True))
    return {name: combine(s_) for name, s_ in by_name.items()}, by_name, cpu


def run(report: Report, sizes: Sizes) -> None:
    jwt_secret = secret()
    bearer = token(jwt_secret)
    events_bearer = token(jwt_secret, EVENTS_SCOPES)
    rounds, seconds = slice_seconds(sizes.rest_seconds)
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database("bench_rest"))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        upgrade(load_spec("registry"), url)
        data = scale.load(url, CLUSTERS, people_per_cluster=0)
        runtime = registry_runtime(url, jwt_secret)
        stack.callback(runtime.database.dispose)
        costs = breakdown(runtime, bearer, jwt_secret)
        env = booster_env(
            BOOSTER_REGISTRY_DATABASE_URL=url,
            BOOSTER_JWT_SECRET=jwt_secret,
            BOOSTER_BROKER_URL=BROKER_URL,
            BOOSTER_VAR_DIR=tmp,
        )
        events_url = stack.enter_context(fresh_database("bench_rest_events"))
        events_runtime = service_runtime("events", events_url, jwt_secret)
        stack.callback(events_runtime.database.dispose)
        events_port = free_port()
        events = Process(
            gunicorn_command("service_app('events')", events_port),
            {**env, "BOOSTER_EVENTS_DATABASE_URL": events_url},
            events_port,
        )
        stack.callback(events.stop)
        events.start()  # it starts up while the registry does; entered (ready) below
        port = free_port()
        servers: dict[str, Process] = {}
        servers["registry"] = stack.enter_context(
            Process(gunicorn_command("service_app('registry')", port), env, port)
        )
        body = get(servers["registry"].base_url + PATH, bearer)
        detail_path = f"/api/v1/clusters/{data.cluster_id}"
        detail = get(servers["registry"].base_url + detail_path, bearer)
        stack.enter_context(events)
        event_id = published_event(EventsApi(events_port, events_bearer), events_runtime)
        event_path = f"/api/v1/events/{event_id}"
        event = get(events.base_url + event_path, events_bearer)
        (Path(tmp) / "clusters.json").write_bytes(body)
        (Path(tmp) / "cluster.json").write_bytes(detail)
        (Path(tmp) / "event.json").write_bytes(event)
        bare_env = {
            **env,
            BARE_BODY_ENV: str(Path(tmp) / "clusters.json"),
            BARE_DETAIL_ENV: str(Path(tmp) / "cluster.json"),
            BARE_EVENT_ENV: str(Path(tmp) / "event.json"),
        }
        port = free_port()
        servers["bare"] = stack.enter_context(
            Process(gunicorn_command("bare_app()", port), bare_env, port)
        )
        for peer in PEERS:
            port = free_port()
            command = gunicorn_command(
                peer.factory, port, worker_class=peer.worker_class, module=peer.module
            )
            servers[peer.key] = stack.enter_context(Process(command, env, port))
        for name, server in servers.items():
            served = get(server.base_url + PATH, bearer)
            same_bytes = next((p.same_bytes for p in PEERS if p.key == name), True)
            if not _same_page(body, served, same_bytes):
                raise RuntimeError(f"{name} does not serve the registry's page")
        if get(servers["bare"].base_url + detail_path, bearer) != detail:
            raise RuntimeError("the bare app does not serve the registry's detail bytes")
        if get(servers["bare"].base_url + event_path, events_bearer) != event:
            raise RuntimeError("the bare app does not serve the events service's detail bytes")
        for server in servers.values():
            warm_up(server.base_url + PATH, bearer)
        lists, list_slices, list_cpu = _load(servers, PATH, seconds, rounds, bearer)
        pair = {name: servers[name] for name in ("registry", "bare")}
        for server in pair.values():
            warm_up(server.base_url + detail_path, bearer)
        details, detail_slices, detail_cpu = _load(pair, detail_path, seconds, rounds, bearer)
        pair = {"events": events, "bare": servers["bare"]}
        for server in pair.values():
            warm_up(server.base_url + event_path, events_bearer)
        event_loads, event_slices, event_cpu = _load(
            pair, event_path, seconds, rounds, events_bearer
        )

    setting = (
        f"gunicorn {GUNICORN_WORKERS} workers each, wrk -t2 -c32, "
        f"{rounds} x {seconds}s slices each, interleaved"
    )
    ours = lists["registry"]
    cpu_ms = {name: cpu_ms_per_request(list_cpu[name], lists[name]) for name in servers}
    notes = (
        f"{CLUSTERS:,} clusters, {len(body):,}-byte body; {setting}; in-process ms per "
        f"request {costs['request_ms']} (empty page {costs['empty_list_ms']}, /healthz "
        f"{costs['healthz_ms']}; query {costs['query_ms']} = CPU {costs['query_cpu_ms']} + "
        f"round trip {costs['query_round_trip_ms']}; rows to JSON {costs['build_ms']}; the "
        f"old path's marshmallow dump {costs['old_dump_ms']}; JWT {costs['jwt_ms']}, cached "
        f"{costs['jwt_cached_ms']}); API CPU ms per request: "
        + ", ".join(f"{n} {cpu_ms[n].get('api', math.nan):.2f}" for n in servers)
    )
    non_2xx = {name: load.non_2xx for name, load in lists.items() if load.non_2xx}
    if non_2xx:
        notes += f"; non-2xx: {non_2xx}"
    report.add(
        Result(
            "rest",
            "GET /clusters?limit=20",
            ours.ok_per_second,
            "req/s",
            lists["bare"].ok_per_second,
            "bare Flask, same bytes",
            goal=">= 0.5x",
            met=ours.ok_per_second >= 0.5 * lists["bare"].ok_per_second,
            notes=notes,
            extra={
                **{name: load.summary() for name, load in lists.items()},
                "req_per_second": {n: round(load.ok_per_second, 1) for n, load in lists.items()},
                "round_ratios": round_ratios(list_slices["registry"], list_slices["bare"]),
                "in_process_ms": costs,
                "cpu_ms_per_request": cpu_ms,
            },
        )
    )
    for peer in PEERS:
        theirs = lists[peer.key]
        met = None
        if peer.goal is not None:
            met = ours.ok_per_second >= peer.goal * theirs.ok_per_second
        report.add(
            Result(
                "rest",
                f"list vs {peer.key}",
                ours.ok_per_second,
                "req/s",
                theirs.ok_per_second,
                peer.title,
                goal=f">= {peer.goal}x" if peer.goal is not None else None,
                met=met,
                notes=f"same page, same data, JWT verified per request; {setting}",
                extra={
                    "round_ratios": round_ratios(list_slices["registry"], list_slices[peer.key]),
                    "peer_api_cpu_ms": cpu_ms[peer.key].get("api"),
                },
            )
        )
    report.add(
        Result(
            "rest",
            "GET /clusters?limit=20 p99",
            ours.p99_ms,
            "ms",
            lists["bare"].p99_ms,
            "bare Flask, same bytes",
            notes="median of the slices' p99",
            extra={"p50_ms": {name: load.p50_ms for name, load in lists.items()}},
        )
    )
    ours_detail, bare_detail = details["registry"], details["bare"]
    detail_cpu_ms = {n: cpu_ms_per_request(detail_cpu[n], details[n]) for n in details}
    report.add(
        Result(
            "rest",
            "GET /clusters/{id}",
            ours_detail.ok_per_second,
            "req/s",
            bare_detail.ok_per_second,
            "bare Flask, same bytes",
            goal=">= 0.35x",
            met=ours_detail.ok_per_second >= 0.35 * bare_detail.ok_per_second,
            notes=f"{len(detail):,}-byte body with its ETag; {setting}",
            extra={
                "registry": ours_detail.summary(),
                "bare": bare_detail.summary(),
                "round_ratios": round_ratios(detail_slices["registry"], detail_slices["bare"]),
                "cpu_ms_per_request": detail_cpu_ms,
            },
        )
    )
    ours_event, bare_event = event_loads["events"], event_loads["bare"]
    event_cpu_ms = {n: cpu_ms_per_request(event_cpu[n], event_loads[n]) for n in event_loads}
    report.add(
        Result(
            "rest",
            "GET /events/{id}",
            ours_event.ok_per_second,
            "req/s",
            bare_event.ok_per_second,
            "bare Flask, same bytes",
            goal=">= 0.35x",
            met=ours_event.ok_per_second >= 0.35 * bare_event.ok_per_second,
            notes=(
                f"a published business trip (description, agenda, {EVENT_SEATS} seats, "
                f"{EVENT_REGISTRATIONS} registered): {len(event):,}-byte body with its ETag; "
                f"{setting}"
            ),
            extra={
                "events": ours_event.summary(),
                "bare": bare_event.summary(),
                "round_ratios": round_ratios(event_slices["events"], event_slices["bare"]),
                "cpu_ms_per_request": event_cpu_ms,
            },
        )
    )
