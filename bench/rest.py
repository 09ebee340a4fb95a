"""REST throughput: ``GET /api/v1/clusters?limit=20`` under gunicorn, against a bare Flask app.

The registry (auth, request logs as JSON lines, Prometheus metrics, marshmallow, a
PostgreSQL database holding 1,000 clusters) and the baseline (a bare Flask app that
returns the same JSON bytes) run under the same gunicorn settings (2 sync workers on
loopback) and are loaded by wrk with the same request, token included. Both servers run
at once and are loaded in turn, in short slices (ABBA), so that what else the machine
does meanwhile weighs on both alike.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

from bench import scale
from bench.apps import (
    BARE_BODY_ENV,
    GUNICORN_WORKERS,
    Process,
    booster_env,
    combine,
    cpu_ms_per_request,
    free_port,
    get,
    gunicorn_command,
    interleave,
    quiet_logs,
    registry_runtime,
    round_ratios,
    secret,
    timed_cpu,
    token,
    wrk,
)
from bench.common import BROKER_URL, Report, Result, Sizes, fresh_database
from booster.bootstrap import create_app
from booster.platform import spec as load_spec
from services.registry import operations
from services.registry import schemas as s
from services.registry.adapters.repository import ClusterQuery
from shared.http.pagination import page
from shared.migrations import upgrade
from shared.service import Runtime

CLUSTERS = 1_000
PATH = "/api/v1/clusters?limit=20"
WARM_UP_SECONDS = 1
BREAKDOWN_CALLS = 100


def breakdown(runtime: Runtime, bearer: str) -> dict[str, float]:
    """Milliseconds per call, in this process (request logs off): the whole request
    through the test client, ``/healthz`` (the framework and the middleware), the same
    request with the query answering no clusters (auth, arguments, logging, metrics: the
    platform's cost per request without data), the query (``operations.list_clusters``)
    and the response's marshmallow dump."""
    quiet_logs()
    client = create_app(runtime).test_client()
    headers = {"Authorization": f"Bearer {bearer}"}
    items = operations.list_clusters(runtime.uow, ClusterQuery(), 21, None)
    body = page(items, 20, key=lambda cluster: [cluster.name, cluster.id])

    def empty_list() -> Any:
        with mock.patch.object(operations, "list_clusters", return_value=[]):
            return client.get(PATH, headers=headers)

    calls: dict[str, Callable[[], Any]] = {
        "request_ms": lambda: client.get(PATH, headers=headers),
        "healthz_ms": lambda: client.get("/healthz"),
        "empty_list_ms": empty_list,
        "list_clusters_ms": lambda: operations.list_clusters(runtime.uow, ClusterQuery(), 21, None),
        "dump_ms": lambda: s.ClusterPage().dump(body),
    }
    costs = {}
    for name, call in calls.items():
        for _ in range(10):
            call()
        started = time.perf_counter()
        for _ in range(BREAKDOWN_CALLS):
            call()
        costs[name] = round((time.perf_counter() - started) * 1000 / BREAKDOWN_CALLS, 2)
    return costs


def warm_up(url: str, bearer: str, script: str | None = None) -> None:
    wrk(url, WARM_UP_SECONDS, token=bearer, script=script)


def slice_seconds(total: int) -> tuple[int, int]:
    """(rounds, seconds per slice) for ``total`` seconds of load per side."""
    seconds = 1 if total < 6 else 2
    return max(1, total // seconds), seconds


def run(report: Report, sizes: Sizes) -> None:
    jwt_secret = secret()
    bearer = token(jwt_secret)
    rounds, seconds = slice_seconds(sizes.rest_seconds)
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database("bench_rest"))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        upgrade(load_spec("registry"), url)
        scale.load(url, CLUSTERS, people_per_cluster=0)
        runtime = registry_runtime(url, jwt_secret)
        stack.callback(runtime.database.dispose)
        costs = breakdown(runtime, bearer)
        env = booster_env(
            BOOSTER_REGISTRY_DATABASE_URL=url,
            BOOSTER_JWT_SECRET=jwt_secret,
            BOOSTER_BROKER_URL=BROKER_URL,
            BOOSTER_VAR_DIR=tmp,
        )
        port = free_port()
        server = stack.enter_context(
            Process(gunicorn_command("service_app('registry')", port), env, port)
        )
        body = get(server.base_url + PATH, bearer)
        body_file = Path(tmp) / "clusters.json"
        body_file.write_bytes(body)
        port = free_port()
        bare_env = {**env, BARE_BODY_ENV: str(body_file)}
        bare = stack.enter_context(Process(gunicorn_command("bare_app()", port), bare_env, port))
        if get(bare.base_url + PATH, bearer) != body:
            raise RuntimeError("the bare app does not serve the registry's bytes")
        for process in (server, bare):
            warm_up(process.base_url + PATH, bearer)
        ours_cpu: dict[str, float] = {}
        base_cpu: dict[str, float] = {}
        ours_slices, base_slices = interleave(
            [
                timed_cpu(partial(wrk, server.base_url + PATH, seconds, token=bearer), ours_cpu),
                timed_cpu(partial(wrk, bare.base_url + PATH, seconds, token=bearer), base_cpu),
            ],
            rounds,
        )
    ours, base = combine(ours_slices), combine(base_slices)
    setting = (
        f"gunicorn {GUNICORN_WORKERS} sync workers, wrk -t2 -c32, "
        f"{rounds} x {seconds}s slices each, interleaved"
    )
    notes = (
        f"{CLUSTERS:,} clusters, {len(body):,}-byte body; {setting}; in-process ms per "
        f"request {costs['request_ms']} (query {costs['list_clusters_ms']}, marshmallow "
        f"dump {costs['dump_ms']}; the same request answering no clusters "
        f"{costs['empty_list_ms']}, /healthz {costs['healthz_ms']})"
    )
    ours_ms, base_ms = cpu_ms_per_request(ours_cpu, ours), cpu_ms_per_request(base_cpu, base)
    notes += (
        f"; CPU ms per request: registry (API {ours_ms.get('api', math.nan):.2f}, PostgreSQL "
        f"{ours_ms.get('postgres', math.nan):.2f}), bare (API {base_ms.get('api', math.nan):.2f})"
    )
    if ours.non_2xx or base.non_2xx:
        notes += f"; non-2xx: registry {ours.non_2xx}, bare {base.non_2xx}"
    report.add(
        Result(
            "rest",
            "GET /clusters?limit=20",
            ours.ok_per_second,
            "req/s",
            base.ok_per_second,
            "bare Flask, same bytes",
            goal=">= 0.5x",
            met=ours.ok_per_second >= 0.5 * base.ok_per_second,
            notes=notes,
            extra={
                "registry": ours.summary(),
                "bare": base.summary(),
                "round_ratios": round_ratios(ours_slices, base_slices),
                "in_process_ms": costs,
                "cpu_seconds": {"registry": ours_cpu, "bare": base_cpu},
            },
        )
    )
    report.add(
        Result(
            "rest",
            "GET /clusters?limit=20 p99",
            ours.p99_ms,
            "ms",
            base.p99_ms,
            "bare Flask, same bytes",
            notes="median of the slices' p99",
            extra={"registry_p50_ms": ours.p50_ms, "bare_p50_ms": base.p50_ms},
        )
    )
