"""The ``booster`` command: the operator's entry point."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
    from shared.http.server import DevRequestHandler
    from shared.migrations import upgrade

    settings = _settings()
    servers, workers, started = [], [], []
    # a signal while starting up stops cleanly once everything is up
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    for name in services or SERVICE_NAMES:
        service = spec(name)
        upgrade(service, settings.database_url(name))
        runtime = bootstrap(service, settings)
        port = service.port + port_offset
        server = make_server(
            settings.host,
            port,
            create_app(runtime),
            threaded=True,
            request_handler=DevRequestHandler,
        )
        threading.Thread(target=server.serve_forever, name=f"{name}-http", daemon=True).start()
        worker = create_worker(runtime)
        worker.start()
        servers.append(server)
        workers.append(worker)
        started.append(name)
    if not stopped.is_set():
        click.echo(banner(settings, started, port_offset))
        sys.stdout.flush()
    stopped.wait()
    for server in servers:
        server.shutdown()
    for worker in workers:
        worker.stop()
    for worker in workers:
        worker.join(timeout=10)


TOKEN_ARGS = "token --sub newcomer --scope admin"
"""What the banner of `booster run` tells a newcomer to mint a token with."""


def banner(settings: Settings, services: Sequence[str], port_offset: int = 0) -> str:
    """What `booster run` prints once everything is up: each service's URL and docs,
    where the data and the bus are, and the exact commands for a token, a first call
    and the demo data."""
    booster = own_command()
    env = ""
    if settings.var_dir != Path("var"):
        env = f"BOOSTER_VAR_DIR={shlex.quote(str(settings.var_dir))} "
    if _secret_from_environment(settings):
        env = "BOOSTER_JWT_SECRET=... " + env
    token = f"{env}{booster} {TOKEN_ARGS}"
    offset = f" --port-offset {port_offset}" if port_offset else ""
    urls = {name: _local_url(settings, name, port_offset) for name in services}
    lines = ["Booster Track is running: each service with its worker, in this process.", ""]
    for name, url in urls.items():
        lines.append(f"  {name:<14} {url:<24} docs: {url}/docs")
    lines += ["", f"  data:  {_data_line(settings, services)}", f"  bus:   {_bus_line(settings)}"]
    lines += ["", "A token for every API (scope admin, valid one hour):", f"  {token}"]
    if "registry" in urls:
        lines += [
            "A first call:",
            f'  curl -H "Authorization: Bearer $({token})" {urls["registry"]}/api/v1/countries/TN',
        ]
    if {"registry", "mentoring", "events"} <= set(urls):
        lines += ["The 2021 programme as demo data:", f"  {env}{booster} seed{offset}"]
    lines += ["", "Ctrl-C stops everything."]
    return "\n".join(lines)


def own_command() -> str:
    """How to call this `booster` again from the current directory: the path it was
    started by (relative when under the current directory), `booster` if that is what
    the PATH finds, else `python -m booster.cli`."""
    started = Path(sys.argv[0])
    if started.name == "booster" and started.is_file():
        absolute = started.absolute()
        on_path = shutil.which("booster")
        if on_path and Path(on_path).absolute() == absolute:
            return "booster"
        try:
            return shlex.quote(str(absolute.relative_to(Path.cwd())))
        except ValueError:
            return shlex.quote(str(absolute))
    return f"{shlex.quote(sys.executable)} -m booster.cli"


def _secret_from_environment(settings: Settings) -> bool:
    """Whether the JWT secret is not the one created under BOOSTER_VAR_DIR (so another
    shell needs BOOSTER_JWT_SECRET too)."""
    try:
        return (settings.var_dir / "jwt_secret").read_text().strip() != settings.jwt_secret
    except OSError:
        return True


def _data_line(settings: Settings, services: Sequence[str]) -> str:
    urls = [settings.database_url(name) for name in services]
    if all(url.startswith("sqlite") for url in urls):
        return f"SQLite files under {settings.var_dir}/"
    return ", ".join(_without_password(url) for url in urls)


def _bus_line(settings: Settings) -> str:
    url = settings.bus.broker_url
    if url.startswith("memory"):
        return f"{url} (in this process)"
    return f"{_without_password(url)}, exchange {settings.bus.exchange}"


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


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
    from shared.http.server import GUNICORN_LIMITS

    spec = service_spec(service)

    def child_exit(_server: Any, worker: Any) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            binds = [bind or f"{settings.host}:{spec.port}"]
            if settings.admin_bind:  # /metrics and /readyz detail (shared.http.admin)
                binds.append(settings.admin_bind)
            self.cfg.set("bind", binds)
            for name, value in GUNICORN_LIMITS.items():
                self.cfg.set(name, value)
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", None)
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("child_exit", child_exit)
            # gunicorn 27's control socket is one path per user (~/.gunicorn/gunicorn.ctl):
            # several `serve` on one host (make up, compose replicas) would fight over it.
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return create_app(bootstrap(spec, settings))

    _Gunicorn().run()


@main.command()
@click.argument("service", type=SERVICE)
def worker(service: str) -> None:
    """The service's outbox relay and event consumers (stops cleanly on SIGTERM)."""
    from booster.bootstrap import bootstrap, create_worker

    settings = _settings()
    _require_broker(settings.for_service(service), "booster worker")  # its own user, if any
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
@click.option(
    "--ttl",
    type=click.IntRange(1),
    default=3600,
    show_default=True,
    help="Seconds; at most BOOSTER_JWT_MAX_TTL (12 h by default).",
)
def token(sub: str, scope: str, ttl: int) -> None:
    """Mint a bearer token: signed with BOOSTER_JWT_SECRET, or with the issuer's private
    key (BOOSTER_JWT_PRIVATE_KEY) when BOOSTER_JWT_ALGORITHM is EdDSA or RS256."""
    from shared.auth import TokenIssuer
    from shared.keys import KeyProblem

    settings = _settings()
    if ttl > settings.jwt_max_ttl:
        raise click.BadParameter(
            f"{ttl} s is longer than BOOSTER_JWT_MAX_TTL ({settings.jwt_max_ttl} s).",
            param_hint="'--ttl'",
        )
    if not sub.strip():
        raise click.BadParameter("the subject must not be blank.", param_hint="'--sub'")
    try:
        issuer = TokenIssuer.from_settings(settings)
    except (ValueError, KeyProblem) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(issuer.mint(sub, scope, ttl=ttl))


@main.group()
def keys() -> None:
    """Signing keys of asymmetric tokens (EdDSA, RS256) and the JWKS services verify with."""


@keys.command("generate")
@click.option(
    "--algorithm", type=click.Choice(["EdDSA", "RS256"]), default="EdDSA", show_default=True
)
@click.option(
    "--private-key",
    "private_key",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="New file for the private key (mode 0600): the issuer's only.",
)
@click.option(
    "--jwks",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The key set to add the public key to (created if missing): every service's.",
)
def keys_generate(algorithm: str, private_key: Path, jwks: Path) -> None:
    """Make a signing key and publish its public half. Rotation: generate a new key into
    the same JWKS, point BOOSTER_JWT_PRIVATE_KEY at it, and remove the old kid once
    BOOSTER_JWT_MAX_TTL has passed."""
    from shared.keys import (
        KeyProblem,
        add_key,
        generate_private_key,
        public_jwk,
        read_jwks,
        write_jwks,
        write_private_key,
    )

    if private_key.exists():
        raise click.ClickException(f"{private_key} exists: keys are never overwritten")
    try:
        key_set = read_jwks(jwks)
    except KeyProblem as exc:
        raise click.ClickException(f"{jwks}: {exc}") from exc
    key = generate_private_key(algorithm)
    jwk = public_jwk(key)
    write_private_key(private_key, key)
    write_jwks(jwks, add_key(key_set, jwk))
    click.echo(jwk["kid"])


@keys.command("remove")
@click.argument("kid")
@click.option("--jwks", type=click.Path(dir_okay=False, path_type=Path), required=True)
def keys_remove(kid: str, jwks: Path) -> None:
    """Remove a retired key from the key set (its tokens stop verifying)."""
    from shared.keys import KeyProblem, read_jwks, remove_key, write_jwks

    try:
        write_jwks(jwks, remove_key(read_jwks(jwks), kid))
    except KeyProblem as exc:
        raise click.ClickException(f"{jwks}: {exc}") from exc


@main.group()
def broker() -> None:
    """The broker's users, permissions and topology (RabbitMQ)."""


@broker.command("setup")
@click.option("--rabbitmqctl", default="rabbitmqctl", show_default=True, help="Its path.")
@click.option("--node", default=None, help="The RabbitMQ node (rabbitmqctl -n).")
def broker_setup(rabbitmqctl: str, node: str | None) -> None:
    """Declare the exchange and every queue as BOOSTER_BROKER_URL's (admin) user, then
    give each service its own user (from BOOSTER_<SERVICE>_BROKER_URL) that may publish
    only its own event types to the exchange and its retries to its own queues, and
    consume only its own queue. Rerun-safe."""
    from booster.broker_setup import BrokerSetupError, Rabbitmqctl, setup

    settings = _settings()
    _require_broker(settings, "booster broker setup")
    try:
        for line in setup(settings, Rabbitmqctl(rabbitmqctl, node)):
            click.echo(line)
    except BrokerSetupError as exc:
        raise click.ClickException(str(exc)) from exc


@broker.command("definitions")
@click.option(
    "--admin/--no-admin",
    default=True,
    show_default=True,
    help="Include BOOSTER_BROKER_URL's user as administrator (a new broker has no other).",
)
def broker_definitions(admin: bool) -> None:
    """Print the same users, permissions and topology as RabbitMQ definitions (JSON),
    for a broker that loads them at boot (``load_definitions``, e.g. under compose)."""
    from booster.broker_setup import BrokerSetupError, definitions

    settings = _settings()
    _require_broker(settings, "booster broker definitions")
    try:
        click.echo(json.dumps(definitions(settings, include_admin=admin), indent=2))
    except BrokerSetupError as exc:
        raise click.ClickException(str(exc)) from exc


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
@click.option("--registry-url", default=None, help="Default: http://BOOSTER_HOST:8001.")
@click.option("--mentoring-url", default=None, help="Default: http://BOOSTER_HOST:8002.")
@click.option("--events-url", default=None, help="Default: http://BOOSTER_HOST:8003.")
@click.option(
    "--port-offset",
    type=click.IntRange(0, 50000),
    default=0,
    help="Added to the default ports (as with `booster run --port-offset`).",
)
@click.option(
    "--wait",
    type=click.FloatRange(0, 600),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the registry's people to reach mentoring through the bus.",
)
def seed(
    registry_url: str | None,
    mentoring_url: str | None,
    events_url: str | None,
    port_offset: int,
    wait: float,
) -> None:
    """Load the 2021 programme through the APIs (rerun-safe): the countries' policy
    context, 12 clusters with their governance teams, 13 mentors, "Cluster Mentoring
    Reloaded" with its enrolments, 13 pairs and 3 joint meetings, and its events."""
    from booster.seed import Clients, SeedError
    from booster.seed import seed as load_demo_data

    settings = _settings()
    given = {"registry": registry_url, "mentoring": mentoring_url, "events": events_url}
    urls = {name: url or _local_url(settings, name, port_offset) for name, url in given.items()}
    try:
        clients = Clients.for_settings(urls, settings)
    except ValueError as exc:
        raise click.ClickException(f"seed failed: {exc}") from exc
    try:
        report = load_demo_data(clients, wait=wait)
    except SeedError as exc:
        raise click.ClickException(f"seed failed: {exc}") from exc
    finally:
        clients.close()
    for name, url in urls.items():
        click.echo(f"{name:<10} {url}")
    click.echo(report.summary())
    if report.programme_id:
        click.echo(f"report: {urls['mentoring']}/api/v1/programmes/{report.programme_id}/report")


def _local_url(settings: Settings, service: str, port_offset: int = 0) -> str:
    """The URL a client on this machine reaches ``service`` at (BOOSTER_HOST; a wildcard
    bind address is reached on loopback)."""
    from booster.platform import spec

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{spec(service).port + port_offset}"


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
