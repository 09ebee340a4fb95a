"""``booster broker setup``: the topology, and one least-privilege broker user per service.

``BOOSTER_BROKER_URL`` names the operator's (administrator's) user: it declares the
exchange, every subscribing service's queues (from the services' subscriptions,
``ServiceSpec.subscribes``) and their requeue exchanges. Each service then gets the user
of its ``BOOSTER_<SERVICE>_BROKER_URL`` (name and password are taken from that URL), in
the same virtual host, allowed exactly this (RabbitMQ's regular expressions):

- **configure**: nothing (``^$``): it declares and deletes nothing; its worker only
  checks, passively, that what it needs exists;
- **write**: the exchange (``booster.events``), and its own requeue exchange
  (``booster.<service>.requeue``), which routes only to its own retry, dead and main
  queues; not the default exchange, through which it could reach any queue;
- **topic write** on the exchange: routing keys of its own event types only
  (``^<service>\\.``, from the event catalogue), so it cannot pass for another service;
- **read**: its own queue ``booster.<service>`` only (consuming any other is
  ``ACCESS_REFUSED``); a service without subscriptions reads nothing.

Users and permissions go to RabbitMQ as definitions (``rabbitmqctl import_definitions``,
password hashes only, never a password on a command line); the same document, with the
topology and the administrator, is what a new broker loads at boot (``booster broker
definitions``, e.g. under compose). Rerunning applies the same again (new passwords
included).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from booster.bootstrap import platform_topologies
from booster.catalogue import platform_catalogue
from booster.platform import SERVICE_NAMES
from shared.bus.connection import check_broker, connect
from shared.bus.topology import Topology, declare_exchange, queue_name, requeue_exchange_name
from shared.config import BusSettings, Settings

NOTHING = "^$"
WAIT_SECONDS = 30.0
HASHING = "rabbit_password_hashing_sha256"


class BrokerSetupError(RuntimeError):
    """The setup cannot be done as configured, or RabbitMQ refused it."""


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    vhost: str


def credentials(url: str) -> Credentials:
    """The user, password and virtual host of an ``amqp://`` URL (the first of several)."""
    parts = urlsplit(url.split(";")[0].strip())
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return Credentials(
        user=unquote(parts.username or "guest"),
        password=unquote(parts.password or ""),
        vhost=unquote(path) or "/",
    )


@dataclass(frozen=True)
class Grant:
    """What one service's broker user may do."""

    service: str
    user: str
    password: str
    vhost: str
    exchange: str
    configure: str
    write: str
    read: str
    topic_write: str


def grants(settings: Settings, services: Sequence[str] = SERVICE_NAMES) -> list[Grant]:
    """Each service's grant, from its ``BOOSTER_<SERVICE>_BROKER_URL`` and the catalogue."""
    missing = [name for name in services if name not in settings.service_broker_urls]
    if missing:
        names = ", ".join(f"BOOSTER_{name.upper()}_BROKER_URL" for name in missing)
        raise BrokerSetupError(f"every service needs its own broker user; not set: {names}")
    admin = credentials(settings.bus.broker_url)
    exchange = settings.bus.exchange
    subscribers = {topology.service for topology in platform_topologies(settings.bus)}
    publishers = {event_type.service for event_type in platform_catalogue()}
    found: list[Grant] = []
    for service in services:
        own = credentials(settings.service_broker_urls[service])
        if own.user == admin.user:
            raise BrokerSetupError(
                f"BOOSTER_{service.upper()}_BROKER_URL uses {own.user!r}, the user of "
                "BOOSTER_BROKER_URL: each service needs a user of its own"
            )
        if own.user in {grant.user for grant in found}:
            raise BrokerSetupError(f"two services share the broker user {own.user!r}")
        if own.vhost != admin.vhost:
            raise BrokerSetupError(
                f"BOOSTER_{service.upper()}_BROKER_URL is on virtual host {own.vhost!r}, "
                f"the topology on {admin.vhost!r}"
            )
        if not own.password:
            raise BrokerSetupError(f"BOOSTER_{service.upper()}_BROKER_URL has no password")
        writes = [exchange]
        if service in subscribers:
            writes.append(requeue_exchange_name(service, exchange))
        found.append(
            Grant(
                service=service,
                user=own.user,
                password=own.password,
                vhost=own.vhost,
                exchange=exchange,
                configure=NOTHING,
                write=_exactly(writes),
                read=_exactly([queue_name(service, exchange)])
                if service in subscribers
                else NOTHING,
                topic_write=f"^{re.escape(service)}\\." if service in publishers else NOTHING,
            )
        )
    return found


def _exactly(names: Sequence[str]) -> str:
    return "^(" + "|".join(re.escape(name) for name in names) + ")$"


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's salted SHA-256 password hash (``rabbit_password_hashing_sha256``)."""
    salt = salt if salt is not None else os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def user_definitions(found: Sequence[Grant]) -> dict[str, Any]:
    """The users and their permissions as RabbitMQ definitions (hashes, no passwords)."""
    return {
        "users": [
            {
                "name": grant.user,
                "password_hash": password_hash(grant.password),
                "hashing_algorithm": HASHING,
                "tags": [],
            }
            for grant in found
        ],
        "permissions": [
            {
                "user": grant.user,
                "vhost": grant.vhost,
                "configure": grant.configure,
                "write": grant.write,
                "read": grant.read,
            }
            for grant in found
        ],
        "topic_permissions": [
            {
                "user": grant.user,
                "vhost": grant.vhost,
                "exchange": grant.exchange,
                "write": grant.topic_write,
                "read": NOTHING,
            }
            for grant in found
        ],
    }


def topology_definitions(bus: BusSettings, vhost: str) -> dict[str, Any]:
    """The exchange, queues and bindings (as ``Topology.declare`` makes them)."""
    exchanges = [_exchange(bus.exchange, "topic", vhost)]
    queues: list[dict[str, Any]] = []
    bindings: list[dict[str, Any]] = []
    for topology in platform_topologies(bus):
        requeue = topology.requeue_exchange.name
        exchanges.append(_exchange(requeue, "direct", vhost))
        for queue in topology.all_queues():
            queues.append(
                {
                    "name": queue.name,
                    "vhost": vhost,
                    "durable": True,
                    "auto_delete": False,
                    "arguments": dict(getattr(queue, "queue_arguments", None) or {}),
                }
            )
            keys = [(requeue, queue.name)]
            keys += [(bus.exchange, b.routing_key) for b in (queue.bindings or ())]
            bindings += [
                {
                    "source": source,
                    "vhost": vhost,
                    "destination": queue.name,
                    "destination_type": "queue",
                    "routing_key": key,
                    "arguments": {},
                }
                for source, key in keys
            ]
    return {"exchanges": exchanges, "queues": queues, "bindings": bindings}


def _exchange(name: str, kind: str, vhost: str) -> dict[str, Any]:
    return {
        "name": name,
        "vhost": vhost,
        "type": kind,
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": {},
    }


def definitions(settings: Settings, *, include_admin: bool = True) -> dict[str, Any]:
    """Everything a new broker needs, to load at boot: (the administrator,) the service
    users and their permissions, the virtual host and the topology."""
    found = grants(settings)
    admin = credentials(settings.bus.broker_url)
    document = user_definitions(found)
    if include_admin:
        document["users"].insert(
            0,
            {
                "name": admin.user,
                "password_hash": password_hash(admin.password),
                "hashing_algorithm": HASHING,
                "tags": ["administrator"],
            },
        )
        document["permissions"].insert(
            0,
            {
                "user": admin.user,
                "vhost": admin.vhost,
                "configure": ".*",
                "write": ".*",
                "read": ".*",
            },
        )
    return {
        "vhosts": [{"name": admin.vhost}],
        **document,
        **topology_definitions(settings.bus, admin.vhost),
    }


class Rabbitmqctl:
    """RabbitMQ's own command line (on the broker's machine, or with its Erlang cookie)."""

    def __init__(self, command: str = "rabbitmqctl", node: str | None = None) -> None:
        self.command = [command, *(["-n", node] if node else [])]

    def run(self, *args: str, stdin: str | None = None) -> str:
        try:
            done = subprocess.run(
                [*self.command, "-q", *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrokerSetupError(f"{self.command[0]} {args[0]}: {exc}") from exc
        if done.returncode != 0:
            error = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise BrokerSetupError(f"{self.command[0]} {args[0]} failed: {' '.join(error)}")
        return done.stdout

    def import_definitions(self, document: Mapping[str, Any]) -> None:
        self.run("import_definitions", "--format", "json", stdin=json.dumps(document))

    def export_definitions(self) -> dict[str, Any]:
        exported = json.loads(self.run("export_definitions", "-", "--format", "json") or "{}")
        return exported if isinstance(exported, dict) else {}

    def users(self) -> set[str]:
        return {row["user"] for row in _json_rows(self.run("list_users", "--formatter", "json"))}

    def delete_user(self, user: str) -> None:
        self.run("delete_user", user)


def _json_rows(output: str) -> list[dict[str, str]]:
    text = output.strip()
    rows = json.loads(text) if text else []
    return [row for row in rows if isinstance(row, dict)]


def declare_topology(settings: Settings) -> int:
    """Declare the exchange and every subscribing service's queues as the administrator;
    the number of queues."""
    bus = replace(settings.bus, declare=True)
    topologies: list[Topology] = platform_topologies(bus)
    with connect(bus) as connection:
        declare_exchange(connection, bus)
        for topology in topologies:
            topology.declare(connection)
    return sum(len(topology.all_queues()) for topology in topologies)


def setup(settings: Settings, ctl: Rabbitmqctl, *, wait: float = WAIT_SECONDS) -> Iterator[str]:
    """Declare the topology, create or update each service's user; yield what was done."""
    found = grants(settings)  # every check before anything changes on the broker
    queues = declare_topology(settings)
    yield f"exchange {settings.bus.exchange}: {queues} queues declared"
    ctl.import_definitions(user_definitions(found))
    deadline = time.monotonic() + wait
    while True:  # the import runs asynchronously
        exported = ctl.export_definitions()
        pending = [grant.user for grant in found if not _applied(exported, grant)]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise BrokerSetupError(f"the permissions of {', '.join(pending)} did not appear")
        time.sleep(0.2)
    for grant in found:
        url = settings.service_broker_urls[grant.service]
        while True:  # the password of a user that existed is updated asynchronously too
            try:
                check_broker(BusSettings(broker_url=url), timeout=2.0)
                break
            except Exception as exc:  # noqa: BLE001 - refused while the import runs
                if time.monotonic() > deadline:
                    raise BrokerSetupError(f"{grant.user!r} cannot connect: {exc!r}") from exc
                time.sleep(0.2)
        yield (
            f"{grant.service}: user {grant.user} on vhost {grant.vhost}: configure "
            f"{grant.configure} write {grant.write} read {grant.read}; publishes "
            f"{grant.topic_write} on {grant.exchange}"
        )


def _applied(exported: Mapping[str, Any], grant: Grant) -> bool:
    """Whether the broker's definitions hold ``grant`` (user, permissions, topic)."""
    if not any(user.get("name") == grant.user for user in exported.get("users", [])):
        return False
    wanted = {"configure": grant.configure, "write": grant.write, "read": grant.read}
    permissions = [
        p
        for p in exported.get("permissions", [])
        if p.get("user") == grant.user and p.get("vhost") == grant.vhost
    ]
    if not permissions or any(permissions[0].get(k) != v for k, v in wanted.items()):
        return False
    return any(
        t.get("user") == grant.user
        and t.get("vhost") == grant.vhost
        and t.get("exchange") == grant.exchange
        and t.get("write") == grant.topic_write
        for t in exported.get("topic_permissions", [])
    )
