"""REST throughput: ``GET /api/v1/clusters?limit=20`` under gunicorn, against a bare Flask app.

The registry (auth, request logs as JSON lines, Prometheus metrics, marshmallow, a
PostgreSQL database holding 1,000 clusters) and the baseline (a bare Flask app that
returns the same JSON bytes) run under the same gunicorn settings (2 sync workers on
loopback) and are loaded by wrk with the same request, token included. Both servers run
at once and are loaded in turn, in short slices (ABBA), so that what else the machine
does meanwhile weighs on both alike.
"""

from __future__ import annotations

import random
import secrets
import tempfile
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

from bench.apps import (
    BARE_BODY_ENV,
    GUNICORN_WORKERS,
    Process,
    booster_env,
    combine,
    free_port,
    get,
    gunicorn_command,
    interleave,
    round_ratios,
    wrk,
)
from bench.common import BROKER_URL, Report, Result, Sizes, fresh_database
from services.registry import operations
from shared.auth import mint_token
from shared.config import Settings
from shared.migrations import upgrade
from shared.service import Runtime, bootstrap, load_spec

CLUSTERS = 1_000
PATH = "/api/v1/clusters?limit=20"
WARM_UP_SECONDS = 1
COUNTRIES = ("MA", "EG", "TN", "JO", "PS", "DZ", "LB", "FR", "IT", "ES")
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
KINDS = ("cluster", "technopole", "competitiveness_pole", "association")


def secret() -> str:
    return secrets.token_urlsafe(40)


def token(jwt_secret: str) -> str:
    return mint_token(jwt_secret, "bench", "registry:read registry:write", ttl=3600)


def registry_runtime(url: str, jwt_secret: str) -> Runtime:
    """The registry on ``url`` (migrated), in this process."""
    spec = load_spec("registry")
    upgrade(spec, url)
    settings = Settings(environment="test", jwt_secret=jwt_secret, database_urls={"registry": url})
    return bootstrap(spec, settings)


def sample_cluster(n: int, rng: random.Random) -> dict[str, Any]:
    sector = rng.choice(SECTORS)
    return {
        "name": f"{sector} Cluster {n:05d}",
        "country": rng.choice(COUNTRIES),
        "kind": rng.choice(KINDS),
        "acronym": f"C{n:05d}",
        "city": "Casablanca",
        "sectors": rng.sample(SECTORS, 2),
        "founded": rng.randint(1990, 2020),
        "website": f"https://cluster{n}.example.org",
        "description": f"A {sector.lower()} cluster with its members and partners.",
        "members_count": rng.randint(5, 400),
    }


def register_clusters(runtime: Runtime, count: int, seed: int = 7) -> None:
    """``count`` clusters through the registry's own write path, in one transaction."""
    rng = random.Random(seed)
    with runtime.uow.begin():  # the operations join this transaction
        for n in range(count):
            operations.register_cluster(runtime.uow, sample_cluster(n, rng))


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
        runtime = registry_runtime(url, jwt_secret)
        register_clusters(runtime, CLUSTERS)
        runtime.database.dispose()
        env = booster_env(
            BOOSTER_REGISTRY_DATABASE_URL=url,
            BOOSTER_JWT_SECRET=jwt_secret,
            BOOSTER_BROKER_URL=BROKER_URL,
            BOOSTER_VAR_DIR=tmp,
        )
        port = free_port()
        server = stack.enter_context(Process(gunicorn_command("registry_app()", port), env, port))
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
        ours_slices, base_slices = interleave(
            [
                partial(wrk, server.base_url + PATH, seconds, token=bearer),
                partial(wrk, bare.base_url + PATH, seconds, token=bearer),
            ],
            rounds,
        )
    ours, base = combine(ours_slices), combine(base_slices)
    setting = (
        f"gunicorn {GUNICORN_WORKERS} sync workers, wrk -t2 -c32, "
        f"{rounds} x {seconds}s slices each, interleaved"
    )
    notes = f"{CLUSTERS:,} clusters, {len(body):,}-byte body; {setting}"
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
