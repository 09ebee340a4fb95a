"""Write path: domain writes per second through the API, with the outbox and without it.

``POST /api/v1/clusters`` (bench/wrk/post_cluster.lua) under gunicorn (2 sync workers),
each a transaction holding the cluster, its sectors and -- on the measured side -- the
``registry.cluster.registered`` outbox row and its ``pg_notify``, while the registry's
relay (``shared.relay.OutboxRelay``, in this process, woken by LISTEN/NOTIFY like in
``booster worker``) publishes the rows with confirms to a bench exchange, into a bench
queue bound to ``registry.#``. The baseline is the same app with ``Outbox.add`` a no-op
(``bench.apps:registry_app_without_outbox()``) and no relay; a third side writes the
outbox rows with no relay running (where the cost lies). Each on a fresh database; all
run at once and are loaded in turn, in short slices (ABBA...), so that what else the
machine does meanwhile weighs on every side alike. During each slice the CPU every role
used (API, PostgreSQL, RabbitMQ, the relay in this process) is read from ``/proc``: CPU
milliseconds per write show where the outbox's cost lies.

The bench exchange and queue names are random, so the platform's queues see nothing;
they are deleted afterwards. (A real ``booster worker`` would declare every service's
``booster.<service>`` queue and bind it to whatever exchange it is given.)
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kombu import Connection
from sqlalchemy import func, select

from bench.apps import (
    GUNICORN_WORKERS,
    Process,
    WrkResult,
    booster_env,
    combine,
    cpu_ms_per_request,
    free_port,
    gunicorn_command,
    interleave,
    registry_runtime,
    round_ratios,
    secret,
    timed_cpu,
    token,
    wrk,
)
from bench.common import BROKER_URL, Report, Result, Sizes, fresh_database, unique
from bench.rest import slice_seconds, warm_up
from services.registry.adapters.tables import clusters, outbox
from shared.bus.topology import Topology
from shared.config import BusSettings
from shared.relay import OutboxRelay

PATH = "/api/v1/clusters"
SCRIPT = "post_cluster.lua"
DRAIN_TIMEOUT = 120.0


@dataclass
class Side:
    """One app under test: its server, its database, its relay (if any), its slices."""

    server: Process
    runtime: Any
    relay: OutboxRelay | None
    slices: list[WrkResult] = field(default_factory=list)
    backlog_at_end: int = 0
    drain_seconds: float = 0.0
    clusters: int = 0
    outbox_rows: int = 0
    queued: int | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds per role during this side's slices (``bench.apps.cpu_by_role``)."""

    @property
    def url(self) -> str:
        return self.server.base_url + PATH

    def unsent(self) -> int:
        return _count(self.runtime, outbox, outbox.c.sent_at.is_(None))

    def settle(self) -> None:
        """After the load: what the relay still had to do, and how long it took."""
        started = time.perf_counter()
        self.backlog_at_end = unsent = self.unsent()
        while self.relay is not None and unsent:
            if time.perf_counter() - started > DRAIN_TIMEOUT:
                raise RuntimeError(f"the relay left {unsent} rows unsent")
            time.sleep(0.05)
            unsent = self.unsent()
        self.drain_seconds = time.perf_counter() - started if self.backlog_at_end else 0.0
        self.clusters = _count(self.runtime, clusters)
        self.outbox_rows = _count(self.runtime, outbox)

    def cpu_ms_per_write(self) -> dict[str, float]:
        return cpu_ms_per_request(self.cpu, combine(self.slices))

    def summary(self) -> dict[str, Any]:
        load = combine(self.slices)
        return {
            "cpu_ms_per_write": self.cpu_ms_per_write(),
            "writes_per_second": round(load.ok_per_second, 1),
            "p99_ms": load.p99_ms,
            **load.summary(),
            "clusters": self.clusters,
            "outbox_rows": self.outbox_rows,
            "unsent_when_load_ended": self.backlog_at_end,
            "relay_drain_seconds": round(self.drain_seconds, 2),
            "events_in_bench_queue": self.queued,
        }


def _cpu_text(side: Side) -> str:
    cpu = side.cpu_ms_per_write()
    shown = {"api": "API", "postgres": "PostgreSQL", "rabbitmq": "RabbitMQ", "bench": "relay"}
    return (
        "(" + ", ".join(f"{label} {cpu.get(role, 0.0):.2f}" for role, label in shown.items()) + ")"
    )


def _count(runtime: Any, table: Any, *where: Any) -> int:
    with runtime.database.session() as session:
        return session.scalar(select(func.count()).select_from(table).where(*where))


@contextmanager
def serving(
    factory: str, jwt_secret: str, bus: BusSettings, topology: Topology | None
) -> Iterator[Side]:
    """The app under gunicorn on a fresh database, with the relay if ``topology``."""
    with fresh_database("bench_writes") as url, tempfile.TemporaryDirectory() as tmp:
        runtime = registry_runtime(url, jwt_secret)
        relay = thread = None
        try:
            if topology is not None:
                relay = OutboxRelay(
                    "registry",
                    runtime.database,
                    runtime.spec.outbox_table,
                    bus,
                    declare=[topology],
                )
                thread = threading.Thread(target=relay.run, daemon=True)
                thread.start()
                if not relay.ready.wait(15):
                    raise RuntimeError("the relay did not start")
            env = booster_env(
                BOOSTER_REGISTRY_DATABASE_URL=url,
                BOOSTER_JWT_SECRET=jwt_secret,
                BOOSTER_BROKER_URL=BROKER_URL,
                BOOSTER_EXCHANGE=bus.exchange,
                BOOSTER_VAR_DIR=tmp,
            )
            port = free_port()
            with Process(gunicorn_command(factory, port), env, port) as server:
                yield Side(server, runtime, relay)
        finally:
            if relay is not None and thread is not None:
                relay.stop()
                thread.join(10)
            runtime.database.dispose()


def _queued(topology: Topology) -> int:
    with Connection(BROKER_URL) as connection:
        declared = connection.default_channel.queue_declare(topology.queue.name, passive=True)
        return declared.message_count


def _clean(bus: BusSettings, topology: Topology) -> None:
    with Connection(BROKER_URL) as connection:
        channel = connection.channel()
        for queue in topology.all_queues():
            channel.queue_delete(queue.name)
        channel.exchange_delete(bus.exchange)
        channel.close()


def run(report: Report, sizes: Sizes) -> None:
    bus = BusSettings(broker_url=BROKER_URL, exchange=f"booster.events.{unique('bench')}")
    topology = Topology(unique("benchwrites"), ("registry.#",), bus)
    jwt_secret = secret()
    bearer = token(jwt_secret)
    rounds, seconds = slice_seconds(sizes.write_seconds)
    try:
        with (
            serving("service_app('registry')", jwt_secret, bus, topology) as ours,
            serving("service_app('registry')", jwt_secret, bus, None) as rows_only,
            serving("registry_app_without_outbox()", jwt_secret, bus, None) as base,
        ):
            sides = (ours, rows_only, base)
            for side in sides:
                warm_up(side.url, bearer, SCRIPT)
            ours.slices, rows_only.slices, base.slices = interleave(
                [
                    timed_cpu(
                        partial(wrk, side.url, seconds, token=bearer, script=SCRIPT), side.cpu
                    )
                    for side in sides
                ],
                rounds,
            )
            for side in sides:
                side.settle()
        ours.queued = _queued(topology)
    finally:
        _clean(bus, topology)
    if not ours.outbox_rows == ours.clusters == ours.queued:
        raise RuntimeError(f"events lost or missing: {ours.summary()}")
    if base.outbox_rows:
        raise RuntimeError("the baseline wrote outbox rows")
    with_outbox, without = combine(ours.slices), combine(base.slices)
    ratio = with_outbox.ok_per_second / without.ok_per_second
    notes = (
        f"gunicorn {GUNICORN_WORKERS} sync workers, wrk -t2 -c32, {rounds} x {seconds}s "
        "slices each, interleaved; relay in the bench process, confirms on; CPU ms per "
        f"write with the outbox {_cpu_text(ours)}, without {_cpu_text(base)}"
    )
    if with_outbox.non_2xx or without.non_2xx:
        notes += f"; non-2xx: {with_outbox.non_2xx} / {without.non_2xx}"
    report.add(
        Result(
            "writes",
            "POST /clusters with outbox + relay",
            with_outbox.ok_per_second,
            "writes/s",
            without.ok_per_second,
            "same writes, no outbox row",
            goal=">= 0.85x",
            met=ratio >= 0.85,
            notes=notes,
            extra={
                "with_outbox": ours.summary(),
                "without_outbox": base.summary(),
                "round_ratios": round_ratios(ours.slices, base.slices),
            },
        )
    )
    rows_alone = combine(rows_only.slices)
    report.add(
        Result(
            "writes",
            "POST /clusters, outbox, relay off",
            rows_alone.ok_per_second,
            "writes/s",
            without.ok_per_second,
            "same writes, no outbox row",
            notes=(
                "where the cost lies: the row and its NOTIFY alone, nothing relayed; CPU ms "
                f"per write {_cpu_text(rows_only)}"
            ),
            extra={"outbox_rows_only": rows_only.summary()},
        )
    )
    report.add(
        Result(
            "writes",
            "POST /clusters p99 with outbox",
            with_outbox.p99_ms,
            "ms",
            without.p99_ms,
            "same writes, no outbox row",
            notes="median of the slices' p99",
        )
    )
    report.add(
        Result(
            "writes",
            "relay backlog when the load ended",
            float(ours.backlog_at_end),
            "rows",
            notes=f"drained in {ours.drain_seconds:.2f} s; {ours.queued:,} events in the "
            f"bench queue = {ours.outbox_rows:,} outbox rows = {ours.clusters:,} clusters",
        )
    )
