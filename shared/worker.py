"""A service's background process: its outbox relay, its consumer if it subscribes, and
the service's own loops (``ServiceSpec.background``)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from types import FrameType

from shared.bus.consumer import EventConsumer
from shared.bus.topology import Topology
from shared.logging import get_logger
from shared.relay import OutboxRelay
from shared.service import Runtime

log = get_logger(__name__)
HOUSEKEEPING_SECONDS = 600.0


class Worker:
    """Runs the relay and the consumer of one service in threads."""

    def __init__(self, runtime: Runtime, declare: Sequence[Topology]) -> None:
        """``declare``: the topologies to set up before publishing (the composition root
        passes every subscriber's of the platform, so no event finds its queue missing)."""
        bus = runtime.settings.bus
        self.name = runtime.name
        self.relay = OutboxRelay(
            runtime.name, runtime.database, runtime.spec.outbox_table, bus, declare=declare
        )
        handlers = runtime.spec.handlers
        self.consumer = (
            EventConsumer(runtime.name, handlers, runtime.uow, runtime.inbox, bus)
            if handlers
            else None
        )
        self.loops = list(runtime.spec.background(runtime))
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._chores = (self.relay.purge_sent, runtime.idempotency.purge)

    def start(self) -> None:
        targets = [("relay", self.relay.run), ("housekeeping", self._housekeeping)]
        if self.consumer is not None:
            targets.append(("consumer", self.consumer.run))
        targets.extend((type(loop).__name__, loop.run) for loop in self.loops)
        for role, target in targets:
            thread = threading.Thread(target=target, name=f"{self.name}-{role}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker started", service=self.name, consumer=self.consumer is not None)

    def _housekeeping(self) -> None:
        """Purge sent outbox rows and expired idempotency keys now and then."""
        while not self._stopping.wait(HOUSEKEEPING_SECONDS):
            for chore in self._chores:
                try:
                    chore()
                except Exception as exc:  # noqa: BLE001 - try again next round
                    log.warning("housekeeping failed", service=self.name, error=repr(exc))

    def stop(self) -> None:
        """Ask both loops to finish what they hold and return."""
        self._stopping.set()
        if self.consumer is not None:
            self.consumer.stop()
        for loop in self.loops:
            loop.stop()
        self.relay.stop()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        ok = self.relay.ready.wait(timeout)
        if self.consumer is not None:
            ok = self.consumer.ready.wait(timeout) and ok
        for loop in self.loops:
            ready = getattr(loop, "ready", None)  # a loop may say when it is running
            if isinstance(ready, threading.Event):
                ok = ready.wait(timeout) and ok
        return ok

    def run_until_signalled(self) -> None:
        """Run until SIGTERM or SIGINT; then finish the work in hand and exit."""
        stopped = threading.Event()

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("stopping", service=self.name, signal=signal.Signals(signum).name)
            stopped.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        stopped.wait()
        self.stop()
        self.join()
        log.info("worker stopped", service=self.name)
