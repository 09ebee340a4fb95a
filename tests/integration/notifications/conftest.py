"""The notifications service on SQLite and on PostgreSQL (each test gets a fresh database)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from kombu import Connection

from booster.bootstrap import bootstrap, create_app, create_worker
from booster.catalogue import platform_catalogue
from booster.platform import spec
from booster.testing import ServiceHarness, service_harness
from services.notifications.adapters.outbound import HttpPoster, SmtpMailer
from services.notifications.domain.model import Backoff, DisableRule
from services.notifications.handlers import HANDLERS
from services.notifications.sender import DeliverySender
from shared.bus.consumer import BATCH_ATTRIBUTE
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.bus.topology import topic_matches
from shared.config import BusSettings, Settings
from shared.events import CloudEvent
from shared.migrations import upgrade
from shared.testing import delete_queues
from tests.conftest import TEST_SECRET

READ, WRITE = "notifications:read", "notifications:write"
RW = f"{READ} {WRITE}"


@pytest.fixture
def notifications(database_url: str, tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness("notifications", database_url, tmp_path, TEST_SECRET) as harness:
        harness.runtime.settings = harness.runtime.settings.with_overrides(
            webhook_allowed_hosts=("127.0.0.1",)
        )
        yield harness


def make(event_type: str, subject: str | None = None, **data: Any) -> CloudEvent:
    return platform_catalogue().make_event(event_type, subject=subject, data=data)


def handle(harness: ServiceHarness, *events: CloudEvent) -> None:
    """Run the service's handlers on the events, in one transaction, as its consumer
    would (batch handlers get the run at once)."""
    with harness.runtime.uow.begin() as tx:
        for event_ in events:
            for pattern, handler in HANDLERS.items():
                if topic_matches(pattern, event_.type):
                    if getattr(handler, BATCH_ATTRIBUTE, False):
                        handler([event_], tx)  # type: ignore[arg-type]
                    else:
                        handler(event_, tx)


def person_registered(person_id: str, language: str = "en", **fields: Any) -> CloudEvent:
    return make(
        "registry.person.registered",
        person_id,
        **{
            "id": person_id,
            "name": f"Person {person_id}",
            "email": f"{person_id}@example.org",
            "language": language,
            "role": "cluster_manager",
            **fields,
        },
    )


def participant(person_id: str) -> dict[str, Any]:
    return {"person_id": person_id, "name": f"Person {person_id}", "language": "en"}


def pair_matched(mentor: str, mentee: str, pair_id: str = "pair-1") -> CloudEvent:
    return make(
        "mentoring.pair.matched",
        pair_id,
        id=pair_id,
        programme_id="cmr",
        programme_name="Cluster Mentoring Reloaded",
        mentor=participant(mentor),
        mentee=participant(mentee),
        score=0.9,
        reasons=["export"],
    )


# -- an SMTP server and a webhook receiver inside the test process ----------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """What the in-test SMTP server (aiosmtpd) received, parsed; it may refuse at first."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_next: list[str] = []
        """SMTP replies to give instead of accepting, in turn (e.g. "451 try later")."""
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.refuse_next:
                return self.refuse_next.pop(0)
            message = BytesParser(policy=policy.default).parsebytes(envelope.content)
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, str]]:
    """An SMTP server on loopback and its ``smtp://`` URL."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


class Receiver:
    """A webhook receiver on loopback: answers per path from a script (default 204),
    keeps every request."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: dict[str, list[int]] = {}
        """path -> statuses to answer in turn (the last one repeats)."""
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode("utf-8")
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    statuses = receiver.script.get(self.path, [204])
                    status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


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


def publish(bus: BusSettings, *events: CloudEvent) -> None:
    """Put events on the exchange, as their publishers' relays would."""
    with Connection(bus.broker_url) as connection:
        Publisher(connection).publish(
            [
                OutgoingMessage(body=e.to_json(), routing_key=e.type, message_id=e.id, type=e.type)
                for e in events
            ],
            exchange=bus.exchange,
        )


@contextmanager
def fast_sender_service(
    postgres_url: str,
    bus: BusSettings,
    tmp_path: Path,
    run_loops: Any,
    smtp_url: str | None = None,
) -> Iterator[ServiceHarness]:
    """The notifications service on PostgreSQL, its worker consuming from ``bus``, and a
    sender of the test's own: polls every 50 ms, webhook retries after 0.2 s, a hook
    disabled after 3 failures, mail to ``smtp_url`` (none without one). The worker's own
    sender (``spec.background``) would compete for the deliveries with the production
    back-off and disable rule, so it is left out."""
    upgrade(spec("notifications"), postgres_url)
    settings = Settings(
        environment="test",
        var_dir=tmp_path,
        jwt_secret=TEST_SECRET,
        database_urls={"notifications": postgres_url},
        bus=bus,
        webhook_allowed_hosts=("127.0.0.1",),
    )
    runtime = bootstrap("notifications", settings)
    worker = create_worker(runtime)
    worker.loops = []
    mailer = SmtpMailer(smtp_url, settings.smtp_from) if smtp_url else None
    sender = DeliverySender(
        runtime.uow,
        mailer,
        HttpPoster(settings.webhook_allowed_hosts),
        poll_interval=0.05,
        webhook_backoff=Backoff((0.2,) * 5),
        disable=DisableRule(failures=3, seconds=0),
    )
    worker.start()
    try:
        assert worker.wait_ready(15)
        with run_loops(sender):
            yield ServiceHarness(runtime, create_app(runtime), TEST_SECRET)
    finally:
        worker.stop()
        worker.join(15)
        delete_queues("notifications", bus)
        runtime.database.dispose()
