"""The ``booster`` command: the operator's entry point."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
from dataclasses import asdict
from typing import Any

import click

from shared.config import ConfigError, Settings
from shared.logging import configure_logging, get_logger

log = get_logger("booster.cli")


class ServiceName(click.ParamType[str, Any]):
    """A service of the platform (or ``all`` where allowed).

    The list is read from ``booster.platform`` only when an argument is checked, so that
    ``booster --help`` and ``booster token`` do not load every service."""

    name = "service"

    def __init__(self, *, allow_all: bool = False) -> None:
        self.allow_all = allow_all

    def names(self) -> tuple[str, ...]:
        from booster.platform import SERVICE_NAMES

        return (*SERVICE_NAMES, "all") if self.allow_all else SERVICE_NAMES

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "{" + "|".join(self.names()) + "}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if value not in self.names():
            self.fail(f"{value!r} is not one of {', '.join(self.names())}.", param, ctx)
        return str(value)


SERVICE = ServiceName()


def _settings() -> Settings:
    from booster.bootstrap import load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    configure_logging(settings.log_level, settings.log_json)
    return settings


def _require_broker(settings: Settings, what: str) -> None:
    if settings.bus.broker_url.startswith("memory"):
        raise click.ClickException(
            f"{what} needs a real broker: memory:// lives inside one process "
            "(`booster run`). Set BOOSTER_BROKER_URL=amqp://..."
        )


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Booster Track platform: run, serve, work, migrate, mint tokens, manage dead letters."""
    if ctx.invoked_subcommand == "serve" and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics of `serve` must add up every gunicorn worker: prometheus-client's
        # multiprocess mode, chosen before prometheus_client is first imported (which
        # loading the services, even to check the SERVICE argument, does)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="booster-serve-")


@main.command()
@click.option("--service", "services", multiple=True, type=SERVICE, help="Only these services.")
@click.option("--port-offset", type=click.IntRange(0, 50000), default=0, help="Add to every port.")
def run(services: tuple[str, ...], port_offset: int) -> None:
    """The whole platform in one process (embedded defaults unless configured)."""
    from werkzeug.serving import make_server

    from booster.bootstrap import bootstrap, create_app, create_worker
    from booster.platform import SERVICE_NAMES, spec
    from shared.migrations import upgrade

    settings = _settings()
    servers, workers = [], []
    for name in services or SERVICE_NAMES:
        service = spec(name)
        upgrade(service, settings.database_url(name))
        runtime = bootstrap(service, settings)
        port = service.port + port_offset
        server = make_server(settings.host, port, create_app(runtime), threaded=True)
        threading.Thread(target=server.serve_forever, name=f"{name}-http", daemon=True).start()
        worker = create_worker(runtime)
        worker.start()
        servers.append(server)
        workers.append(worker)
        click.echo(f"{name:<14} http://{settings.host}:{port}  (docs: /docs)")
    click.echo(f"broker {settings.bus.broker_url}; Ctrl-C to stop", nl=True)
    sys.stdout.flush()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    for server in servers:
        server.shutdown()
    for worker in workers:
        worker.stop()
    for worker in workers:
        worker.join(timeout=10)


@main.command()
@click.argument("service", type=SERVICE)
@click.option("--bind", default=None, help="host:port (default BOOSTER_HOST and the port).")
@click.option("--workers", type=int, default=None, help="gunicorn workers.")
def serve(service: str, bind: str | None, workers: int | None) -> None:
    """The service's HTTP API under gunicorn."""
    settings = _settings()
    workers = workers or settings.web_concurrency

    from gunicorn.app.base import BaseApplication

    from booster.bootstrap import bootstrap, create_app
    from booster.platform import spec as service_spec

    spec = service_spec(service)

    def child_exit(_server: Any, worker: Any) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind or f"{settings.host}:{spec.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", None)
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("child_exit", child_exit)

        def load(self) -> Any:
            return create_app(bootstrap(spec, settings))

    _Gunicorn().run()


@main.command()
@click.argument("service", type=SERVICE)
def worker(service: str) -> None:
    """The service's outbox relay and event consumers (stops cleanly on SIGTERM)."""
    from booster.bootstrap import bootstrap, create_worker

    settings = _settings()
    _require_broker(settings, "booster worker")
    create_worker(bootstrap(service, settings)).run_until_signalled()


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("service", type=ServiceName(allow_all=True))
@click.option("--revision", default="head")
def db_upgrade(service: str, revision: str) -> None:
    """Apply a service's Alembic migrations (or every service's with ``all``)."""
    from booster.platform import SERVICE_NAMES, spec
    from shared.migrations import upgrade

    settings = _settings()
    for name in SERVICE_NAMES if service == "all" else (service,):
        upgrade(spec(name), settings.database_url(name), revision)
        click.echo(f"{name}: at {revision}")


@main.command()
@click.option("--sub", required=True, help="Subject: a person id, or a client name.")
@click.option("--scope", required=True, help='Space-separated, e.g. "registry:read admin".')
@click.option("--ttl", type=click.IntRange(1, 366 * 24 * 3600), default=3600, show_default=True)
def token(sub: str, scope: str, ttl: int) -> None:
    """Mint a bearer token signed with BOOSTER_JWT_SECRET."""
    from shared.auth import mint_token

    settings = _settings()
    click.echo(
        mint_token(
            settings.jwt_secret,
            sub,
            scope,
            ttl=ttl,
            audience=settings.jwt_audience,
            algorithm=settings.jwt_algorithm,
        )
    )


@main.group()
def dlq() -> None:
    """Dead-letter queues: look, and replay."""


def _require_dead_queue(connection: Any, service: str, exchange: str) -> None:
    from shared.bus.topology import dead_queue_name

    name = dead_queue_name(service, exchange)
    channel = connection.channel()
    try:
        channel.queue_declare(name, passive=True)
    except connection.channel_errors as exc:
        raise click.ClickException(
            f"no queue {name} on the broker (has the {service} worker ever run?): {exc}"
        ) from exc
    finally:
        try:
            channel.close()
        except Exception:  # noqa: BLE001 - closed by the broker already
            pass


@dlq.command("list")
@click.argument("service", type=SERVICE)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def dlq_list(service: str, limit: int) -> None:
    """Print a service's dead letters as JSON lines (they stay in the queue)."""
    from shared.bus.connection import connect
    from shared.bus.dlq import list_dead

    settings = _settings()
    _require_broker(settings, "booster dlq")
    with connect(settings.bus) as connection:
        _require_dead_queue(connection, service, settings.bus.exchange)
        for letter in list_dead(connection, service, limit, settings.bus.exchange):
            click.echo(json.dumps(asdict(letter), ensure_ascii=False))


@dlq.command("replay")
@click.argument("service", type=SERVICE)
@click.option("--id", "message_id", default=None, help="Only the message with this id.")
def dlq_replay(service: str, message_id: str | None) -> None:
    """Return dead letters to the service's queue."""
    from shared.bus.connection import connect
    from shared.bus.dlq import replay
    from shared.bus.topology import queue_name

    settings = _settings()
    _require_broker(settings, "booster dlq")
    with connect(settings.bus) as connection:
        _require_dead_queue(connection, service, settings.bus.exchange)
        count = replay(connection, service, message_id, settings.bus.exchange)
    click.echo(f"replayed {count} message(s) to {queue_name(service, settings.bus.exchange)}")
    if message_id and count == 0:
        sys.exit(1)


@main.command()
@click.option(
    "--registry-url",
    default=None,
    help="The registry's base URL (default: http://BOOSTER_HOST:8001).",
)
def seed(registry_url: str | None) -> None:
    """Load the demo data of the 2021 programme through the registry's API (rerun-safe)."""
    from booster.platform import spec
    from booster.seed import RegistryClient, RegistryError
    from booster.seed import seed as load_demo_data

    settings = _settings()
    if registry_url is None:
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        host = f"[{host}]" if ":" in host else host
        registry_url = f"http://{host}:{spec('registry').port}"
    client = RegistryClient.for_settings(registry_url, settings)
    try:
        report = load_demo_data(client)
    except RegistryError as exc:
        raise click.ClickException(f"seed failed: {exc}") from exc
    finally:
        client.close()
    click.echo(f"registry {registry_url}")
    click.echo(report.summary())


@main.command()
@click.argument("what", type=click.Choice(["markdown", "asyncapi"]))
def catalogue(what: str) -> None:
    """Print the event catalogue (docs/events.md or docs/asyncapi.json)."""
    from booster.catalogue import platform_catalogue
    from shared.events.docs import asyncapi, render_markdown

    if what == "markdown":
        click.echo(render_markdown(platform_catalogue()), nl=False)
    else:
        click.echo(json.dumps(asyncapi(platform_catalogue()), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
