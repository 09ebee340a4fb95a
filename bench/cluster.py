"""Cluster: drain throughput of 1, 2 and 4 consumer replicas on a three-node RabbitMQ
cluster, against the single node, in the same run.

A backlog of ``drain_events`` person registrations (real CloudEvents of the catalogue) is
published with confirms into the events service's queue; then R replicas of the events
service's consumer (each its own process, its real handler keeping the read copy of
people in one PostgreSQL database, inbox included) start at once, and the clock stops
when the last registration is handled (the median of three such drains). The same is
done on the machine's broker (the single node) and on three nodes that
``scripts/rabbitmq-cluster`` starts beside it, whose queues are quorum queues with a
member on each node (so every publish and every ack is replicated). Figures: events
per second; the baseline of each single-node figure is the single node with one replica
(the scale-out ratio), that of each cluster figure the single node with as many
replicas (what replication costs).

Not in ``--quick``: starting the nodes alone takes half a minute. The machine has two
cores, shared by the replicas, PostgreSQL and the broker's nodes: more replicas than
cores cannot go faster here; on a real cluster each node and replica has its own.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from kombu import Connection
from sqlalchemy import func, select

from bench.apps import quiet_logs
from bench.common import (
    BROKER_URL,
    ROOT,
    Report,
    Result,
    Sizes,
    fresh_database,
    median,
    unique,
)
from booster.bootstrap import bootstrap
from booster.catalogue import platform_catalogue
from booster.platform import spec as load_spec
from services.events.adapters.tables import people
from shared.bus.connection import connect
from shared.bus.consumer import EventConsumer
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import Topology
from shared.config import BusSettings, Settings
from shared.migrations import upgrade
from shared.testing import delete_queues

REPLICAS = (1, 2, 4)
REGISTERED = "registry.person.registered"
SCRIPT = ROOT / "scripts" / "rabbitmq-cluster"
CLUSTER_PORT = 11680
"""The cluster's first AMQP port (and +20000 for Erlang's distribution): below Linux's
ephemeral ports, away from the machine's 5672."""
PUBLISH_BATCH = 500
ROUNDS = 3


class ThreeNodes:
    """The nodes of ``scripts/rabbitmq-cluster``, in a directory deleted on ``stop``."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="booster-bench-cluster-"))
        self.directory.rmdir()  # the script makes it, and removes it on stop

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            [str(SCRIPT), *args, "--dir", str(self.directory)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmq-cluster {args[0]}: {result.stderr[-2000:]}")
        return result.stdout.strip()

    def start(self) -> str:
        """Start the nodes; their URLs, ';'-separated."""
        return self._run("start", "--port", str(CLUSTER_PORT)).splitlines()[-1]

    def stop(self) -> None:
        self._run("stop")


def _events(count: int) -> list[OutgoingMessage]:
    catalogue = platform_catalogue()
    messages = []
    for n in range(count):
        person_id = str(uuid.uuid4())
        event_ = catalogue.make_event(
            REGISTERED,
            subject=person_id,
            data={
                "id": person_id,
                "name": f"Person {n}",
                "email": f"p{n}@example.org",
                "language": "fr",
                "cluster_id": None,
                "country": None,
                "role": "other",
                "phone": None,
            },
        )
        messages.append(
            OutgoingMessage(
                body=event_.to_json(), routing_key=REGISTERED, message_id=event_.id, type=REGISTERED
            )
        )
    return messages


def _replica(events_url: str, bus: BusSettings, ready: Any, go: Any, stop: Any) -> None:
    """One replica of the events service's consumer, started on ``go``."""
    quiet_logs()
    settings = Settings(
        environment="test", jwt_secret="x" * 40, bus=bus, database_urls={"events": events_url}
    )
    runtime = bootstrap(load_spec("events"), settings)
    consumer = EventConsumer("events", runtime.spec.handlers, runtime.uow, runtime.inbox, bus)
    ready.set()
    go.wait()
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    stop.wait()
    consumer.stop()
    thread.join(15)
    runtime.database.dispose()


def drain(broker_url: str, replicas: int, messages: list[OutgoingMessage]) -> float:
    """Events per second for ``replicas`` consumers to drain the backlog of ``messages``."""
    bus = BusSettings(broker_url=broker_url, exchange=f"booster.events.{unique('c')}")
    topology = Topology("events", load_spec("events").subscribes, bus)
    spawn = multiprocessing.get_context("spawn")
    go, stop = spawn.Event(), spawn.Event()
    processes = []
    with fresh_database("bench_cluster") as events_url:
        upgrade(load_spec("events"), events_url)
        settings = Settings(environment="test", jwt_secret="x" * 40, bus=bus)
        database = bootstrap(
            load_spec("events"), settings.with_overrides(database_urls={"events": events_url})
        ).database
        try:
            with connect(bus) as connection:
                topology.declare(connection)
                publisher = Publisher(connection)
                for start in range(0, len(messages), PUBLISH_BATCH):
                    publisher.publish(messages[start : start + PUBLISH_BATCH], bus.exchange)
            readies = []
            for _ in range(replicas):
                ready = spawn.Event()
                process = spawn.Process(target=_replica, args=(events_url, bus, ready, go, stop))
                process.start()
                processes.append(process)
                readies.append(ready)
            if not all(ready.wait(120) for ready in readies):
                raise RuntimeError("a replica did not start")
            started = time.perf_counter()
            go.set()
            deadline = time.monotonic() + 900
            while _handled(database) < len(messages):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"drain incomplete: {_handled(database)}")
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
        finally:
            stop.set()
            go.set()
            for process in processes:
                process.join(30)
            database.dispose()
            delete_queues("events", bus)
            with Connection(bus.broker_url) as connection:
                connection.default_channel.exchange_delete(bus.exchange)
    return len(messages) / elapsed


def _handled(database: Any) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(people)))


def _median_drain(broker_url: str, replicas: int, messages: list[OutgoingMessage]) -> float:
    """The median of ``ROUNDS`` drains (the machine is shared: one run can be unlucky)."""
    return median([drain(broker_url, replicas, messages) for _ in range(ROUNDS)])


def run(report: Report, sizes: Sizes) -> None:
    messages = _events(sizes.drain_events)
    single: dict[int, float] = {}
    for replicas in REPLICAS:
        single[replicas] = _median_drain(BROKER_URL, replicas, messages)
        report.add(
            Result(
                "cluster",
                f"drain single node, {replicas} replica(s)",
                single[replicas],
                "events/s",
                baseline=single[1],
                baseline_name="single node, 1 replica",
                notes="ratio = scale-out on one node",
            )
        )
    nodes = ThreeNodes()
    urls = nodes.start()
    cluster: dict[int, float] = {}
    try:
        for replicas in REPLICAS:
            cluster[replicas] = _median_drain(urls, replicas, messages)
            report.add(
                Result(
                    "cluster",
                    f"drain 3-node cluster, {replicas} replica(s)",
                    cluster[replicas],
                    "events/s",
                    baseline=single[replicas],
                    baseline_name=f"single node, {replicas} replica(s)",
                    notes="ratio = cluster vs single node",
                    extra={"scale_out_on_cluster": cluster[replicas] / cluster[1]},
                )
            )
    finally:
        nodes.stop()
