"""Broker connections with the platform's settings."""

from __future__ import annotations

from kombu import Connection

from shared.config import BusSettings

HEARTBEAT_SECONDS = 60


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
