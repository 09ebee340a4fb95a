"""Broker least privilege on the real RabbitMQ: ``booster broker setup`` gives each
service a user of its own that may consume only its own queue, publish only its own
event types, and reach its own retry and dead-letter queues only through its own requeue
exchange; the platform runs on those users.

Each test works in a virtual host of its own (deleted afterwards, with every queue in
it), with the platform's real names (``booster.events``, ``booster.<service>``), and
deletes the users it made."""

from __future__ import annotations

import json
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import amqp
import pytest
from click.testing import CliRunner

from booster.bootstrap import load_settings
from booster.broker_setup import (
    BrokerSetupError,
    Rabbitmqctl,
    credentials,
    definitions,
    grants,
)
from booster.cli import main
from booster.platform import SERVICE_NAMES
from shared.config import BusSettings, ConfigError, Settings
from tests.conftest import TEST_SECRET
from tests.integration.conftest import eventually, running_platform

pytestmark = pytest.mark.broker


@dataclass
class Broker:
    """A virtual host of this test's own, its administrator's URL and user maker."""

    admin_url: str
    vhost: str
    host: str
    port: int
    ctl: Rabbitmqctl
    users: list[str]

    def url(self, user: str, password: str) -> str:
        vhost = quote(self.vhost, safe="")
        return f"amqp://{quote(user)}:{quote(password)}@{self.host}:{self.port}/{vhost}"

    def service_urls(self) -> dict[str, str]:
        """A new user (unique name, random password) for every service."""
        tag = uuid.uuid4().hex[:8]
        urls = {}
        for service in SERVICE_NAMES:
            user = f"booster-test-{tag}-{service}"
            self.users.append(user)
            urls[service] = self.url(user, secrets.token_urlsafe(16))
        return urls

    def env(self, urls: dict[str, str]) -> dict[str, str]:
        return {
            "BOOSTER_BROKER_URL": self.admin_url,
            "BOOSTER_JWT_SECRET": TEST_SECRET,
            "BOOSTER_RETRY_DELAYS": "0.2,0.4",
            **{f"BOOSTER_{service.upper()}_BROKER_URL": url for service, url in urls.items()},
        }


@pytest.fixture
def broker(broker_url: str, tmp_path: Path) -> Iterator[Broker]:
    assert shutil.which("rabbitmqctl"), "rabbitmqctl is needed (the broker runs here)"
    parts = urlsplit(broker_url)
    assert parts.hostname in ("127.0.0.1", "localhost"), "rabbitmqctl reaches local nodes"
    admin = credentials(broker_url)
    ctl = Rabbitmqctl()
    vhost = f"booster-test-{uuid.uuid4().hex[:8]}"
    ctl.run("add_vhost", vhost)
    found = Broker("", vhost, parts.hostname, parts.port or 5672, ctl, [])
    found.admin_url = found.url(admin.user, admin.password)
    try:
        ctl.run("set_permissions", "-p", vhost, admin.user, ".*", ".*", ".*")
        yield found
    finally:
        existing = ctl.users()
        for user in found.users:
            if user in existing:
                ctl.delete_user(user)
        ctl.run("delete_vhost", vhost)


def connect_as(url: str) -> amqp.Connection:
    parts = urlsplit(url)
    connection = amqp.Connection(
        f"{parts.hostname}:{parts.port}",
        userid=credentials(url).user,
        password=credentials(url).password,
        virtual_host=credentials(url).vhost,
        confirm_publish=True,
    )
    connection.connect()
    return connection


def attempt(url: str, action: Callable[[amqp.Channel], Any]) -> str:
    """``ok`` or the broker's refusal (its reply code and text)."""
    connection = connect_as(url)
    try:
        action(connection.channel())
        return "ok"
    except amqp.exceptions.AMQPError as exc:
        return f"{exc.reply_code} {exc.reply_text}"
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closed by the broker already
            pass


def setup_with_cli(broker: Broker, urls: dict[str, str]) -> list[str]:
    result = CliRunner().invoke(main, ["broker", "setup"], env=broker.env(urls))
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def message(body: str = "{}") -> amqp.Message:
    return amqp.Message(body, delivery_mode=2)


def test_each_service_user_is_refused_outside_its_own(
    broker: Broker, cli_env: dict[str, str]
) -> None:
    urls = broker.service_urls()
    lines = setup_with_cli(broker, urls)
    assert lines[0].startswith("exchange booster.events:")
    assert [line.split(":")[0] for line in lines[1:]] == list(SERVICE_NAMES)
    notifications, mentoring, registry, events = (
        urls["notifications"],
        urls["mentoring"],
        urls["registry"],
        urls["events"],
    )
    refused = "403 ACCESS_REFUSED"

    # consuming: its own queue only
    assert attempt(notifications, lambda c: c.basic_consume("booster.notifications")) == "ok"
    for other in ("booster.mentoring", "booster.events", "booster.notifications.dead"):
        assert attempt(notifications, lambda c, q=other: c.basic_consume(q)).startswith(refused)
        assert attempt(notifications, lambda c, q=other: c.basic_get(q)).startswith(refused)
    assert attempt(mentoring, lambda c: c.basic_get("booster.notifications")).startswith(refused)
    assert attempt(registry, lambda c: c.basic_get("booster.registry.dead")) != "ok"

    # publishing: its own event types to the exchange, nothing to the default exchange
    own = lambda c: c.basic_publish(message(), "booster.events", "registry.person.registered")  # noqa: E731
    assert attempt(registry, own) == "ok"
    forged = lambda c: c.basic_publish(message(), "booster.events", "mentoring.pair.matched")  # noqa: E731
    assert attempt(registry, forged).startswith(refused)
    direct = lambda c: c.basic_publish(message(), "", "booster.notifications")  # noqa: E731
    assert attempt(registry, direct).startswith(refused)
    assert attempt(mentoring, direct).startswith(refused)

    # its retries and dead letters: through its own requeue exchange only
    retry = "booster.mentoring.retry.200ms"
    assert (
        attempt(mentoring, lambda c: c.basic_publish(message(), "booster.mentoring.requeue", retry))
        == "ok"
    )
    other_requeue = lambda c: c.basic_publish(  # noqa: E731
        message(), "booster.notifications.requeue", "booster.notifications"
    )
    assert attempt(mentoring, other_requeue).startswith(refused)

    # configuring: nothing (no declaring, binding, deleting; not even its own queue)
    assert attempt(events, lambda c: c.queue_delete("booster.mentoring")).startswith(refused)
    assert attempt(events, lambda c: c.queue_delete("booster.events")).startswith(refused)
    assert attempt(events, lambda c: c.exchange_delete("booster.events")).startswith(refused)
    assert attempt(events, lambda c: c.queue_declare("mine", durable=True)).startswith(refused)
    # the events service's queue has the exchange's name: binding it to everything is
    # still refused (topic permissions: it reads no routing key)
    bind_all = lambda c: c.queue_bind("booster.events", "booster.events", "#")  # noqa: E731
    assert attempt(events, bind_all).startswith(refused)

    # the retry copy went where the requeue exchange routes it, and returns to the queue
    admin = connect_as(broker.admin_url)
    try:
        channel = admin.channel()
        deadline = time.monotonic() + 10
        returned = None
        while returned is None and time.monotonic() < deadline:
            returned = channel.basic_get("booster.mentoring", no_ack=True)
            time.sleep(0.05)
        assert returned is not None, "the retry did not come back to booster.mentoring"
    finally:
        admin.close()

    # rerun-safe: the same again, with a new password for one service
    user = credentials(registry).user
    renewed = {**urls, "registry": broker.url(user, "a-new-password-" + secrets.token_hex(8))}
    setup_with_cli(broker, renewed)
    assert attempt(renewed["registry"], lambda c: None) == "ok"
    with pytest.raises(amqp.exceptions.AccessRefused):
        connect_as(registry)


def test_the_platform_runs_on_its_own_users(
    broker: Broker, cli_env: dict[str, str], postgres_admin_url: str, tmp_path: Path
) -> None:
    """Registry → events on least-privilege users: the registry's relay publishes, the
    events service's consumer (and its relay) work, and neither declares anything."""
    urls = broker.service_urls()
    setup_with_cli(broker, urls)
    settings = load_settings({**broker.env(urls), "BOOSTER_VAR_DIR": str(tmp_path)})
    assert settings.for_service("events").bus.declare is False
    bus = settings.bus
    with running_platform(
        ("registry", "events"),
        postgres_admin_url,
        bus,
        tmp_path,
        service_broker_urls=settings.service_broker_urls,
    ) as platform:
        registry, events = platform["registry"], platform["events"]
        assert registry.runtime.settings.bus.broker_url == urls["registry"]
        person = registry.client.post(
            "/api/v1/people",
            json={"name": "Karim Haddad", "email": "karim@example.org", "language": "ar"},
            headers=registry.headers("registry:write"),
        )
        assert person.status_code == 201, person.get_json()
        person_id = person.get_json()["id"]

        def known() -> bool:
            with events.runtime.uow.read() as tx:
                return tx.people.get(person_id) is not None

        eventually(known)
        ready = events.client.get("/readyz", headers=events.headers("ops:read")).get_json()
        assert ready["checks"]["broker"] == "ok"


def test_setup_refuses_what_would_not_be_least_privilege() -> None:
    admin_url = "amqp://admin:secret@127.0.0.1:5672/platform"
    urls = {name: f"amqp://{name}:pw-{name}@127.0.0.1:5672/platform" for name in SERVICE_NAMES}
    cases = {
        "every service": {k: v for k, v in urls.items() if k != "events"},
        "user of BOOSTER_BROKER_URL": {**urls, "events": admin_url},
        "share the broker user": {**urls, "events": urls["registry"]},
        "virtual host": {**urls, "events": "amqp://events:pw@127.0.0.1:5672/elsewhere"},
        "no password": {**urls, "events": "amqp://events@127.0.0.1:5672/platform"},
    }
    bus = BusSettings(broker_url=admin_url)
    for reason, service_urls in cases.items():
        settings = Settings(
            environment="test", jwt_secret=TEST_SECRET, bus=bus, service_broker_urls=service_urls
        )
        with pytest.raises(BrokerSetupError, match=reason):
            grants(settings)
    settings = Settings(
        environment="test", jwt_secret=TEST_SECRET, bus=bus, service_broker_urls=urls
    )
    assert {grant.user for grant in grants(settings)} == set(SERVICE_NAMES)


def test_definitions_for_a_new_broker(broker: Broker, tmp_path: Path) -> None:
    """What compose loads at boot: users with hashed passwords, permissions, topology;
    imported here into the test's virtual host, it gives the same refusals."""
    urls = broker.service_urls()
    settings = load_settings({**broker.env(urls), "BOOSTER_VAR_DIR": str(tmp_path)})
    document = definitions(settings, include_admin=True)
    text = json.dumps(document)
    for url in urls.values():
        assert credentials(url).password not in text
    assert '"password"' not in text  # hashes only
    assert [u["name"] for u in document["users"]][0] == credentials(broker.admin_url).user
    assert document["users"][0]["tags"] == ["administrator"]
    queues = {queue["name"]: queue for queue in document["queues"]}
    assert queues["booster.notifications"]["arguments"]["x-queue-type"] == "quorum"
    assert {"booster.events", "booster.mentoring.requeue"} <= {
        e["name"] for e in document["exchanges"]
    }
    by_user = {p["user"]: p for p in document["permissions"]}
    assert by_user[credentials(urls["events"]).user]["read"] == "^(booster\\.events)$"

    # the broker here already has its administrator: import the rest
    broker.ctl.import_definitions(definitions(settings, include_admin=False))
    events_user = urls["events"]
    deadline = time.monotonic() + 30
    while attempt(events_user, lambda c: c.queue_declare("booster.events", passive=True)) != "ok":
        assert time.monotonic() < deadline, "the definitions were not imported"
        time.sleep(0.2)
    assert attempt(events_user, lambda c: c.basic_consume("booster.events")) == "ok"
    refused = attempt(events_user, lambda c: c.basic_consume("booster.notifications"))
    assert refused.startswith("403 ACCESS_REFUSED")


def test_the_cli_needs_a_real_broker(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["broker", "setup"], env=cli_env)
    assert result.exit_code == 1 and "needs a real broker" in result.output


def test_a_service_broker_url_must_name_a_user(tmp_path: Path) -> None:
    env = {"BOOSTER_VAR_DIR": str(tmp_path), "BOOSTER_EVENTS_BROKER_URL": "amqp://host//"}
    with pytest.raises(ConfigError, match="BOOSTER_EVENTS_BROKER_URL"):
        load_settings(env)
    with pytest.raises(ConfigError, match="BOOSTER_EVENTS_BROKER_URL"):
        load_settings({**env, "BOOSTER_EVENTS_BROKER_URL": "memory://"})
