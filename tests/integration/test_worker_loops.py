"""A service's own background loops (``ServiceSpec.background``) run in its worker beside
the relay and the consumer, and stop with it."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

from booster.bootstrap import bootstrap
from shared.bus.topology import Topology
from shared.config import BusSettings, Settings
from shared.db import Database
from shared.service import Runtime, ServiceSpec
from shared.worker import Worker
from tests.integration import demo


class Ticker:
    """A loop that counts its rounds until stopped, and says when it runs."""

    def __init__(self, runtime: Runtime) -> None:
        self.service = runtime.name
        self.ready = threading.Event()
        self.rounds = 0
        self.stopped = threading.Event()
        self._stop = threading.Event()

    def run(self) -> None:
        self.ready.set()
        while not self._stop.wait(0.01):
            self.rounds += 1
        self.stopped.set()

    def stop(self) -> None:
        self._stop.set()


def test_the_worker_runs_the_services_loops_and_stops_them(tmp_path: Path) -> None:
    name = "w" + uuid.uuid4().hex[:8]
    loops: list[Ticker] = []

    def background(runtime: Runtime) -> list[Ticker]:
        loops.append(Ticker(runtime))
        return loops

    spec = ServiceSpec(
        name=name,
        port=0,
        title="demo",
        metadata=demo.metadata,
        outbox_table=demo.outbox,
        inbox_table=demo.inbox,
        idempotency_table=demo.idempotency_keys,
        migrations=Path("."),
        background=background,
    )
    database = Database(f"sqlite:///{tmp_path / 'loops.db'}")
    demo.metadata.create_all(database.engine)
    bus = BusSettings(broker_url="memory://", exchange=f"booster.events.{name}")
    runtime = bootstrap(spec, Settings(environment="test", bus=bus), database)
    worker = Worker(runtime, declare=[Topology(name, (), bus)])
    worker.start()
    try:
        assert worker.wait_ready(10)
        [ticker] = loops
        assert ticker.service == name
        deadline = time.monotonic() + 5
        while ticker.rounds <= 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ticker.rounds > 3
    finally:
        worker.stop()
        worker.join(10)
    assert ticker.stopped.is_set()
    database.dispose()
