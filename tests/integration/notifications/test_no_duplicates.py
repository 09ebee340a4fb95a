"""No duplicates: events delivered twice, and a worker killed mid-batch, still give each
person one email and one inbox entry per event, and each webhook one delivery.

A worker process consumes, slowed down, and is killed (SIGKILL) in the middle of a
batch; a fresh worker in this process takes over, with the sender, on the same database
(PostgreSQL) and queue (the real RabbitMQ). What the killed one committed stays; what it
had not is redelivered and handled once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from kombu import Connection
from sqlalchemy import func, select

from booster.bootstrap import bootstrap, create_app, create_worker
from booster.platform import spec
from booster.testing import ServiceHarness
from services.notifications import operations as ops
from services.notifications.adapters import tables
from services.notifications.domain.commands import KeepRecipients
from services.notifications.domain.model import RecipientChange
from shared.bus.topology import Topology, declare_exchange
from shared.config import BusSettings, Settings
from shared.migrations import upgrade
from shared.testing import delete_queues
from tests.conftest import TEST_SECRET
from tests.integration.conftest import eventually
from tests.integration.notifications.conftest import (
    RW,
    Mailbox,
    Receiver,
    pair_matched,
    publish,
)

ROOT = Path(__file__).resolve().parents[3]
PAIRS = 30


def _known(person_id: str) -> RecipientChange:
    return RecipientChange(
        person_id, f"Person {person_id}", f"{person_id}@example.org", "en", datetime.now(UTC)
    )


def _count(harness: ServiceHarness, table: object) -> int:
    with harness.runtime.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def _handled(harness: ServiceHarness) -> int:
    """The test's events handled (the inbox also holds the service's own
    ``notifications.notification.sent``, which it consumes for webhooks)."""
    inbox = tables.inbox
    with harness.runtime.database.session() as session:
        query = select(func.count()).where(inbox.c.type == "mentoring.pair.matched")
        return int(session.scalar(query) or 0)


def test_a_worker_killed_mid_batch_and_redelivered_events_duplicate_nothing(
    postgres_url: str,
    bus_settings: BusSettings,
    tmp_path: Path,
    mailbox: tuple[Mailbox, str],
    receiver: Receiver,
) -> None:
    box, smtp_url = mailbox
    upgrade(spec("notifications"), postgres_url)
    settings = Settings(
        environment="test",
        var_dir=tmp_path,
        jwt_secret=TEST_SECRET,
        database_urls={"notifications": postgres_url},
        bus=bus_settings,
        smtp_url=smtp_url,
        webhook_allowed_hosts=("127.0.0.1",),
    )
    runtime = bootstrap("notifications", settings)
    harness = ServiceHarness(runtime, create_app(runtime), TEST_SECRET)
    people = [f"m{i}" for i in range(PAIRS)] + [f"e{i}" for i in range(PAIRS)]
    with runtime.uow.begin() as tx:  # known people (no welcome to send)
        ops.keep_recipients(tx, KeepRecipients(tuple(_known(p) for p in people)))
    hook = harness.client.post(
        "/api/v1/webhooks",
        json={"url": f"{receiver.url}/hook", "types": ["mentoring.#"]},
        headers=harness.headers(RW),
    ).get_json()
    events = [pair_matched(f"m{i}", f"e{i}", f"pair-{i}") for i in range(PAIRS)]

    with Connection(bus_settings.broker_url) as connection:  # before the worker is up
        declare_exchange(connection, bus_settings)
        Topology("notifications", spec("notifications").subscribes, bus_settings).declare(
            connection
        )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.notifications.worker_process",
         postgres_url, bus_settings.broker_url, bus_settings.exchange, "0.03"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    fresh = None
    try:
        publish(bus_settings, *events, *events[:5])  # five of them twice
        # the first batch (ten events) committed, the second under way: kill it
        eventually(lambda: _handled(harness) >= 10, timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        handled_when_killed = _handled(harness)
        assert handled_when_killed < PAIRS, "the worker finished before it was killed"

        fresh = create_worker(runtime)  # relay, consumer and the sender (spec.background)
        fresh.start()
        assert fresh.wait_ready(15)
        eventually(lambda: _handled(harness) == PAIRS)
        eventually(lambda: len(box.messages) >= 2 * PAIRS and len(receiver.at("/hook")) >= PAIRS)
        # let anything extra show up before counting
        eventually(lambda: _count(harness, tables.attempts) >= 3 * PAIRS)
    finally:
        if worker.poll() is None:
            worker.kill()
        if fresh is not None:
            fresh.stop()
            fresh.join(15)
        delete_queues("notifications", bus_settings)

    mails = Counter((m["To"], m["X-Booster-Notification"]) for m in box.messages)
    assert len(mails) == 2 * PAIRS and set(mails.values()) == {1}
    assert Counter(m["To"] for m in box.messages) == {f"{p}@example.org": 1 for p in people}
    hooks = Counter(r.headers["webhook-id"] for r in receiver.at("/hook"))
    assert hooks == {e.id: 1 for e in events}
    assert _count(harness, tables.notifications) == 2 * 2 * PAIRS  # 2 people x 2 channels
    assert _count(harness, tables.attempts) == 3 * PAIRS  # 2 emails + 1 webhook per event
    inbox = harness.client.get(
        "/api/v1/recipients/m0/notifications?channel=in_app", headers=harness.headers(RW)
    ).get_json()
    assert [n["event_type"] for n in inbox["items"]].count("mentoring.pair.matched") == 1
    assert hook["active"]
    runtime.database.dispose()
