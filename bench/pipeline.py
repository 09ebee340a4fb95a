"""Event pipeline: drain throughput and end-to-end latency, against kombu and FastStream.

Drain: N person registrations are committed through the registry's own write path
(``operations.register_person``: person row + outbox row per transaction). The clock
starts with the registry's relay and stops when the events service's consumer (its own
PostgreSQL database, inbox, and its real handler keeping the read copy of people) has
handled all N.

Latency: the registry commits registrations at a steady rate; for each event, the time
from its commit to the commit of the consumer's transaction that handled it.

Everything runs on its own exchange and queues, so real queues never see bench traffic.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Consumer, Exchange, Producer, Queue
from sqlalchemy import event, func, select

from bench.apps import quiet_logs
from bench.common import BROKER_URL, Report, Result, Sizes, fresh_database, percentile, unique
from booster.bootstrap import bootstrap
from booster.platform import spec as load_spec
from services.events.adapters.tables import people
from services.registry import operations
from services.registry.domain.commands import RegisterPerson
from services.registry.domain.model import Language
from shared.bus.consumer import BATCH_ATTRIBUTE, EventConsumer, Handler, batched
from shared.bus.topology import Topology
from shared.config import BusSettings, Settings
from shared.events.envelope import CloudEvent
from shared.migrations import upgrade
from shared.relay import OutboxRelay
from shared.service import Runtime
from shared.sql_uow import SqlTransaction
from shared.testing import delete_queues

FR = Language.FR

QUORUM = {"x-queue-type": "quorum"}
REGISTERED = "registry.person.registered"


# -- the consuming service: the events service keeping its read copy of people ------
def _noting(handler: Handler) -> Handler:
    """The service's own handler, noting the ids it handled in the session (for the
    latency stamps, taken after commit); costs nothing in the database."""
    if getattr(handler, BATCH_ATTRIBUTE, False):

        @batched
        def noted_batch(events: Sequence[CloudEvent], tx: SqlTransaction) -> None:
            handler(events, tx)  # type: ignore[arg-type]
            tx.session.info.setdefault("bench_handled", []).extend(e.id for e in events)

        return noted_batch

    def noted(event_: CloudEvent, tx: SqlTransaction) -> None:
        handler(event_, tx)
        tx.session.info.setdefault("bench_handled", []).append(event_.id)

    return noted


def _events_runtime(url: str, bus: BusSettings) -> Runtime:
    settings = Settings(
        environment="test", jwt_secret="x" * 40, bus=bus, database_urls={"events": url}
    )
    return bootstrap(load_spec("events"), settings)


def _consumer(runtime: Runtime) -> EventConsumer:
    """The events service's consumer, with its real handlers (the registrations noted)."""
    handlers = dict(runtime.spec.handlers)
    handlers[REGISTERED] = _noting(handlers[REGISTERED])
    return EventConsumer("events", handlers, runtime.uow, runtime.inbox, runtime.settings.bus)


@dataclass
class Pipeline:
    """The registry (producer) and the events service (consumer) on one test exchange,
    hence on queues of their own."""

    registry_url: str
    events_url: str
    bus: BusSettings

    def __post_init__(self) -> None:
        spec = load_spec("registry")
        upgrade(spec, self.registry_url)
        settings = Settings(
            environment="test",
            jwt_secret="x" * 40,
            bus=self.bus,
            database_urls={"registry": self.registry_url},
        )
        self.registry = bootstrap(spec, settings)
        upgrade(load_spec("events"), self.events_url)
        self.events = _events_runtime(self.events_url, self.bus)
        self.topology = Topology("events", load_spec("events").subscribes, self.bus)

    def write(self, count: int, start: int = 0) -> list[tuple[str, float]]:
        """Register ``count`` people, one transaction each; (event id, commit time)."""
        committed = []
        for n in range(start, start + count):
            with self.registry.uow.begin() as tx:
                operations.register_person(
                    self.registry.uow,
                    RegisterPerson(name=f"Person {n}", email=f"p{n}@example.org", language=FR),
                )
            committed.append((tx.emitted[0].id, time.perf_counter()))
        return committed

    def relay(self) -> OutboxRelay:
        return OutboxRelay(
            "registry",
            self.registry.database,
            self.registry.spec.outbox_table,
            self.bus,
            declare=[self.topology],
        )

    def handled(self) -> int:
        with self.events.database.session() as session:
            return session.scalar(select(func.count()).select_from(people))

    def close(self) -> None:
        delete_queues("events", self.bus)
        with Connection(self.bus.broker_url) as connection:
            connection.default_channel.exchange_delete(self.bus.exchange)
        self.registry.database.dispose()
        self.events.database.dispose()


def _start(loop: OutboxRelay | EventConsumer) -> threading.Thread:
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    if not loop.ready.wait(15):
        raise RuntimeError(f"{loop} did not start")
    return thread


def _wait(predicate: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return predicate()


def _pipeline(bus: BusSettings) -> tuple[Pipeline, Callable[[], None]]:
    registry_db = fresh_database("bench_registry")
    events_db = fresh_database("bench_events")
    pipeline = Pipeline(registry_db.__enter__(), events_db.__enter__(), bus)

    def close() -> None:
        pipeline.close()
        events_db.__exit__(None, None, None)
        registry_db.__exit__(None, None, None)

    return pipeline, close


# -- drain -------------------------------------------------------------------------
def drain_booster(count: int) -> float:
    """Events per second from relay start to the last consumer commit; the relay (in the
    registry's worker) and the consumer (another service's worker) are two processes."""
    bus = BusSettings(broker_url=BROKER_URL, exchange=f"booster.events.{unique('b')}")
    pipeline, close = _pipeline(bus)
    spawn = multiprocessing.get_context("spawn")
    ready, stop, handled_out = spawn.Event(), spawn.Event(), spawn.Queue()
    try:
        pipeline.write(count)
        consumer = spawn.Process(
            target=_stamping_consumer,
            args=(pipeline.events_url, bus, ready, stop, handled_out),
        )
        consumer.start()
        if not ready.wait(60):
            raise RuntimeError("the consumer did not start")
        relay = pipeline.relay()
        started = time.perf_counter()
        relay_thread = threading.Thread(target=relay.run, daemon=True)
        relay_thread.start()
        if not _wait(lambda: pipeline.handled() >= count, timeout=600, poll=0.01):
            raise RuntimeError(f"drain incomplete: {pipeline.handled()} of {count}")
        elapsed = time.perf_counter() - started
        relay.stop()
        relay_thread.join(10)
        stop.set()
        handled_out.get(timeout=60)  # the consumer's timings (unused here) let it exit
        return count / elapsed
    finally:
        stop.set()
        if "consumer" in locals():
            consumer.join(20)
        close()


def _sample_body() -> bytes:
    data = {"id": str(uuid.uuid4()), "name": "Person", "email": "p@example.org", "language": "fr"}
    return (
        CloudEvent(type="registry.person.registered", source="/booster/registry", data=data)
        .to_json()
        .encode()
    )


def _kombu_consumer(name: str, count: int, ready: Any, done: Any) -> None:
    """Consume ``count`` messages with manual acks (prefetch 100), then set ``done``."""
    queue = Queue(name, durable=True, queue_arguments=QUORUM, no_declare=True)
    received = 0
    with Connection(BROKER_URL) as connection:

        def on_message(message: Any) -> None:
            nonlocal received
            message.ack()
            received += 1
            if received >= count:
                done.set()

        with Consumer(connection, [queue], on_message=on_message, prefetch_count=100):
            ready.set()
            while not done.is_set():
                try:
                    connection.drain_events(timeout=1)
                except TimeoutError:
                    pass


def drain_kombu(count: int, confirm: bool) -> float:
    """Plain kombu: publish persistent messages (confirmed one by one, or not) while
    another process consumes them with manual acks; messages per second."""
    name = unique("bench.kombu.")
    exchange = Exchange(name, type="topic", durable=True)
    queue = Queue(name, exchange, routing_key="#", durable=True, queue_arguments=QUORUM)
    body = _sample_body()
    spawn = multiprocessing.get_context("spawn")
    ready, done = spawn.Event(), spawn.Event()
    options = {"confirm_publish": True} if confirm else {}
    with Connection(BROKER_URL, transport_options=options) as connection:
        queue.bind(connection.default_channel).declare()
        consumer = spawn.Process(target=_kombu_consumer, args=(name, count, ready, done))
        consumer.start()
        ready.wait(60)
        producer = Producer(connection, exchange=exchange)
        started = time.perf_counter()
        for _ in range(count):
            producer.publish(
                body,
                routing_key="bench.item",
                delivery_mode=2,
                content_type="application/json",
                content_encoding="utf-8",
            )
        done.wait(600)
        elapsed = time.perf_counter() - started
        consumer.join(20)
        connection.default_channel.queue_delete(name)
        connection.default_channel.exchange_delete(name)
    return count / elapsed


def drain_faststream(count: int, batch: int = 100) -> float | None:
    """FastStream (aio-pika, confirms on): concurrent batches of persistent publishes,
    a subscriber that acks; messages per second. None if FastStream is not installed."""
    try:
        from faststream.rabbit import RabbitBroker, RabbitQueue
        from faststream.rabbit.schemas.queue import QueueType
    except ImportError:
        return None

    async def run() -> float:
        name = unique("bench.faststream.")
        broker = RabbitBroker(BROKER_URL, logger=None)
        queue = RabbitQueue(name, queue_type=QueueType.QUORUM, durable=True)
        received = 0
        done = asyncio.Event()

        @broker.subscriber(queue)
        async def handle(body: dict) -> None:
            nonlocal received
            received += 1
            if received >= count:
                done.set()

        payload = json.loads(_sample_body())
        async with broker:
            await broker.start()
            started = time.perf_counter()
            for offset in range(0, count, batch):
                await asyncio.gather(
                    *(
                        broker.publish(payload, queue=name, persist=True)
                        for _ in range(min(batch, count - offset))
                    )
                )
            await asyncio.wait_for(done.wait(), 600)
            elapsed = time.perf_counter() - started
        with Connection(BROKER_URL) as connection:
            connection.default_channel.queue_delete(name)
        return count / elapsed

    return asyncio.run(run())


# -- latency -----------------------------------------------------------------------
def _timed_writer(
    registry_url: str,
    bus: BusSettings,
    first: int,
    count: int,
    rate: float,
    start_at: float,
    out: Any,
) -> None:
    """An API-like process: registers people at ``rate``; (event id, commit time)."""
    quiet_logs()
    spec = load_spec("registry")
    settings = Settings(
        environment="test", jwt_secret="x" * 40, bus=bus, database_urls={"registry": registry_url}
    )
    uow = bootstrap(spec, settings).uow
    committed = []
    time.sleep(max(0.0, start_at - time.time()))
    for n in range(count):
        with uow.begin() as tx:
            operations.register_person(
                uow,
                RegisterPerson(
                    name=f"P {first + n}", email=f"p{first + n}@example.org", language=FR
                ),
            )
        committed.append((tx.emitted[0].id, time.time()))
        pause = start_at + (n + 1) / rate - time.time()
        if pause > 0:
            time.sleep(pause)
    out.put(committed)


def _stamping_consumer(events_url: str, bus: BusSettings, ready: Any, stop: Any, out: Any) -> None:
    """The events service's worker process (its consumer); reports when each event's
    handling committed."""
    quiet_logs()
    runtime = _events_runtime(events_url, bus)
    handled: list[tuple[str, float]] = []

    @event.listens_for(runtime.database.sessions, "after_commit")
    def _stamp(session: Any) -> None:
        now = time.time()
        handled.extend((event_id, now) for event_id in session.info.pop("bench_handled", []))

    consumer = _consumer(runtime)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    if consumer.ready.wait(30):
        ready.set()
    stop.wait()
    consumer.stop()
    thread.join(10)
    out.put(handled)


def latency_booster(seconds: float, rate: int, writers: int = 1) -> list[float]:
    """Milliseconds from the registry's commit to the consumer's commit, per event.

    As deployed: API writers (``writers`` processes sharing the rate), the registry's
    relay (this process, woken by PostgreSQL NOTIFY) and the consumer are separate
    processes; times are wall-clock on one machine."""
    bus = BusSettings(broker_url=BROKER_URL, exchange=f"booster.events.{unique('b')}")
    pipeline, close = _pipeline(bus)
    spawn = multiprocessing.get_context("spawn")
    ready, stop, results, handled_out = spawn.Event(), spawn.Event(), spawn.Queue(), spawn.Queue()
    consumer = spawn.Process(
        target=_stamping_consumer,
        args=(pipeline.events_url, bus, ready, stop, handled_out),
    )
    relay = pipeline.relay()
    try:
        consumer.start()
        if not ready.wait(60):
            raise RuntimeError("the consumer did not start")
        relay_thread = _start(relay)
        pipeline.write(20)  # warm up connections and caches
        _wait(lambda: pipeline.handled() >= 20, timeout=30)
        per_writer = int(seconds * rate / writers)
        start_at = time.time() + 3.0  # every writer has imported and connected by then
        processes = [
            spawn.Process(
                target=_timed_writer,
                args=(
                    pipeline.registry_url, bus, 1000 + w * per_writer, per_writer,
                    rate / writers, start_at + w / rate, results,
                ),
            )
            for w in range(writers)
        ]  # fmt: skip
        for process in processes:
            process.start()
        committed = [item for _ in processes for item in results.get(timeout=seconds + 120)]
        for process in processes:
            process.join(30)
        _wait(lambda: pipeline.handled() >= 20 + len(committed), timeout=60)
        stop.set()
        handled = dict(handled_out.get(timeout=60))
        consumer.join(30)
        relay.stop()
        relay_thread.join(10)
        return [
            (handled[event_id] - at) * 1000 for event_id, at in committed if event_id in handled
        ]
    finally:
        stop.set()
        relay.stop()
        if consumer.is_alive():
            consumer.join(10)
        close()


def latency_kombu(seconds: float, rate: int) -> list[float]:
    """Plain kombu publish (unconfirmed) to consume (manual ack) at the same rate, ms."""
    name = unique("bench.latency.")
    queue = Queue(name, durable=True, queue_arguments=QUORUM)
    latencies: list[float] = []
    total = int(seconds * rate)
    done = threading.Event()
    ready = threading.Event()

    def consume() -> None:
        with Connection(BROKER_URL) as connection:

            def on_message(message: object) -> None:
                latencies.append((time.perf_counter() - message.headers["sent"]) * 1000)  # type: ignore[attr-defined]
                message.ack()  # type: ignore[attr-defined]
                if len(latencies) >= total:
                    done.set()

            with Consumer(connection, [queue], on_message=on_message, prefetch_count=100):
                ready.set()
                while not done.is_set():
                    try:
                        connection.drain_events(timeout=1)
                    except TimeoutError:
                        pass

    with Connection(BROKER_URL) as connection:
        queue.bind(connection.default_channel).declare()
        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        ready.wait(10)
        producer = Producer(connection)
        body = _sample_body()
        interval = 1.0 / rate
        next_at = time.perf_counter()
        for _ in range(total):
            producer.publish(
                body,
                routing_key=name,
                delivery_mode=2,
                headers={"sent": time.perf_counter()},
                content_type="application/json",
                content_encoding="utf-8",
            )
            next_at += interval
            pause = next_at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        done.wait(60)
        thread.join(10)
        connection.default_channel.queue_delete(name)
    return latencies


# -- the report --------------------------------------------------------------------
def run(report: Report, sizes: Sizes) -> None:
    n = sizes.drain_events
    confirmed = drain_kombu(n, confirm=True)
    report.add(Result("pipeline", "kombu confirmed 1-by-1 (baseline)", confirmed, "msg/s"))
    ceiling = drain_kombu(n, confirm=False)
    report.add(
        Result(
            "pipeline",
            "kombu unconfirmed (ceiling)",
            ceiling,
            "msg/s",
            confirmed,
            "kombu confirmed",
        )
    )
    faststream = drain_faststream(n)
    if faststream is not None:
        report.add(
            Result(
                "pipeline",
                "FastStream, batches of 100",
                faststream,
                "msg/s",
                confirmed,
                "kombu confirmed",
            )
        )
    booster = drain_booster(n)
    report.add(
        Result(
            "pipeline",
            f"drain {n:,} events (outbox->inbox)",
            booster,
            "events/s",
            confirmed,
            "kombu confirmed",
            goal=">= 3.0x",
            met=booster >= 3 * confirmed,
            extra={"faststream": faststream, "ceiling": ceiling},
        )
    )

    base = latency_kombu(sizes.latency_seconds, sizes.latency_rate)
    ours = latency_booster(sizes.latency_seconds, sizes.latency_rate)
    for q in (50, 99):
        report.add(
            Result(
                "latency",
                f"p{q} commit->handled @{sizes.latency_rate}/s",
                percentile(ours, q),
                "ms",
                percentile(base, q),
                "kombu publish->consume",
                goal="p99 < 20 ms" if q == 99 else None,
                met=percentile(ours, 99) < 20 if q == 99 else None,
            )
        )
    report.add(
        Result(
            "latency",
            "max commit->handled",
            max(ours) if ours else float("nan"),
            "ms",
            max(base) if base else None,
            "kombu publish->consume",
            extra={"events": len(ours)},
        )
    )
