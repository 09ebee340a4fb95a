"""The sender: delivers staged emails and webhook deliveries, outside any consumer's
transaction, with retries kept in the database.

The consumer's handlers only stage rows. This loop, one per worker process, takes what
is due in one short transaction (a lease: ``next_attempt_at`` moves to the lease's end,
so a second sender skips those rows and a sender that dies leaves them to be taken
again when the lease ends), sends each outside any transaction (a few at a time, so
one slow receiver does not hold the others), then records each attempt in its own
transaction with its event (``notifications.notification.sent`` / ``.failed``,
``notifications.webhook.disabled``). A restart loses no schedule: it is all in rows.

It has ``run()`` / ``stop()`` / ``ready`` like the outbox relay, and is started by the
service's worker (:func:`background`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from services.notifications import operations as ops
from services.notifications.adapters.outbound import HttpPoster, SmtpMailer
from services.notifications.domain.commands import RecordAttempt
from services.notifications.domain.model import (
    DISABLE_AFTER,
    EMAIL_BACKOFF,
    WEBHOOK_BACKOFF,
    Backoff,
    DisableRule,
    Notification,
    Outcome,
    Subscription,
    WebhookDelivery,
    now,
)
from services.notifications.domain.ports import Mailer, NotificationsUnitOfWork, Poster
from shared.logging import get_logger
from shared.service import Runtime

log = get_logger(__name__)

LEASE = timedelta(minutes=5)
"""Longer than any one send may take (SMTP and HTTP time out well before)."""


class DeliverySender:
    """Sends due emails (if there is a mailer) and webhook deliveries until stopped."""

    def __init__(
        self,
        uow: NotificationsUnitOfWork,
        mailer: Mailer | None,
        poster: Poster,
        *,
        poll_interval: float = 0.5,
        batch_size: int = 50,
        concurrency: int = 8,
        lease: timedelta = LEASE,
        email_backoff: Backoff = EMAIL_BACKOFF,
        webhook_backoff: Backoff = WEBHOOK_BACKOFF,
        disable: DisableRule = DISABLE_AFTER,
    ) -> None:
        self.uow = uow
        self.mailer = mailer
        self.poster = poster
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lease = lease
        self.email_backoff = email_backoff
        self.webhook_backoff = webhook_backoff
        self.disable = disable
        self.ready = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Send until stopped; a failing round (e.g. the database away) waits and retries."""
        if self.mailer is None:
            log.warning("no BOOSTER_SMTP_URL: emails stay pending until one is set")
        self.ready.set()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="notifications-send") as pool:
            while not self._stop.is_set():
                try:
                    busy = self.send_once(pool) >= self.batch_size
                except Exception as exc:  # noqa: BLE001 - try again after a pause
                    log.warning("sender round failed", error=repr(exc))
                    busy = False
                if not busy:
                    self._stop.wait(self.poll_interval)
        self.ready.clear()

    def send_once(self, pool: ThreadPoolExecutor | None = None) -> int:
        """One round: claim what is due, send it, record each attempt; return how many."""
        at = now()
        emails = ops.claim_emails(self.uow, at, self.lease, self.batch_size) if self.mailer else []
        hooks = ops.claim_webhooks(self.uow, at, self.lease, self.batch_size)
        jobs: list[Callable[[], None]] = [self._email_job(n) for n in emails]
        jobs += [self._webhook_job(s, d) for s, d in hooks]
        if pool is None or len(jobs) < 2:
            for job in jobs:
                job()
        else:
            for future in [pool.submit(job) for job in jobs]:
                future.result()
        return len(jobs)

    def _email_job(self, notification: Notification) -> Callable[[], None]:
        def job() -> None:
            assert self.mailer is not None
            outcome = _tried(lambda: self.mailer.send(notification))  # type: ignore[union-attr]
            ops.record_email_attempt(
                self.uow, RecordAttempt(notification.id, outcome, now()), self.email_backoff
            )

        return job

    def _webhook_job(
        self, subscription: Subscription, delivery: WebhookDelivery
    ) -> Callable[[], None]:
        def job() -> None:
            outcome = _tried(lambda: self.poster.post(subscription, delivery))
            ops.record_webhook_attempt(
                self.uow,
                RecordAttempt(delivery.id, outcome, now()),
                self.webhook_backoff,
                self.disable,
            )

        return job


def _tried(send: Callable[[], Outcome]) -> Outcome:
    """An adapter's outcome; an unexpected error in it is a temporary failure."""
    try:
        return send()
    except Exception as exc:  # noqa: BLE001 - recorded in the delivery log
        return Outcome(ok=False, detail=f"{type(exc).__name__}: {exc}")


def background(runtime: Runtime, **options: Any) -> list[DeliverySender]:
    """The loops the notifications worker runs beside its relay and consumer: one
    sender, on the runtime's unit of work, SMTP settings and allowed webhook hosts."""
    settings = runtime.settings
    mailer = SmtpMailer(settings.smtp_url, settings.smtp_from) if settings.smtp_url else None
    poster = HttpPoster(settings.webhook_allowed_hosts)
    return [DeliverySender(runtime.uow, mailer, poster, **options)]
