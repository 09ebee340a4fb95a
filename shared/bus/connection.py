"""Broker connections with the platform's settings."""

from __future__ import annotations

import threading
from collections.abc import Callable

from kombu import Connection

from shared.config import BusSettings
from shared.logging import get_logger

log = get_logger(__name__)
HEARTBEAT_SECONDS = 60
INITIAL_BACKOFF = 0.2
MAX_BACKOFF = 5.0


def connect(settings: BusSettings, *, heartbeat: int = HEARTBEAT_SECONDS) -> Connection:
    """A (lazy) kombu connection; ``memory://`` polls fast so embedded mode feels instant."""
    if settings.broker_url.startswith("memory"):
        return Connection(settings.broker_url, transport_options={"polling_interval": 0.005})
    return Connection(
        settings.broker_url,
        heartbeat=heartbeat,
        connect_timeout=5,
        transport_options={"max_retries": 1},
    )


def check_broker(settings: BusSettings, timeout: float = 2.0) -> None:
    """Raise if the broker cannot be reached (readiness checks)."""
    if settings.broker_url.startswith("memory"):
        return
    with Connection(settings.broker_url, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)


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
