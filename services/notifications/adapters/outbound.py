"""The outside world: email over SMTP, webhooks over HTTP(S), names through DNS.

Each adapter tries once and says how it went (:class:`Outcome`): the use cases decide
about retries. Webhook POSTs are signed per the Standard Webhooks specification
(``webhook-id`` = the event's id, ``webhook-timestamp``, ``webhook-signature`` with one
``v1,…`` per secret in use), never follow redirects, and connect to an address checked
just before (the host is resolved, every address must be public unless the host is
allowed, and the connection goes to that address: a second DNS answer cannot point it
elsewhere). TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Collection
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook

from services.notifications.domain.addresses import UnsafeAddress, check_target
from services.notifications.domain.model import (
    Notification,
    Outcome,
    Subscription,
    WebhookDelivery,
)
from services.notifications.domain.ports import Mailer, Poster

USER_AGENT = "BoosterTrack-Webhooks/1"
TIMEOUT = (5.0, 15.0)
"""Seconds to connect, and to wait for the answer."""
MAX_RESPONSE = 4096


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (``OSError`` if none)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# -- email -----------------------------------------------------------------------------
class SmtpMailer(Mailer):
    """Sends multipart (text + HTML) email, with the ``.ics`` attached when there is one.

    ``smtp_url``: ``smtp://host:port`` (STARTTLS if the server offers it) or
    ``smtps://host:port``; user and password in the URL log in. A 4xx reply or a lost
    connection is temporary (retried); a 5xx reply is permanent.
    """

    def __init__(self, smtp_url: str, sender: str, timeout: float = 30.0) -> None:
        parts = urlsplit(smtp_url)
        self.secure = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.secure else 25)
        self.username = parts.username
        self.password = parts.password
        self.sender = sender
        self.timeout = timeout

    def message(self, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = notification.address or ""
        message["Subject"] = notification.subject
        # stable: a second send of the same notification (after a crash) is recognisable
        message["Message-ID"] = make_msgid(idstring=notification.id, domain="booster-track")
        message["Content-Language"] = notification.language
        message["X-Booster-Notification"] = notification.id
        message["X-Booster-Event-Type"] = notification.event_type
        message.set_content(notification.text)
        message.add_alternative(notification.html, subtype="html")
        if notification.calendar:
            method = "CANCEL" if "METHOD:CANCEL" in notification.calendar else "REQUEST"
            message.add_attachment(
                notification.calendar.encode("utf-8"),
                maintype="text",
                subtype="calendar",
                filename="invitation.ics",
                params={"method": method, "charset": "utf-8"},
            )
        return message

    def send(self, notification: Notification) -> Outcome:
        started = time.monotonic()
        if not notification.address:
            return Outcome(ok=False, permanent=True, detail="no email address")
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(self.message(notification))
        except smtplib.SMTPResponseException as exc:
            code = exc.smtp_code
            detail = f"{code} {exc.smtp_error!r}"
            return Outcome(False, code >= 500, code, detail, _elapsed(started))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            code = max(codes) if codes else 550
            return Outcome(
                False, code >= 500, code, f"refused: {exc.recipients!r}", _elapsed(started)
            )
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(False, False, None, f"{type(exc).__name__}: {exc}", _elapsed(started))
        if refused:
            return Outcome(False, True, 550, f"refused: {refused!r}", _elapsed(started))
        return Outcome(True, False, 250, "accepted", _elapsed(started))

    def _connect(self) -> smtplib.SMTP:
        if self.secure:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp


# -- webhooks --------------------------------------------------------------------------
def signature_headers(
    subscription: Subscription, delivery: WebhookDelivery, at: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers: one signature per secret in use (two for a day
    after a rotation, so a receiver may switch secrets at its own pace)."""
    signatures = [
        Webhook(secret).sign(delivery.event_id, at, delivery.body)
        for secret in subscription.signing_secrets(at)
    ]
    return {
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


class _PinnedAdapter(HTTPAdapter):
    """Connects to a checked address while TLS checks the certificate of the host name."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self.host
        kwargs["assert_hostname"] = self.host
        super().init_poolmanager(*args, **kwargs)


class HttpPoster(Poster):
    """POSTs the CloudEvent JSON, signed; 2xx is delivered, anything else a failure
    (a 410 Gone is permanent; a redirect is a failure, never followed)."""

    def __init__(self, allowed_hosts: Collection[str] = (), resolve: Any = resolve_host) -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.resolve = resolve

    def post(self, subscription: Subscription, delivery: WebhookDelivery) -> Outcome:
        started = time.monotonic()
        at = datetime.now(UTC)
        try:
            target = check_target(subscription.url, self.resolve, self.allowed_hosts)
        except UnsafeAddress as exc:
            return Outcome(False, False, None, f"refused: {exc.detail}", _elapsed(started))
        address = target.addresses[0]
        netloc = f"[{address}]" if ":" in address else address
        parts = urlsplit(subscription.url)
        pinned = urlunsplit(
            (parts.scheme, f"{netloc}:{target.port}", parts.path or "/", parts.query, "")
        )
        headers = {
            "Content-Type": "application/cloudevents+json",
            "User-Agent": USER_AGENT,
            "Host": parts.netloc.rsplit("@", 1)[-1],
            **signature_headers(subscription, delivery, at),
        }
        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment: we checked the address
            if target.scheme == "https":
                session.mount("https://", _PinnedAdapter(target.host))
            try:
                response = session.post(
                    pinned,
                    data=delivery.body.encode("utf-8"),
                    headers=headers,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                    stream=True,
                )
                body = response.raw.read(MAX_RESPONSE, decode_content=True) or b""
                response.close()
            except requests.RequestException as exc:
                return Outcome(
                    False, False, None, f"{type(exc).__name__}: {exc}", _elapsed(started)
                )
        text = body.decode("utf-8", "replace")
        status = response.status_code
        ok = 200 <= status < 300
        return Outcome(ok, status == 410, status, f"{status} {text}".strip(), _elapsed(started))
