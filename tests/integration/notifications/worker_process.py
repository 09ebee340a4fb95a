"""Run the notifications worker (relay and consumer, not the sender) in its own process,
slowed down, so a test can kill it mid-batch.

Usage: python -m tests.integration.notifications.worker_process DATABASE_URL BROKER_URL
EXCHANGE DELAY (seconds added to each message rendered)
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from typing import Any

from booster.bootstrap import bootstrap, create_worker
from booster.platform import spec
from services.notifications import handlers
from shared.bus.topology import Topology
from shared.config import BusSettings, Settings
from shared.service import no_background


def main(database_url: str, broker_url: str, exchange: str, delay: str) -> None:
    render = handlers.RENDERER.render

    def slow_render(*args: Any) -> Any:
        time.sleep(float(delay))
        return render(*args)

    handlers.RENDERER.render = slow_render  # type: ignore[method-assign]
    bus = BusSettings(broker_url=broker_url, exchange=exchange, consumer_batch_size=10)
    settings = Settings(
        environment="test",
        bus=bus,
        jwt_secret="x" * 40,
        database_urls={"notifications": database_url},
    )
    # the consumer only: the test kills it mid-batch; the sender runs in the fresh worker
    consumer_only = replace(spec("notifications"), background=no_background)
    runtime = bootstrap(consumer_only, settings)
    declare = [Topology("notifications", consumer_only.subscribes, bus)]
    create_worker(runtime, declare).run_until_signalled()


if __name__ == "__main__":
    main(*sys.argv[1:5])
