"""Run the demo service's worker in its own process (for the SIGTERM test).

Usage: python -m tests.integration.demo_worker SERVICE DATABASE_URL BROKER_URL EXCHANGE DELAY
"""

from __future__ import annotations

import sys
from pathlib import Path

from booster.bootstrap import bootstrap
from shared.bus.topology import Topology
from shared.config import BusSettings, Settings
from shared.db import Database
from shared.service import ServiceSpec
from shared.worker import Worker
from tests.integration import demo


def main(service: str, database_url: str, broker_url: str, exchange: str, delay: str) -> None:
    bus = BusSettings(broker_url=broker_url, exchange=exchange, consumer_batch_size=20)
    spec = ServiceSpec(
        name=service,
        port=0,
        title="demo",
        metadata=demo.metadata,
        outbox_table=demo.outbox,
        inbox_table=demo.inbox,
        idempotency_table=demo.idempotency_keys,
        migrations=Path("."),
        handlers={"demo.item.created": demo.slow(float(delay))},
    )
    settings = Settings(environment="test", bus=bus, jwt_secret="x" * 40)
    runtime = bootstrap(spec, settings, Database(database_url), catalogue=demo.catalogue)
    Worker(runtime, declare=[Topology(service, spec.subscribes, bus)]).run_until_signalled()


if __name__ == "__main__":
    main(*sys.argv[1:6])
