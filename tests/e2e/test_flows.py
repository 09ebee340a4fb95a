"""The design's six flows over HTTP, against the platform as real OS processes.

Parametrised over how the platform runs:

- ``processes``: ``booster serve`` (gunicorn) and ``booster worker`` for each of the four
  services, on PostgreSQL databases of the test's own and the real RabbitMQ (an exchange,
  hence queues, of the test's own); an independent subscriber (pika, its own exclusive
  queue bound to the exchange with ``#``) sees every event and checks each is a valid
  CloudEvent (envelope, AMQP properties, data against the catalogue);
- ``embedded``: ``booster run`` on its defaults (SQLite, the in-process bus).

In the test process: an SMTP server (aiosmtpd) and a webhook receiver. Everything is
driven through the services' HTTP APIs, as a frontend would:

1. people registered in the registry are welcomed in their language; mentoring and
   events learn of them (enrolment and registration accept them);
2. a pair is matched and confirmed: mentor and mentee are told, each in their language;
3. a joint meeting scheduled in mentoring becomes a published online event with both
   registered; each gets an invitation with an ``.ics``;
4. a full business trip: a cancelled registration promotes the first on the waitlist,
   who is told (with an ``.ics``); the one who cancelled gets the cancellation;
5. the mentee's cluster is deactivated: the pair ends and both are told;
6. every event reaches the webhook subscribed to everything, signed (Standard
   Webhooks), once; a receiver that fails once gets its delivery on the retry.

Then, once everything has settled: every email and every inbox entry arrived once (each
is one notification record of the service: one per event, person and channel), each
webhook delivery once; in ``processes`` mode the webhook saw exactly the events that
the independent subscriber saw.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pika
import pytest
import requests
from aiosmtpd.controller import Controller
from icalendar import Calendar
from standardwebhooks import Webhook

from booster.catalogue import platform_catalogue
from shared.config import BusSettings
from shared.events import CloudEvent
from tests.e2e.running import Platform, embedded, separate_processes
from tests.integration.conftest import eventually
from tests.integration.notifications.conftest import Mailbox, Received, Receiver, free_port

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
EVERYTHING = ["registry.#", "mentoring.#", "events.#", "notifications.#"]


# -- what the test process runs: SMTP, a webhook receiver, an independent subscriber ----
@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, str]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@dataclass
class Heard:
    routing_key: str
    properties: Any
    body: bytes


@dataclass
class Subscriber:
    """Another system's view of the platform: its own exclusive queue, bound to the
    exchange with ``#`` (pika; nothing of the platform's code)."""

    url: str
    exchange: str
    heard: list[Heard] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        parts = urlsplit(self.url)  # kombu's amqp://.../ (vhost "/" as "//")
        connection = pika.BlockingConnection(
            pika.ConnectionParameters(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 5672,
                virtual_host=unquote(parts.path[1:]) or "/",
                credentials=pika.PlainCredentials(
                    unquote(parts.username or "guest"), unquote(parts.password or "guest")
                ),
            )
        )
        channel = connection.channel()
        # the platform's own declaration (idempotent), so the binding holds from the start
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue, self.exchange, routing_key="#")

        def on_message(ch: Any, method: Any, properties: Any, body: bytes) -> None:
            with self.lock:
                self.heard.append(Heard(method.routing_key, properties, body))
            ch.basic_ack(method.delivery_tag)

        channel.basic_consume(queue, on_message)
        self._stop = lambda: connection.add_callback_threadsafe(channel.stop_consuming)
        self.ready.set()
        try:
            channel.start_consuming()
        finally:
            connection.close()  # the exclusive queue goes with the connection

    def stop(self) -> None:
        self._stop()

    def events(self) -> list[Heard]:
        with self.lock:
            return list(self.heard)


@pytest.fixture
def subscriber(request: pytest.FixtureRequest) -> Iterator[Subscriber | None]:
    """In ``processes`` mode, an independent subscriber on the test's exchange."""
    if request.node.callspec.params["platform"] != "processes":
        yield None
        return
    bus: BusSettings = request.getfixturevalue("bus_settings")
    listener = Subscriber(bus.broker_url, bus.exchange)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    assert listener.ready.wait(15), "the subscriber did not start"
    try:
        yield listener
    finally:
        listener.stop()
        thread.join(15)
        assert not thread.is_alive()


@pytest.fixture(params=["processes", "embedded"])
def platform(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    mailbox: tuple[Mailbox, str],
    subscriber: Subscriber | None,
) -> Iterator[Platform]:
    settings = {"BOOSTER_SMTP_URL": mailbox[1], "BOOSTER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
    if request.param == "embedded":
        with embedded(tmp_path, **settings) as running:
            yield running
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    bus: BusSettings = request.getfixturevalue("bus_settings")
    # retries sooner than the defaults (a meeting whose people are not known yet waits
    # for them), and enough of them
    bus = BusSettings(
        broker_url=bus.broker_url, exchange=bus.exchange, retry_delays=(0.1, 0.2), max_attempts=8
    )
    with separate_processes(tmp_path, admin_url, bus, **settings) as running:
        yield running


# -- HTTP ----------------------------------------------------------------------------
class Api:
    """The platform's APIs with an admin token (a frontend's view)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.http = requests.Session()
        self.http.trust_env = False

    def call(
        self,
        service: str,
        method: str,
        path: str,
        expect: int | tuple[int, ...] = (200, 201),
        *,
        sub: str = "e2e",
        scope: str = "admin",
        **kwargs: Any,
    ) -> Any:
        response = self.answer(service, method, path, sub=sub, scope=scope, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in expected, (method, path, response.text)
        return response.json() if response.content else None

    def answer(
        self,
        service: str,
        method: str,
        path: str,
        *,
        sub: str = "e2e",
        scope: str = "admin",
        **kwargs: Any,
    ) -> requests.Response:
        url = self.platform.urls[service] + path
        headers = {**self.platform.headers(scope, sub), **kwargs.pop("headers", {})}
        return self.http.request(method, url, headers=headers, timeout=15, **kwargs)

    def items(self, service: str, path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = self.call(service, "GET", path, 200, params=params)
            found += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return found

    def until(self, service: str, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        """Call until it answers ``expect`` (a read copy fed by events may lag)."""
        answers: list[requests.Response] = []

        def done() -> bool:
            answers.append(self.answer(service, method, path, **kwargs))
            return answers[-1].status_code == expect

        eventually(done, timeout=30)
        return answers[-1].json()


# -- the flows ------------------------------------------------------------------------
def _mails(box: Mailbox, address: str, event_type: str | None = None) -> list[EmailMessage]:
    return [m for m in box.to(address) if event_type in (None, m["X-Booster-Event-Type"])]


def _calendar(message: EmailMessage) -> Calendar:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


def _html(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def test_the_six_flows_over_http(
    platform: Platform,
    mailbox: tuple[Mailbox, str],
    receiver: Receiver,
    subscriber: Subscriber | None,
) -> None:
    box = mailbox[0]
    api = Api(platform)
    today = datetime.now(UTC).date()

    # flow 6 (set up first, so that it sees every event): webhooks
    everything = api.call(
        "notifications",
        "POST",
        "/api/v1/webhooks",
        201,
        json={"url": f"{receiver.url}/all", "types": EVERYTHING, "description": "e2e"},
    )
    receiver.script["/flaky"] = [503, 204]
    flaky = api.call(
        "notifications",
        "POST",
        "/api/v1/webhooks",
        201,
        json={"url": f"{receiver.url}/flaky", "types": ["mentoring.pair.matched"]},
    )
    assert everything["secret"].startswith("whsec_")

    # flow 1: people registered in the registry, each welcomed in their language
    cluster = api.call(
        "registry",
        "POST",
        "/api/v1/clusters",
        201,
        json={"name": "Cluster Marbre", "country": "TN", "kind": "cluster", "sectors": ["stone"]},
    )

    def person(name: str, language: str, **fields: Any) -> str:
        body = {"name": name, "email": _address(name), "language": language, **fields}
        return str(api.call("registry", "POST", "/api/v1/people", 201, json=body)["id"])

    nadia = person("Nadia Mansour", "fr", country="FR", role="cluster_manager")
    youssef = person("Youssef Amrani", "ar", cluster_id=cluster["id"], role="governance_team")
    karim = person("Karim Haddad", "en")
    salma = person("Salma Idrissi", "fr")
    names = {nadia: "Nadia Mansour", youssef: "Youssef Amrani", karim: "Karim Haddad"}
    names[salma] = "Salma Idrissi"
    welcome = "registry.person.registered"
    eventually(lambda: all(_mails(box, _address(n), welcome) for n in names.values()))
    arabic = _mails(box, _address("Youssef Amrani"), welcome)[0]
    assert arabic["Subject"].startswith("مرحبًا") and 'dir="rtl"' in _html(arabic)
    assert _mails(box, _address("Nadia Mansour"), welcome)[0]["Subject"].startswith("Bienvenue")
    assert _mails(box, _address("Karim Haddad"), welcome)[0]["Subject"].startswith("Welcome")

    # flow 2: a programme, both enrolled (once mentoring knows them), matched, confirmed
    programme = api.call(
        "mentoring",
        "POST",
        "/api/v1/programmes",
        201,
        json={
            "name": "Cluster Mentoring Reloaded",
            "edition": "e2e",
            "organiser": "ACCIÓ",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=300)).isoformat(),
            "competencies": ["funding", "internationalisation"],
        },
    )
    pid = programme["id"]
    api.call("mentoring", "POST", f"/api/v1/programmes/{pid}/open", 200)
    wanted = [{"competency": "funding", "level": 2}]
    api.until(
        "mentoring",
        "POST",
        f"/api/v1/programmes/{pid}/enrolments",
        201,
        json={
            "person_id": nadia,
            "role": "mentor",
            "languages": ["fr", "ar"],
            "competencies": [{"competency": "funding", "level": 5}],
        },
    )
    api.until(
        "mentoring",
        "POST",
        f"/api/v1/programmes/{pid}/enrolments",
        201,
        json={"person_id": youssef, "role": "mentee", "languages": ["ar"], "competencies": wanted},
    )
    [proposal] = api.call("mentoring", "POST", f"/api/v1/programmes/{pid}/matching", 200)[
        "proposals"
    ]
    assert (proposal["mentor_id"], proposal["mentee_id"]) == (nadia, youssef)
    pair = api.call("mentoring", "POST", f"/api/v1/pairs/{proposal['id']}/confirm", 200)
    assert pair["status"] == "active"
    matched = "mentoring.pair.matched"
    eventually(
        lambda: (
            bool(_mails(box, _address("Nadia Mansour"), matched))
            and bool(_mails(box, _address("Youssef Amrani"), matched))
        )
    )
    subject = _mails(box, _address("Nadia Mansour"), matched)[0]["Subject"]
    assert subject == "Votre mentoré·e : Youssef Amrani"
    assert 'dir="rtl"' in _html(_mails(box, _address("Youssef Amrani"), matched)[0])

    # flow 3: a joint meeting becomes an online event with both registered and invited
    api.call("mentoring", "POST", f"/api/v1/programmes/{pid}/launch", 200)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    meeting = api.call(
        "mentoring",
        "POST",
        f"/api/v1/programmes/{pid}/meetings",
        201,
        json={
            "title": "Joint meeting: export plans",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "timezone": "Africa/Casablanca",
            "online_link": "https://meet.example.org/export",
        },
    )
    assert set(meeting["person_ids"]) == {nadia, youssef}

    def hosted() -> list[dict[str, Any]]:
        return [
            e
            for e in api.items("events", "/api/v1/events?kind=joint_meeting")
            if e["title"] == "Joint meeting: export plans"
        ]

    eventually(lambda: bool(hosted()))
    [event] = hosted()
    assert event["status"] == "published" and event["format"] == "online"
    registered = api.items("events", f"/api/v1/events/{event['id']}/registrations")
    assert {(r["person_id"], r["status"]) for r in registered} == {
        (nadia, "confirmed"),
        (youssef, "confirmed"),
    }
    confirmed = "events.registration.confirmed"
    invited = [_address("Nadia Mansour"), _address("Youssef Amrani")]
    eventually(lambda: all(_mails(box, address, confirmed) for address in invited))
    for address in invited:
        calendar = _calendar(_mails(box, address, confirmed)[0])
        assert calendar["METHOD"] == "REQUEST"
        [entry] = calendar.walk("VEVENT")
        assert str(entry["UID"]) == f"{event['id']}@booster-track"
        assert entry.decoded("DTSTART") == starts

    # flow 4: a full trip; a cancelled registration promotes the first on the waitlist
    trip_starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    trip = api.call(
        "events",
        "POST",
        "/api/v1/events",
        201,
        json={
            "kind": "business_trip",
            "title": "Business trip to Lyon",
            "format": "in_person",
            "starts_at": trip_starts.isoformat(),
            "ends_at": (trip_starts + timedelta(days=2)).isoformat(),
            "timezone": "Europe/Paris",
            "capacity": 1,
            "city": "Lyon",
            "country": "FR",
        },
    )
    api.call("events", "POST", f"/api/v1/events/{trip['id']}/publish", 200)
    registrations = f"/api/v1/events/{trip['id']}/registrations"
    first = api.until("events", "POST", registrations, 201, json={"person_id": karim})
    second = api.until("events", "POST", registrations, 201, json={"person_id": salma})
    assert (first["status"], second["status"]) == ("confirmed", "waitlisted")
    api.call("events", "POST", f"{registrations}/{first['id']}/cancel", 200, json={})
    promoted = api.call("events", "GET", f"{registrations}/{second['id']}", 200)
    assert promoted["status"] == "confirmed" and promoted["promoted_at"]
    eventually(lambda: bool(_mails(box, _address("Salma Idrissi"), "events.registration.promoted")))
    promotion = _mails(box, _address("Salma Idrissi"), "events.registration.promoted")[0]
    assert promotion["Subject"] == "Une place pour vous : Business trip to Lyon"
    assert _calendar(promotion)["METHOD"] == "REQUEST"
    cancelled = "events.registration.cancelled"
    eventually(lambda: bool(_mails(box, _address("Karim Haddad"), cancelled)))
    assert _calendar(_mails(box, _address("Karim Haddad"), cancelled)[0])["METHOD"] == "CANCEL"

    # flow 5: the mentee's cluster is deactivated; the pair ends; both are told
    api.call("registry", "POST", f"/api/v1/clusters/{cluster['id']}/deactivate", 200, json={})
    eventually(
        lambda: (
            api.call("mentoring", "GET", f"/api/v1/pairs/{pair['id']}", 200)["status"] == "ended"
        )
    )
    ended = "mentoring.pair.ended"
    eventually(lambda: all(_mails(box, address, ended) for address in invited))
    assert _mails(box, _address("Nadia Mansour"), ended)[0]["Subject"] == (
        "Votre binôme avec Youssef Amrani a pris fin"
    )

    # flow 6: the receiver that failed once got its delivery on the retry (back-off: 5 s)
    def delivered(hook: dict[str, Any]) -> list[dict[str, Any]]:
        return api.items("notifications", f"/api/v1/webhooks/{hook['id']}/deliveries")

    eventually(lambda: [d["status"] for d in delivered(flaky)] == ["delivered"], timeout=40)
    [delivery] = delivered(flaky)
    detail = api.call(
        "notifications", "GET", f"/api/v1/webhooks/{flaky['id']}/deliveries/{delivery['id']}"
    )
    assert [(a["number"], a["status_code"], a["ok"]) for a in detail["log"]] == [
        (1, 503, False),
        (2, 204, True),
    ]
    [first_try, retry] = receiver.at("/flaky")
    assert first_try.body == retry.body and _verified(flaky["secret"], retry)["type"] == matched

    # --- everything once ---------------------------------------------------------------
    people = {nadia, youssef, karim, salma}
    _settled(api, box, receiver, everything, people, subscriber)

    expected = {
        nadia: {welcome, "mentoring.enrolment.accepted", matched, confirmed, ended},
        youssef: {welcome, "mentoring.enrolment.accepted", matched, confirmed, ended},
        karim: {welcome, confirmed, cancelled},
        salma: {welcome, "events.registration.waitlisted", "events.registration.promoted"},
    }
    for person_id, types in expected.items():
        records = api.items("notifications", f"/api/v1/recipients/{person_id}/notifications")
        by_channel = {
            channel: [r for r in records if r["channel"] == channel]
            for channel in ("email", "in_app")
        }
        for channel, entries in by_channel.items():
            # one per event, per person and channel: nothing twice
            assert Counter(r["event_type"] for r in entries) == Counter(types), (
                names[person_id],
                channel,
            )
            assert len({r["event_id"] for r in entries}) == len(entries)
        assert {r["event_id"] for r in by_channel["email"]} == {
            r["event_id"] for r in by_channel["in_app"]
        }
        mails = box.to(_address(names[person_id]))
        assert Counter(m["X-Booster-Notification"] for m in mails) == Counter(
            r["id"] for r in by_channel["email"]
        )  # each email arrived once, and each is one the service sent
        assert {r["status"] for r in by_channel["email"]} == {"sent"}

    # the webhook got every event once, each signed; compare with an independent view
    requests_all = receiver.at("/all")
    hooked = [_verified(everything["secret"], request) for request in requests_all]
    ids = [payload["id"] for payload in hooked]
    assert len(ids) == len(set(ids)), "a webhook delivery arrived twice"
    for request, payload in zip(requests_all, hooked, strict=True):
        assert request.headers["webhook-id"] == payload["id"]
        _check_cloud_event(payload)
    types_hooked = Counter(payload["type"] for payload in hooked)
    for event_type in (welcome, matched, confirmed, ended, "registry.cluster.deactivated"):
        assert types_hooked[event_type] >= 1
    assert types_hooked[welcome] == 4
    assert types_hooked["mentoring.pair.matched"] == 1
    if subscriber is not None:
        heard = subscriber.events()
        for message in heard:
            payload = json.loads(message.body)
            _check_cloud_event(payload)
            assert message.routing_key == payload["type"]
            assert message.properties.message_id == payload["id"]
            assert message.properties.content_type == "application/cloudevents+json"
            assert message.properties.delivery_mode == 2  # persistent
        heard_ids = [json.loads(message.body)["id"] for message in heard]
        assert len(heard_ids) == len(set(heard_ids))  # published once each
        assert set(heard_ids) == set(ids)
    platform.alive()


def _address(name: str) -> str:
    return f"{name.split()[0].lower()}@example.org"


def _verified(secret: str, request: Received) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(request.body, request.headers)
    return payload


CATALOGUE = platform_catalogue()
UNCORRELATED = frozenset(
    {
        "notifications.notification.sent",
        "notifications.notification.failed",
        "notifications.webhook.disabled",
    }
)
"""Emitted by the notifications sender's own loop, outside any request or consumed
event: they carry no ``correlationid``/``traceparent`` (yet; the design asks for both on
every event, which would need the sender to keep the cause's correlation)."""


def _check_cloud_event(payload: dict[str, Any]) -> None:
    """A valid CloudEvent 1.0 of the platform: envelope, extensions, catalogued data."""
    event = CloudEvent.from_dict(payload)
    assert payload["specversion"] == "1.0"
    assert str(uuid.UUID(payload["id"])) == payload["id"]
    assert payload["source"] == f"/booster/{payload['type'].split('.')[0]}"
    assert payload["type"] in CATALOGUE
    assert datetime.fromisoformat(payload["time"]).tzinfo is not None
    assert isinstance(payload["subject"], str) and payload["subject"]
    assert payload["datacontenttype"] == "application/json"
    if payload["type"] not in UNCORRELATED:
        assert payload["correlationid"] and payload["traceparent"], payload
    if "traceparent" in payload:
        assert TRACEPARENT.match(payload["traceparent"]), payload["traceparent"]
    CATALOGUE.check(event)  # the data fits the type's schema


def _settled(
    api: Api,
    box: Mailbox,
    receiver: Receiver,
    hook: dict[str, Any],
    people: set[str],
    subscriber: Subscriber | None,
) -> None:
    """Wait until nothing is in flight: every email sent and received, every delivery
    of the catch-all webhook delivered and received, the subscriber (if any) has heard
    what the webhook got; and it stays so for a moment (nothing more trickles in)."""

    def snapshot() -> tuple[int, int, int] | None:
        records = [
            r
            for person_id in people
            for r in api.items("notifications", f"/api/v1/recipients/{person_id}/notifications")
            if r["channel"] == "email"
        ]
        if any(r["status"] != "sent" for r in records) or len(box.messages) != len(records):
            return None
        deliveries = api.items("notifications", f"/api/v1/webhooks/{hook['id']}/deliveries")
        if any(d["status"] != "delivered" for d in deliveries):
            return None
        if len(receiver.at("/all")) != len(deliveries):
            return None
        if subscriber is not None and len(subscriber.events()) != len(deliveries):
            return None
        return len(records), len(deliveries), len(box.messages)

    seen: list[tuple[int, int, int] | None] = []

    def stable() -> bool:
        seen.append(snapshot())
        time.sleep(0.3)
        return seen[-1] is not None and len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]

    eventually(stable, timeout=40)
