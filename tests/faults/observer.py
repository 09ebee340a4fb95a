"""The independent subscriber: a queue of the test's own, bound to the platform's
exchange, consumed on the broker directly (never through the fault proxy).

It counts every delivery per message id (an id delivered twice is a redelivery or a
republished copy: at-least-once, counted, not an error) and acks each one. On a cluster
it takes the nodes' URLs and, like the platform, moves to another node when its own goes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from kombu import Connection, Consumer, Exchange, Queue

from shared.bus.topology import QUORUM_REPLICAS


class Observer:
    def __init__(self, urls: Sequence[str], exchange: str, keys: Sequence[str]) -> None:
        self.urls = list(urls)
        self.exchange = Exchange(exchange, type="topic", durable=True)
        self.queue = Queue(
            f"{exchange}.observer",
            exchange=self.exchange,
            routing_key=keys[0],
            bindings=None,
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-quorum-initial-group-size": QUORUM_REPLICAS,
            },
        )
        self.keys = list(keys)
        self.deliveries: Counter[str] = Counter()
        self.flagged = 0
        """Deliveries the broker marked ``redelivered``."""
        self.reconnects = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _connection(self) -> Connection:
        return Connection(";".join(self.urls), heartbeat=10, failover_strategy="round-robin")

    def declare(self) -> None:
        """The exchange, the queue and its bindings: before the first write."""
        with self._connection() as connection:
            connection.ensure_connection(max_retries=len(self.urls))
            channel = connection.channel()
            self.exchange.declare(channel=channel)
            bound = self.queue.bind(channel)
            bound.declare()
            for key in self.keys[1:]:
                bound.bind_to(self.exchange, routing_key=key)
            channel.close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="observer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def delete(self) -> None:
        with self._connection() as connection:
            connection.ensure_connection(max_retries=len(self.urls))
            channel = connection.channel()
            try:
                channel.queue_delete(self.queue.name)
            finally:
                channel.close()

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.deliveries)

    def seen(self) -> int:
        with self._lock:
            return len(self.deliveries)

    def _on_message(self, message: Any) -> None:
        message_id = message.properties.get("message_id") or ""
        with self._lock:
            self.deliveries[message_id] += 1
            if message.delivery_info.get("redelivered"):
                self.flagged += 1
        message.ack()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connection() as connection:
                    connection.ensure_connection(max_retries=len(self.urls) * 3)
                    with Consumer(
                        connection,
                        [self.queue],
                        on_message=self._on_message,
                        prefetch_count=500,
                        accept=["json"],
                        auto_declare=False,
                    ):
                        while not self._stop.is_set():
                            try:
                                connection.drain_events(timeout=0.5)
                            except TimeoutError:
                                connection.heartbeat_check()
            except Exception:  # noqa: BLE001 - a node went away: connect again
                self.reconnects += 1
                self._stop.wait(0.5)
