"""Test helpers: find RabbitMQ and PostgreSQL, make throwaway databases and tokens.

Order of discovery: ``BOOSTER_TEST_BROKER_URL`` / ``BOOSTER_TEST_DATABASE_URL``, then
the services on loopback, then testcontainers when a Docker engine is there, else
the test is skipped with the reason, or fails when ``BOOSTER_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import os
import shutil
import socket
import sqlite3
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from shared.service import ServiceSpec

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


TEST_DATABASE_PREFIX = "booster_test"
TEMPLATE_PREFIX = "booster_tpl"


@contextmanager
def fresh_postgres_database(admin_url: str, prefix: str = TEST_DATABASE_PREFIX) -> Iterator[str]:
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


# -- migrated databases, from a template -------------------------------------------------
def migrated(spec: ServiceSpec, url: str) -> None:
    """``upgrade(spec, url)`` for a test's new, empty database, done by copying one
    migrated once per service and migrations (the DDL of a migration run cost a fifth of
    the integration tests' time): an SQLite file is copied from a migrated file of this
    run; an empty PostgreSQL test database is made again from a template database,
    which later runs reuse while the migrations are the same. Anything else (a database
    that has tables, another backend) is migrated as usual."""
    from shared.migrations import upgrade

    parsed = make_url(url)
    name = parsed.database or ""
    backend = parsed.get_backend_name()
    if backend == "sqlite" and name and name != ":memory:":
        target = Path(name)
        if not target.exists() or target.stat().st_size == 0:
            _copy_private(_sqlite_template(spec), target)
            return
    elif backend == "postgresql" and name.startswith(TEST_DATABASE_PREFIX) and _empty(url):
        template = _postgres_template(spec, url)
        with _admin(url) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return
    upgrade(spec, url)


def _fingerprint(spec: ServiceSpec) -> str:
    """The migrations' code, hashed: a template is good for as long as it is the same."""
    digest = hashlib.sha256()
    for path in sorted(spec.migrations.rglob("*.py")):
        digest.update(path.relative_to(spec.migrations).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


_sqlite_templates: dict[str, Path] = {}


def _sqlite_template(spec: ServiceSpec) -> Path:
    from shared.migrations import upgrade

    key = f"{spec.name}_{_fingerprint(spec)}"
    path = _sqlite_templates.get(key)
    if path is None:
        folder = Path(tempfile.mkdtemp(prefix="booster-templates-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / f"{key}.db"
        upgrade(spec, f"sqlite:///{path}")
        with sqlite3.connect(path) as connection:  # everything in the main file
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _sqlite_templates[key] = path
    return path


def _copy_private(source: Path, target: Path) -> None:
    """``source``'s bytes into ``target``, created with mode 0600 (as the services do)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(source.read_bytes())


@contextmanager
def _admin(url: str) -> Iterator[Any]:
    """An autocommit connection to the server's ``postgres`` database."""
    import psycopg

    conninfo = (make_url(url).set(drivername="postgresql", database="postgres")).render_as_string(
        hide_password=False
    )
    with psycopg.connect(conninfo, autocommit=True) as connection:
        yield connection


def _empty(url: str) -> bool:
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public'"
        ).fetchone()
    return row is not None and row[0] == 0


_postgres_templates: dict[tuple[str, str], str] = {}


def _postgres_template(spec: ServiceSpec, url: str) -> str:
    """The name of the template database of ``spec``'s migrations on ``url``'s server:
    migrated under a temporary name, then renamed, so a template is always complete."""
    import psycopg

    from shared.migrations import upgrade

    parsed = make_url(url)
    server = f"{parsed.host}:{parsed.port}"
    name = f"{TEMPLATE_PREFIX}_{spec.name}_{_fingerprint(spec)}"
    if (server, name) in _postgres_templates:
        return name
    with _admin(url) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            building = f"{name}_{uuid.uuid4().hex[:8]}"
            admin.execute(f'CREATE DATABASE "{building}"')
            try:
                upgrade(spec, parsed.set(database=building).render_as_string(hide_password=False))
                admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            except Exception:
                admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                exists = admin.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                ).fetchone()
                if exists is None:  # not another run's template arriving first: a failure
                    raise
        # templates of older migrations of the same service go (unless in use)
        stale = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            (f"{TEMPLATE_PREFIX}_{spec.name}_%", name),
        ).fetchall()
        for (old,) in stale:
            try:
                admin.execute(f'DROP DATABASE "{old}"')
            except psycopg.Error:
                pass
    _postgres_templates[(server, name)] = name
    return name
