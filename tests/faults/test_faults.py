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


NOTICED_WITHIN = 30.0
"""Seconds a worker may take to notice a broker gone silent (a hung broker, a cut from
the broker to the clients) before the test fails: it takes 7-8 s (two missed beats,
found by a check made about once a second)."""


def _until_every_worker_gave_up(rig: Rig, workers: list[str], what: str) -> float:
    """Keep the fault on until every worker gave one of its broker connections up (the
    proxy reads the closing methods it sends: its log says so only once the heal lets
    the closing handshake through), and for two beats at least (nothing notices a
    silence sooner). Seconds the fault lasted."""
    platform = rig.platform
    connections = platform.broker_connections(workers)
    assert all(connections.values()), connections
    started = time.monotonic()
    wait_until(
        lambda: all(platform.gave_up(connections, started).values()),
        NOTICED_WITHIN,
        f"every worker gave its connection to the {what} broker up",
        poll=0.2,
    )
    time.sleep(max(0.0, 2 * HEARTBEAT - (time.monotonic() - started)))
    return time.monotonic() - started


def test_hung_broker(rig: Rig) -> None:
    """The broker's proxy stops forwarding without closing anything until every worker
    noticed (the heartbeat is 3 s: 7-8 s): the workers notice by heartbeat and reconnect
    once it answers; the API keeps committing writes into the outbox meanwhile; nothing
    is lost."""
    rig.start()
    driver = rig.load()
    rig.wait_for_writes(100)
    platform = rig.platform
    assert platform.broker is not None
    wait_until(rig.checker().drained, 60, "the platform caught up", poll=0.25)
    workers = [name for name in platform.processes if name.endswith("-worker")]
    hung_at = time.monotonic()
    platform.broker.hang()
    hung_for = _until_every_worker_gave_up(rig, workers, "hung")
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
        f"4 hung broker {hung_for:.1f}s",
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
    link to the broker is cut one way: client to broker until every worker was
    interrupted (the broker misses the clients' heartbeats and closes: 6-9 s), then broker
    to client until every worker gave up (the clients miss the broker's: 7-8 s). Each
    worker is interrupted, and reconnects, in each phase."""
    rig.start()
    driver = rig.load()
    rig.wait_for_writes(80)
    platform = rig.platform
    assert platform.broker is not None
    workers = {n: p for n, p in platform.processes.items() if n.endswith("-worker")}

    def interruptions() -> dict[str, int]:
        return {name: process.count("interrupted") for name, process in workers.items()}

    phases: dict[str, dict[str, int]] = {}
    durations: dict[str, float] = {}
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
        cut_at = time.monotonic()
        platform.broker.cut(direction)
        if direction == "up":
            # the broker's closing gets through at once: healed as soon as every worker
            # saw it (never before two beats: nothing notices a silence sooner)
            def all_interrupted(since: dict[str, int] = before) -> bool:
                return all(count > 0 for count in _minus(interruptions(), since).values())

            wait_until(
                all_interrupted, 60, "the broker closed every worker's connection", poll=0.25
            )
            time.sleep(max(0.0, 2 * HEARTBEAT - (time.monotonic() - cut_at)))
        else:
            _until_every_worker_gave_up(rig, list(workers), "silent")
        durations[direction] = round(time.monotonic() - cut_at, 1)
        platform.broker.heal()
        rig.wait_for_writes(40)
    phases["cut down"] = _minus(interruptions(), before)
    figures = rig.finish(
        "5 connection resets x3, one-way cuts",
        cut_seconds=durations,
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


SLOW_RATE = 50.0
"""Writes a second while the consumer is slow (a few a second): its queue grows by some
45 a second."""
SLOW_QUEUE = 1_000
"""Messages waiting in the consumer's queue (beyond the prefetch it holds) when the slow
phase ends: over three times the prefetch, as deep as a minute at 25 writes a second
made it (docs/operations.md)."""
SLOW_AT_LEAST = 20.0
"""Seconds the consumer stays slow at least, however fast its queue grows: twenty
samples of its memory."""


def test_slow_consumer_memory_bounded_by_prefetch(rig: Rig) -> None:
    """The notifications worker handles one event per transaction over a database link
    slowed to 20 ms a chunk (a few events a second) while the API commits about 50 a
    second, until its queue holds over three times the prefetch (half a minute or so):
    the worker's memory stays flat meanwhile; once the link is fast again the queue
    drains."""
    rig.start(env={"notifications": {"BOOSTER_CONSUMER_BATCH_SIZE": "1"}})
    rig.load(rate=SLOW_RATE)
    rig.wait_for_writes(50)
    platform = rig.platform
    worker = rig.worker("notifications")
    backlog: list[int] = []
    rss: list[int] = []
    platform.pg["notifications"].delay(0.02)
    time.sleep(3.0)  # settled into the slow pace
    baseline = rss_kib(worker.pid)
    slow_from = time.monotonic()

    def sample() -> None:
        rss.append(rss_kib(worker.pid))
        backlog.append(platform.ready_messages("notifications"))

    with sampling(1.0, sample):
        wait_until(
            lambda: (
                time.monotonic() - slow_from >= SLOW_AT_LEAST
                and bool(backlog)
                and backlog[-1] >= SLOW_QUEUE
            ),
            180,
            f"{SLOW_QUEUE} messages waiting for the slow consumer",
            poll=0.5,
        )
    slow = time.monotonic() - slow_from
    platform.pg["notifications"].heal()
    growth = (max(rss) - baseline) / 1024
    figures = rig.finish(
        f"6 slow consumer {slow:.0f}s",
        queue_max=max(backlog),
        rss_baseline_mib=round(baseline / 1024, 1),
        rss_growth_mib=round(growth, 1),
    )
    figures.assert_clean()
    _no_anomalies(rig)
    assert max(backlog) > 2 * PREFETCH, backlog  # the consumer was far behind ...
    assert growth < 32, f"{growth:.1f} MiB"  # ... and held no more than its prefetch
    assert worker.running() and worker.starts == 1
