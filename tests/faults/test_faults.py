"""The fault suite: each test drives a steady load of writes through the registry's API,
injects one fault, heals it, drains, and runs the checker (lost 0, duplicated 0,
unexpected 0; redeliveries are counted). docs/operations.md ("Reliability and clusters")
says what each one proves."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from shared.bus.topology import queue_name
from tests.faults.conftest import Rig
from tests.faults.platform import (
    HEARTBEAT,
    children,
    rss_kib,
    sampling,
    unacknowledged,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.postgres]

PREFETCH = 300  # the platform's default BOOSTER_PREFETCH, which the workers run with


def _no_anomalies(rig: Rig) -> None:
    assert rig.driver is not None
    assert rig.driver.anomalies == [], rig.driver.anomalies[:5]
    assert not rig.driver.indeterminate


def test_consumer_worker_killed_mid_batch_three_times(rig: Rig) -> None:
    """SIGKILL the notifications worker while it holds a prefetched batch, three times.
    Its database link is slowed (10 ms a chunk) so that each batch takes a while; each
    kill is made right after the broker counted messages delivered to it and not acked."""
    rig.start()
    rig.platform.pg["notifications"].delay(0.01)
    rig.load()
    victim = rig.worker("notifications")
    queue = queue_name("notifications", rig.platform.bus.exchange)
    held: list[int] = []
    for _ in range(3):
        rig.wait_for_writes(50)
        in_hand = 0
        deadline = time.monotonic() + 30
        while in_hand == 0 and time.monotonic() < deadline:
            in_hand = unacknowledged(queue)
        victim.kill()
        held.append(in_hand)
        rig.wait_for_writes(30)  # the load goes on while it is down
        rig.platform.launch(victim)
    rig.wait_for_writes(50)
    rig.platform.pg["notifications"].heal()
    figures = rig.finish("1 worker SIGKILL mid-batch x3", unacked_at_kills=held)
    figures.assert_clean()
    _no_anomalies(rig)
    assert victim.starts == 4
    assert all(count > 0 for count in held), f"a kill found no batch in hand: {held}"


def test_relay_killed_between_publish_and_commit(rig: Rig, tmp_path: Path) -> None:
    """The relay's fault hook kills the registry's worker after the broker confirmed a
    batch (of 20 events at least: the broker's link hangs for 2 s so that a backlog
    gathers) and before its sent marks commit: the batch is published again by the next
    relay and the consumers' inboxes drop the copies."""
    trigger = tmp_path / "crash-relay"
    rig.start(hooked_registry=trigger)
    rig.load()
    rig.wait_for_writes(100)
    worker = rig.worker("registry")
    trigger.write_text("20")
    assert rig.platform.broker is not None
    rig.platform.broker.hang()
    time.sleep(2.0)
    rig.platform.broker.heal()
    wait_until(lambda: not worker.running(), 30, "the relay's hook fired")
    assert worker.popen is not None and worker.popen.returncode == -signal.SIGKILL
    batch = (tmp_path / "crash-relay.fired").read_text().split()
    assert len(batch) >= 20
    # published and confirmed, yet still unsent: the marks died with the process
    [(unsent,)] = rig.platform.query(
        "registry",
        "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND event_id = ANY(%s)",
        batch,
    )
    assert unsent == len(batch)
    wait_until(lambda: rig.observer.counts().keys() >= set(batch), 30, "the batch was observed")
    rig.wait_for_writes(40)  # writes keep committing while the relay is down
    rig.platform.launch(worker)  # the trigger is gone: a relay like any other
    rig.wait_for_writes(80)
    figures = rig.finish("2 relay killed between publish and commit", republished=len(batch))
    figures.assert_clean()
    _no_anomalies(rig)
    deliveries = rig.observer.counts()
    assert all(deliveries[event_id] >= 2 for event_id in batch), "the batch went out again"
    assert figures.redelivered >= len(batch)


def test_postgres_away_under_load(rig: Rig) -> None:
    """New database connections are refused (the proxy) and every open one is ended
    (``pg_terminate_backend``) for 8 s: the API answers 503 problem documents with
    Retry-After, then 201 again without a restart; the workers resume; nothing is lost."""
    rig.start()
    driver = rig.load()
    rig.wait_for_writes(100)
    platform = rig.platform
    api = platform.processes["registry-api"]
    processes_before = {p.name: p.pid for p in platform.processes.values()}
    api_workers_before = children(api.pid)
    away_at = time.monotonic()
    for proxy in platform.pg.values():
        proxy.refuse()
    terminated = platform.terminate_backends()
    wait_until(lambda: len(driver.unavailable()) >= 5, 30, "the API answers 503")
    time.sleep(max(0.0, 8.0 - (time.monotonic() - away_at)))
    healed_at = time.monotonic()
    for proxy in platform.pg.values():
        proxy.heal()
    rig.wait_for_writes(100, timeout=60)
    during = driver.statuses(away_at + 1.0, healed_at)  # after the refusal took hold
    figures = rig.finish(
        "3 PostgreSQL away 8s",
        backends_ended=terminated,
        answers_while_away=dict(during),
        refused=sum(p.refused for p in platform.pg.values()),
    )
    figures.assert_clean()
    _no_anomalies(rig)  # every 503 was a problem document with Retry-After; no 500
    assert terminated > 0
    assert during[503] > 0 and set(during) <= {201, 503}, during
    assert driver.acknowledged_since(healed_at) >= 100
    # recovered without a restart: the same processes, the same gunicorn workers
    assert {p.name: p.pid for p in platform.processes.values()} == processes_before
    assert all(p.running() for p in platform.processes.values())
    assert children(api.pid) == api_workers_before


def test_hung_broker(rig: Rig) -> None:
    """The broker's proxy stops forwarding without closing anything, for 20 s (the
    heartbeat is 3 s): the workers notice by heartbeat and reconnect once it answers; the
    API keeps committing writes into the outbox meanwhile; nothing is lost."""
    rig.start()
    driver = rig.load()
    rig.wait_for_writes(100)
    platform = rig.platform
    assert platform.broker is not None
    wait_until(rig.checker().drained, 60, "the platform caught up", poll=0.25)
    hung_at = time.monotonic()
    platform.broker.hang()
    time.sleep(20.0)
    waiting = platform.unsent()
    healed_at = time.monotonic()
    platform.broker.heal()
    rig.wait_for_writes(60)
    during = driver.statuses(hung_at, healed_at)
    detected = {
        name: process.count("heartbeats missed")
        for name, process in platform.processes.items()
        if name.endswith("-worker")
    }
    figures = rig.finish(
        "4 hung broker 20s",
        heartbeat=f"{HEARTBEAT}s",
        answers_while_hung=dict(during),
        outbox_waiting=waiting,
        heartbeat_detections=detected,
    )
    figures.assert_clean()
    _no_anomalies(rig)
    assert set(during) == {201}, during  # writes kept succeeding
    assert waiting > 0  # ... into the outbox
    assert all(count > 0 for count in detected.values()), detected


def test_connection_resets_and_one_way_cuts(rig: Rig) -> None:
    """Every connection to the broker and to PostgreSQL is reset three times; then the
    link to the broker is cut one way for 12 s: client to broker (the broker misses the
    clients' heartbeats and closes), then broker to client (the clients miss the
    broker's). Each worker is interrupted, and reconnects, in each phase."""
    rig.start()
    driver = rig.load()
    rig.wait_for_writes(80)
    platform = rig.platform
    assert platform.broker is not None
    workers = {n: p for n, p in platform.processes.items() if n.endswith("-worker")}

    def interruptions() -> dict[str, int]:
        return {name: process.count("interrupted") for name, process in workers.items()}

    phases: dict[str, dict[str, int]] = {}
    before = interruptions()
    resets = 0
    for _ in range(3):
        resets += platform.broker.reset_all()
        resets += sum(proxy.reset_all() for proxy in platform.pg.values())
        rig.wait_for_writes(40)
    checker = rig.checker()
    for direction in ("up", "down"):
        # every connection up again and the pipeline caught up: then cut
        wait_until(checker.drained, 60, "the platform caught up", poll=0.25)
        phases["resets" if direction == "up" else "cut up"] = _minus(interruptions(), before)
        before = interruptions()
        platform.broker.cut(direction)
        time.sleep(12.0)
        platform.broker.heal()
        rig.wait_for_writes(40)
    phases["cut down"] = _minus(interruptions(), before)
    figures = rig.finish(
        "5 connection resets x3, one-way cuts 12s",
        connections_reset=resets,
        worker_interruptions=phases,
        api_answers=dict(driver.statuses()),
    )
    figures.assert_clean()
    _no_anomalies(rig)
    assert resets > 0
    for phase, counts in phases.items():
        assert all(count > 0 for count in counts.values()), (phase, counts)


def _minus(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in after}


SLOW_SECONDS = 60.0
"""How long the consumer stays slower than the publisher: long enough for its queue to
hold several times the prefetch, short enough for CI (docs/operations.md)."""


def test_slow_consumer_memory_bounded_by_prefetch(rig: Rig) -> None:
    """The notifications worker handles one event per transaction over a database link
    slowed to 20 ms a chunk (a few events a second) while the API commits about 25 a
    second, for a minute: its queue grows to many times the prefetch while the worker's
    memory stays flat; once the link is fast again the queue drains."""
    rig.start(env={"notifications": {"BOOSTER_CONSUMER_BATCH_SIZE": "1"}})
    rig.load()
    rig.wait_for_writes(50)
    platform = rig.platform
    worker = rig.worker("notifications")
    backlog: list[int] = []
    rss: list[int] = []
    platform.pg["notifications"].delay(0.02)
    time.sleep(3.0)  # settled into the slow pace
    baseline = rss_kib(worker.pid)

    def sample() -> None:
        rss.append(rss_kib(worker.pid))
        backlog.append(platform.ready_messages("notifications"))

    with sampling(1.0, sample):
        time.sleep(SLOW_SECONDS)
    platform.pg["notifications"].heal()
    growth = (max(rss) - baseline) / 1024
    figures = rig.finish(
        f"6 slow consumer {SLOW_SECONDS:.0f}s",
        queue_max=max(backlog),
        rss_baseline_mib=round(baseline / 1024, 1),
        rss_growth_mib=round(growth, 1),
    )
    figures.assert_clean()
    _no_anomalies(rig)
    assert max(backlog) > 2 * PREFETCH, backlog  # the consumer was far behind ...
    assert growth < 32, f"{growth:.1f} MiB"  # ... and held no more than its prefetch
    assert worker.running() and worker.starts == 1
