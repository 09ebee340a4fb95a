"""Test helpers: find RabbitMQ and PostgreSQL, make throwaway databases and tokens.

Order of discovery: ``BOOSTER_TEST_BROKER_URL`` / ``BOOSTER_TEST_DATABASE_URL``, then
the services on loopback, then testcontainers when a Docker engine is there, else
the test is skipped with the reason, or fails when ``BOOSTER_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import gc
import os
import socket
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.engine import make_url

LOOPBACK_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
LOOPBACK_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_containers: list[Any] = []


def services_required() -> bool:
    return os.environ.get("BOOSTER_REQUIRE_SERVICES", "") in ("1", "true", "yes")


def unavailable(what: str, reason: str) -> None:
    """Skip the test, or fail it when services are required."""
    message = f"{what} unavailable: {reason}"
    if services_required():
        pytest.fail(message + " (BOOSTER_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def docker_configured() -> bool:
    """Whether a Docker engine could be there (``DOCKER_HOST`` or the default socket)."""
    return bool(os.environ.get("DOCKER_HOST")) or os.path.exists("/var/run/docker.sock")


def _container(kind: str) -> str | None:
    """Start a RabbitMQ or PostgreSQL container; None without a Docker engine."""
    if not docker_configured():
        return None
    try:
        from docker.errors import DockerException
    except ImportError:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # testcontainers' notices; docker's leaked sockets
        try:
            return _start_container(kind)
        except DockerException:
            pass
        gc.collect()  # the docker client leaves a socket behind when the engine is gone
        return None


def _start_container(kind: str) -> str:
    if kind == "rabbitmq":
        from testcontainers.community.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13-management").start()
        host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
        _containers.append(container)
        return f"amqp://guest:guest@{host}:{port}//"
    from testcontainers.community.postgres import PostgresContainer

    postgres = PostgresContainer("postgres:16", driver="psycopg").start()
    _containers.append(postgres)
    return str(postgres.get_connection_url())


def _find(label: str, variable: str, port: int, loopback_url: str, container: str) -> str:
    if url := os.environ.get(variable):
        return url
    if _port_open("127.0.0.1", port):
        return loopback_url
    if url := _container(container):
        return url
    unavailable(label, f"nothing on 127.0.0.1:{port} and no Docker engine for testcontainers")
    raise AssertionError("unreachable")


def find_broker() -> str:
    """A RabbitMQ URL for tests (skips or fails when there is none)."""
    return _find("RabbitMQ", "BOOSTER_TEST_BROKER_URL", 5672, LOOPBACK_BROKER, "rabbitmq")


def find_postgres() -> str:
    """A PostgreSQL admin URL for tests (skips or fails when there is none)."""
    return _find("PostgreSQL", "BOOSTER_TEST_DATABASE_URL", 5432, LOOPBACK_POSTGRES, "postgres")


@contextmanager
def fresh_postgres_database(admin_url: str, prefix: str = "booster_test") -> Iterator[str]:
    """Create an empty database for one test (or benchmark) and drop it afterwards."""
    import psycopg

    url = make_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop_containers() -> None:
    while _containers:
        _containers.pop().stop()


def delete_queues(service: str, bus: Any) -> None:
    """Delete a service's queues (main, retry, dead) and its requeue exchange on ``bus``'s
    exchange from the broker, with the retry queues of ``bus``'s delays and of the default
    ones (a worker process configured from the environment declares those); gone is
    fine."""
    from dataclasses import replace

    from kombu import Connection

    from shared.bus.topology import Topology
    from shared.config import BusSettings

    delays = tuple(sorted({*bus.retry_delays, *BusSettings().retry_delays}))
    with Connection(bus.broker_url) as connection:
        topology = Topology(service, (), replace(bus, retry_delays=delays))
        for queue in topology.all_queues():
            channel = connection.channel()
            try:
                channel.queue_delete(queue.name)
            except Exception:  # noqa: BLE001 - already gone
                pass
            finally:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001
                    pass
        channel = connection.channel()
        try:
            channel.exchange_delete(topology.requeue_exchange.name)
        except Exception:  # noqa: BLE001 - already gone
            pass
        finally:
            try:
                channel.close()
            except Exception:  # noqa: BLE001
                pass
