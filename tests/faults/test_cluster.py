"""The platform on a three-node RabbitMQ cluster (scripts/rabbitmq-cluster): a node lost
in the middle of a burst, worker replicas competing for one queue while one relay per
service publishes, and clients that move to a surviving node."""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime

import pytest
from kombu import Connection

from shared.bus.topology import queue_name
from shared.outbox import notify_channel
from tests.faults.burst import Burst
from tests.faults.checker import Checker
from tests.faults.cluster import Cluster
from tests.faults.conftest import Rig
from tests.faults.platform import Platform, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]

BURST = 10_000


def _members(cluster: Cluster, queue: str) -> int:
    return len(cluster.queues()[queue]["members"])  # type: ignore[arg-type]


def test_node_loss_mid_burst(cluster_rig: Rig, rabbit_cluster: Cluster) -> None:
    """10,000 registrations in a burst; the node leading the notifications queue is
    stopped while the consumers are in the middle of it, and started again; the
    checker finds every write's effects once."""
    rig, cluster = cluster_rig, rabbit_cluster
    rig.start(api=False)
    platform = rig.platform
    queue = queue_name("notifications", platform.bus.exchange)
    assert _members(cluster, queue) == 3  # replicated on every node
    burst = Burst(platform.db_urls["registry"], BURST)
    rig.driver = burst
    burst.start()
    checker = rig.checker()
    wait_until(lambda: len(checker.notifications()) >= 2_000, 240, "2,000 handled", poll=0.5)
    leader = cluster.leader(queue)
    handled_at_stop = len(checker.notifications())
    cluster.stop_node(leader)
    try:
        wait_until(
            lambda: len(checker.notifications()) >= handled_at_stop + 2_000,
            240,
            "2,000 more handled with a node down",
            poll=0.5,
        )
        new_leader = cluster.leader(queue)
    finally:
        # started again while the rest of the burst drains (as the consumers went on
        # while it booted before); running again before the checker's verdict
        cluster.start_node_in_background(leader)
    figures = rig.finish(
        "cluster: leader node stopped mid-burst",
        drain_timeout=300,
        burst=BURST,
        stopped=f"n{leader} (leader) at {handled_at_stop} handled",
        new_leader=f"n{new_leader}",
    )
    cluster.await_restarts()
    assert len(cluster.running()) == cluster.nodes
    figures.assert_clean()
    assert figures.committed == BURST
    assert new_leader != leader


def _relay_leader(platform: Platform, service: str) -> list[str]:
    """The application names of the sessions holding ``service``'s relay lock."""
    key = zlib.crc32(notify_channel(service).encode())
    rows = platform.query(
        service,
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND (l.classid::bigint << 32 | l.objid::bigint) = %s",
        key,
    )
    return [name for (name,) in rows]


def _consumers(platform: Platform, service: str) -> int:
    with Connection(platform.bus.broker_url) as connection:
        channel = connection.channel()
        try:
            name = queue_name(service, platform.bus.exchange)
            return int(channel.queue_declare(name, passive=True).consumer_count)
        finally:
            channel.close()


REPLICAS = 3


def test_scale_out_competing_consumers_one_relay_and_its_failover(cluster_rig: Rig) -> None:
    """Three worker replicas of the registry and of notifications: the notifications
    replicas share its queue; one relay per service holds the advisory lock; when the
    registry's leading replica is killed, a standby takes the lock and publishes."""
    rig = cluster_rig
    rig.start(replicas={"registry": REPLICAS, "notifications": REPLICAS})
    platform = rig.platform
    rig.load()
    rig.wait_for_writes(100)
    assert _consumers(platform, "notifications") == REPLICAS
    leaders = {
        service: _relay_leader(platform, service) for service in ("registry", "notifications")
    }
    assert all(len(names) == 1 for names in leaders.values()), leaders
    [leader] = leaders["registry"]
    victim = platform.processes[f"registry-worker-{leader.rsplit('-', 1)[1]}"]
    killed_at = datetime.now(UTC)
    started = time.monotonic()
    victim.kill()
    took_lock: list[float] = []

    def new_leader() -> bool:
        names = _relay_leader(platform, "registry")
        if names and names != [leader]:
            took_lock.append(time.monotonic() - started)
            return True
        return False

    wait_until(new_leader, 30, "a standby relay holds the lock", poll=0.05)
    wait_until(
        lambda: (
            platform.query("registry", "SELECT count(*) FROM outbox WHERE sent_at > %s", killed_at)[
                0
            ][0]
            > 0
        ),
        30,
        "the new leader publishes",
        poll=0.05,
    )
    [(first_sent,)] = platform.query(
        "registry", "SELECT min(sent_at) FROM outbox WHERE sent_at > %s", killed_at
    )
    publishing = (first_sent - killed_at).total_seconds()
    rig.wait_for_writes(100)
    figures = rig.finish(
        f"cluster: {REPLICAS} replicas, relay leader killed",
        consumers=REPLICAS,
        lock_taken_after=f"{took_lock[0]:.2f}s",
        publishing_again_after=f"{publishing:.2f}s",
        new_leader=_relay_leader(platform, "registry")[0],
    )
    figures.assert_clean()
    assert _relay_leader(platform, "notifications") == leaders["notifications"]


def test_client_with_three_urls_moves_to_a_surviving_node(
    cluster_rig: Rig, rabbit_cluster: Cluster
) -> None:
    """The notifications worker, given the three nodes' URLs, goes on consuming from
    another node when the node it is connected to stops."""
    rig, cluster = cluster_rig, rabbit_cluster
    rig.start()
    platform = rig.platform
    rig.load()
    rig.wait_for_writes(80)
    worker = rig.worker("notifications")
    before = cluster.connected_nodes(worker.pid)
    assert before, "the worker has no connection to the cluster"
    node = min(before)
    checker = Checker(platform, rig.driver, rig.observer)  # type: ignore[arg-type]
    cluster.stop_node(node)
    try:
        wait_until(
            lambda: (nodes := cluster.connected_nodes(worker.pid)) and node not in nodes,
            60,
            "the worker connected to a surviving node",
        )
        after = cluster.connected_nodes(worker.pid)
        handled = len(checker.notifications())
        rig.wait_for_writes(80)
        wait_until(lambda: len(checker.notifications()) >= handled + 80, 60, "it consumes again")
    finally:
        cluster.start_node_in_background(node)  # booting while the test drains
    figures = rig.finish(
        "cluster: a client's node stopped",
        connected_before=sorted(before),
        stopped=f"n{node}",
        connected_after=sorted(after),
    )
    cluster.await_restarts()
    assert len(cluster.running()) == cluster.nodes
    figures.assert_clean()
    assert worker.starts == 1 and worker.running()  # the same process, reconnected
    assert node not in after
