"""Broker connections with the platform's settings.

``BOOSTER_BROKER_URL`` may name several nodes of one cluster, separated by ``;``. A
connection is made to one of them and, when it cannot be reached, to the next (kombu's
failover, round robin). Each new connection of a process starts one node further along
the list, from a random place: replicas spread over the nodes, and a client whose node
is gone reaches every other one within a few reconnections.

The heartbeat is 60 s unless the URL says otherwise (``...//?heartbeat=10``, per URL):
a broker that hangs without closing the connection is noticed after two missed beats.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable

from kombu import Connection

from shared.config import BusSettings
from shared.logging import get_logger

log = get_logger(__name__)
HEARTBEAT_SECONDS = 60
INITIAL_BACKOFF = 0.2
MAX_BACKOFF = 5.0
MIN_BLOCKING_WAIT = 5.0


_starts = itertools.count(random.randrange(1 << 16))


def failover_order(urls: tuple[str, ...]) -> list[str]:
    """``urls`` rotated to start one further along than the previous call did."""
    start = next(_starts) % len(urls)
    return [*urls[start:], *urls[:start]]


def connect(settings: BusSettings, *, heartbeat: int = HEARTBEAT_SECONDS) -> Connection:
    """A (lazy) kombu connection; ``memory://`` polls fast so embedded mode feels instant."""
    if settings.broker_url.startswith("memory"):
        return Connection(settings.broker_url, transport_options={"polling_interval": 0.005})
    connection = Connection(
        ";".join(failover_order(settings.broker_urls)),
        heartbeat=heartbeat,
        connect_timeout=5,
        failover_strategy="round-robin",
    )
    # A wait without its own timeout (a channel's close, a cancel, the connection's
    # close) gives up after two beats instead of blocking on a hung broker for ever.
    wait = max(MIN_BLOCKING_WAIT, 2 * float(connection.heartbeat or heartbeat))
    connection.transport_options = {"max_retries": 1, "read_timeout": wait, "write_timeout": wait}
    return connection


def check_broker(settings: BusSettings, timeout: float = 2.0) -> None:
    """Raise if no node of the broker can be reached (readiness checks)."""
    if settings.broker_url.startswith("memory"):
        return
    urls = failover_order(settings.broker_urls)
    with Connection(";".join(urls), connect_timeout=timeout) as connection:
        # every node once (a single URL keeps its one retry)
        connection.ensure_connection(max_retries=max(1, len(urls) - 1), timeout=timeout)


def run_reconnecting(
    stretch: Callable[[], None],
    *,
    stopping: threading.Event,
    what: str,
    service: str,
    on_interrupt: Callable[[], None] = lambda: None,
) -> None:
    """The one reconnect policy of the relay and the consumer.

    Runs ``stretch`` (connect, then work until stopped or until something breaks)
    again and again until ``stopping`` is set. After a failure (broker or database
    gone) it calls ``on_interrupt``, waits, and tries again: 0.2 s, doubling up to 5 s.
    A stretch that returns normally resets the back-off.
    """
    backoff = INITIAL_BACKOFF
    while not stopping.is_set():
        try:
            stretch()
            backoff = INITIAL_BACKOFF
        except Exception as exc:  # noqa: BLE001 - broker or database gone: reconnect
            log.warning(f"{what} interrupted", service=service, error=repr(exc))
            on_interrupt()
            stopping.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
