"""Sending outside the consumer's transaction: leases, retries with back-off, the delivery
log, webhook subscriptions disabled after a long run of failures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications import handlers
from services.notifications import operations as ops
from services.notifications.domain.commands import (
    CreateSubscription,
    FanOut,
    RecordAttempt,
    RetryDelivery,
    RotateSecret,
    UpdateSubscription,
)
from services.notifications.domain.model import (
    Backoff,
    Channel,
    DeliveryStatus,
    DisableRule,
    Notification,
    Outcome,
    WebhookStatus,
    now,
)
from shared import context
from shared.errors import Conflict, InvalidInput
from tests.unit.notifications.conftest import Uow, known, make, notify, pair, person

LEASE = timedelta(minutes=5)
PUBLIC = "https://hooks.example.org/booster"


def public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


def _email(uow: Uow) -> str:
    known(uow, person("mentor"), person("mentee"))
    notify(uow, pair())
    return next(
        n.id
        for n in uow.tx.notifications.rows.values()
        if n.channel is Channel.EMAIL and n.person_id == "mentor"
    )


def test_a_claimed_email_is_leased_and_not_claimed_twice(uow: Uow) -> None:
    _email(uow)
    at = now()
    first = ops.claim_emails(uow, at, LEASE, 10)
    assert len(first) == 2
    assert ops.claim_emails(uow, at, LEASE, 10) == []
    # a sender that died mid-way: once the lease ends, the emails are due again
    assert len(ops.claim_emails(uow, at + LEASE, LEASE, 10)) == 2


def test_a_sent_email_is_logged_and_announced(uow: Uow) -> None:
    email_id = _email(uow)
    at = now()
    sent = ops.record_email_attempt(uow, RecordAttempt(email_id, Outcome(ok=True), at))
    assert sent is not None and sent.status is DeliveryStatus.SENT and sent.attempts == 1
    assert uow.types() == ["notifications.notification.sent"]
    assert [a.ok for a in uow.tx.attempts.of(email_id)] == [True]
    # a late second report changes nothing
    assert ops.record_email_attempt(uow, RecordAttempt(email_id, Outcome(ok=False), at)) is None


def test_a_temporary_failure_is_retried_with_back_off_then_given_up(uow: Uow) -> None:
    email_id = _email(uow)
    backoff = Backoff((10, 20))
    at = now()
    failure = Outcome(ok=False, status_code=421, detail="try later")
    first = ops.record_email_attempt(uow, RecordAttempt(email_id, failure, at), backoff)
    assert first is not None and first.status is DeliveryStatus.PENDING
    assert first.next_attempt_at == at + timedelta(seconds=10)
    second = ops.record_email_attempt(uow, RecordAttempt(email_id, failure, at), backoff)
    assert second is not None and second.next_attempt_at == at + timedelta(seconds=20)
    third = ops.record_email_attempt(uow, RecordAttempt(email_id, failure, at), backoff)
    assert third is not None and third.status is DeliveryStatus.FAILED
    assert [a.number for a in uow.tx.attempts.of(email_id)] == [1, 2, 3]
    assert uow.types() == ["notifications.notification.failed"]
    assert uow.events[0].data["permanent"] is False


def test_a_permanent_failure_is_not_retried(uow: Uow) -> None:
    email_id = _email(uow)
    refused = Outcome(ok=False, permanent=True, status_code=550, detail="no such user")
    failed = ops.record_email_attempt(uow, RecordAttempt(email_id, refused, now()))
    assert failed is not None and failed.status is DeliveryStatus.FAILED
    assert uow.events[0].data["error"] == "no such user"


def _subscribe(uow: Uow, *types: str) -> str:
    return ops.create_subscription(
        uow, CreateSubscription(PUBLIC, types or ("mentoring.#",)), public
    ).id


def test_an_event_goes_to_the_subscriptions_it_matches_once(uow: Uow) -> None:
    mentoring = _subscribe(uow, "mentoring.#")
    _subscribe(uow, "events.*.cancelled")
    fan = FanOut("event-1", "mentoring.pair.matched", "{}")
    with uow.begin() as tx:
        assert ops.fan_out(tx, fan) == 1
        assert ops.fan_out(tx, fan) == 0
    [delivery] = uow.tx.deliveries.rows.values()
    assert delivery.subscription_id == mentoring


def _delivery(uow: Uow) -> str:
    _subscribe(uow)
    with uow.begin() as tx:
        ops.fan_out(tx, FanOut("event-1", "mentoring.pair.matched", "{}"))
    [delivery_id] = uow.tx.deliveries.rows
    return delivery_id


def test_a_webhook_failing_for_long_is_disabled_and_its_deliveries_wait(uow: Uow) -> None:
    delivery_id = _delivery(uow)
    rule = DisableRule(failures=3, seconds=60)
    at = now()
    failure = Outcome(ok=False, status_code=500, detail="boom")
    for minutes in (0, 0.5, 1.5):
        ops.record_webhook_attempt(
            uow,
            RecordAttempt(delivery_id, failure, at + timedelta(minutes=minutes)),
            Backoff((1,) * 10),
            rule,
        )
    [subscription] = uow.tx.subscriptions.rows.values()
    assert not subscription.active and subscription.failures == 3
    assert uow.types() == ["notifications.webhook.disabled"]
    assert ops.claim_webhooks(uow, at + timedelta(hours=1), LEASE, 10) == []
    with pytest.raises(Conflict):
        ops.retry_delivery(uow, RetryDelivery(subscription.id, delivery_id))
    # enabled again, it starts afresh and the waiting delivery goes out
    ops.update_subscription(uow, UpdateSubscription(subscription.id, {"active": True}), public)
    assert uow.tx.subscriptions.rows[subscription.id].failures == 0
    assert len(ops.claim_webhooks(uow, at + timedelta(hours=1), LEASE, 10)) == 1


def test_a_short_run_of_failures_does_not_disable(uow: Uow) -> None:
    delivery_id = _delivery(uow)
    rule = DisableRule(failures=2, seconds=3600)
    at = now()
    for _ in range(3):
        ops.record_webhook_attempt(
            uow, RecordAttempt(delivery_id, Outcome(ok=False), at), Backoff((1,) * 10), rule
        )
    [subscription] = uow.tx.subscriptions.rows.values()
    assert subscription.active and subscription.failures == 3
    ops.record_webhook_attempt(uow, RecordAttempt(delivery_id, Outcome(ok=True), at))
    assert uow.tx.subscriptions.rows[subscription.id].failures == 0
    assert uow.tx.deliveries.rows[delivery_id].status is WebhookStatus.DELIVERED


def test_a_delivery_is_retried_by_hand(uow: Uow) -> None:
    delivery_id = _delivery(uow)
    ops.record_webhook_attempt(
        uow, RecordAttempt(delivery_id, Outcome(ok=False, permanent=True), now())
    )
    [subscription_id] = uow.tx.subscriptions.rows
    assert uow.tx.deliveries.rows[delivery_id].status is WebhookStatus.FAILED
    retried = ops.retry_delivery(uow, RetryDelivery(subscription_id, delivery_id))
    assert retried.status is WebhookStatus.PENDING
    assert [d.id for _, d in ops.claim_webhooks(uow, now(), LEASE, 10)] == [delivery_id]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "ftp://hooks.example.org/x",
        "http://metadata.google.internal/",
        "https://user:pw@hooks.example.org/",
        "https://93.184.215.14:0/",
        "https://hooks.example.org:0/hook",
        "https://93.184.215.14:99999/",
    ],
)
def test_unsafe_urls_are_refused(uow: Uow, url: str) -> None:
    with pytest.raises(InvalidInput):
        ops.create_subscription(uow, CreateSubscription(url, ("#",)), public)
    assert uow.tx.subscriptions.rows == {}


def test_a_name_resolving_to_a_private_address_is_refused_unless_allowed(uow: Uow) -> None:
    def private(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "192.168.1.10"]

    url = "https://intranet.example.org/hook"
    with pytest.raises(InvalidInput, match="192.168.1.10"):
        ops.create_subscription(uow, CreateSubscription(url, ("#",)), private)
    made = ops.create_subscription(
        uow, CreateSubscription(url, ("#",)), private, ["intranet.example.org"]
    )
    assert made.active and made.secret.startswith("whsec_")


def test_bad_patterns_are_refused(uow: Uow) -> None:
    for pattern in ("", "mentoring..pair", "Mentoring.#", "a.b.c.d.e.f", "x y"):
        with pytest.raises(InvalidInput):
            ops.create_subscription(uow, CreateSubscription(PUBLIC, (pattern,)), public)


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(uow: Uow) -> None:
    subscription_id = _subscribe(uow)
    old = uow.tx.subscriptions.rows[subscription_id].secret
    rotated = ops.rotate_secret(uow, RotateSecret(subscription_id))
    assert rotated.secret != old
    assert rotated.signing_secrets(now()) == [rotated.secret, old]
    assert rotated.signing_secrets(now() + timedelta(hours=25)) == [rotated.secret]


def test_the_sender_sends_what_is_due_and_records_each_attempt(uow: Uow) -> None:
    from services.notifications.adapters.memory import FakeMailer, FakePoster
    from services.notifications.sender import DeliverySender

    _email(uow)
    _subscribe(uow)
    with uow.begin() as tx:
        ops.fan_out(tx, FanOut("event-1", "mentoring.pair.matched", "{}"))
    mailer = FakeMailer([Outcome(ok=False, status_code=451, detail="later")])
    poster = FakePoster()
    sender = DeliverySender(uow, mailer, poster, email_backoff=Backoff((3600,)))
    assert sender.send_once() == 3
    assert len(mailer.sent) == 2 and len(poster.posted) == 1
    statuses = sorted(
        n.status.value for n in uow.tx.notifications.rows.values() if n.channel is Channel.EMAIL
    )
    assert statuses == ["pending", "sent"]  # one refused for now, retried in an hour
    assert sender.send_once() == 0  # nothing due: nothing sent twice
    assert uow.types() == ["notifications.notification.sent"]


def test_without_smtp_emails_wait_and_webhooks_still_go(uow: Uow) -> None:
    from services.notifications.adapters.memory import FakePoster
    from services.notifications.sender import DeliverySender

    _email(uow)
    _subscribe(uow)
    with uow.begin() as tx:
        ops.fan_out(tx, FanOut("event-1", "mentoring.pair.matched", "{}"))
    poster = FakePoster([RuntimeError("boom")])
    sender = DeliverySender(uow, None, poster)
    assert sender.send_once() == 1
    [delivery] = uow.tx.deliveries.rows.values()
    assert delivery.status is WebhookStatus.PENDING and delivery.attempts == 1
    assert all(
        n.status is DeliveryStatus.PENDING
        for n in uow.tx.notifications.rows.values()
        if n.channel is Channel.EMAIL
    )


# -- the correlation of the work that staged a notification or delivery ---------------
def _trace_id(traceparent: str | None) -> str:
    assert traceparent is not None
    return traceparent.split("-")[1]


def test_staging_keeps_the_correlation_of_the_work_in_hand(uow: Uow) -> None:
    known(uow, person("mentor"), person("mentee"))
    _subscribe(uow)
    with context.correlated("work-1") as work:
        staged = notify(uow, pair())
        with uow.begin() as tx:
            ops.fan_out(tx, FanOut("event-1", "mentoring.pair.matched", "{}"))
    assert staged and {(n.correlation_id, n.traceparent) for n in staged} == {
        ("work-1", work.traceparent)
    }
    stored = list(uow.tx.notifications.rows.values()) + list(uow.tx.deliveries.rows.values())
    assert {(row.correlation_id, row.traceparent) for row in stored} == {
        ("work-1", work.traceparent)
    }


def test_staged_outside_any_work_keeps_no_correlation(uow: Uow) -> None:
    assert context.current() is None
    staged: Notification = uow.tx.notifications.rows[_email(uow)]
    assert staged.correlation_id is None and staged.traceparent is None


def test_the_sent_and_failed_events_carry_the_staging_correlation(uow: Uow) -> None:
    with context.correlated("work-1") as work:
        email_id = _email(uow)
    mentee = next(
        n.id
        for n in uow.tx.notifications.rows.values()
        if n.channel is Channel.EMAIL and n.person_id == "mentee"
    )
    at = now()
    # the sender runs under its own correlation (or none): the events take the stored one
    with context.correlated("sender-round"):
        ops.record_email_attempt(uow, RecordAttempt(email_id, Outcome(ok=True), at))
        ops.record_email_attempt(
            uow, RecordAttempt(mentee, Outcome(ok=False, permanent=True, detail="550"), at)
        )
    assert context.current() is None
    assert uow.types() == ["notifications.notification.sent", "notifications.notification.failed"]
    for event_ in uow.events:
        assert event_.correlationid == "work-1"
        # a span of the same trace, a child of the staging work's
        assert _trace_id(event_.traceparent) == _trace_id(work.traceparent)
        assert event_.traceparent != work.traceparent


def test_a_row_staged_without_correlation_is_announced_under_a_fresh_one(uow: Uow) -> None:
    email_id = _email(uow)
    ops.record_email_attempt(uow, RecordAttempt(email_id, Outcome(ok=True), now()))
    [event_] = uow.events
    assert event_.correlationid is None  # as before (a consumer of it starts a fresh id)
    with context.correlated("sender-round"):
        second = next(
            n.id
            for n in uow.tx.notifications.rows.values()
            if n.channel is Channel.EMAIL and n.id != email_id
        )
        ops.record_email_attempt(uow, RecordAttempt(second, Outcome(ok=True), now()))
    assert uow.events[-1].correlationid == "sender-round"


def test_a_webhook_disabled_carries_the_correlation_of_the_failing_delivery(uow: Uow) -> None:
    with context.correlated("work-2"):
        delivery_id = _delivery(uow)
    at = now()
    for minutes in (0, 2):
        ops.record_webhook_attempt(
            uow,
            RecordAttempt(delivery_id, Outcome(ok=False), at + timedelta(minutes=minutes)),
            Backoff((1,) * 10),
            DisableRule(failures=2, seconds=60),
        )
    [event_] = uow.events
    assert event_.type == "notifications.webhook.disabled"
    assert event_.correlationid == "work-2"


def test_a_batch_handler_stages_each_event_under_its_own_correlation(uow: Uow) -> None:
    _subscribe(uow, "registry.#")
    batch = []
    for person_id in ("p1", "p2"):
        with context.correlated(f"corr-{person_id}"):
            batch.append(
                make(
                    "registry.person.registered",
                    person_id,
                    id=person_id,
                    name=f"Person {person_id}",
                    email=f"{person_id}@example.org",
                    language="en",
                    role="cluster_manager",
                )
            )
    # the consumer runs a batch handler under the first event's correlation
    with context.correlated(batch[0].correlationid, batch[0].traceparent), uow.begin() as tx:
        handlers.people_registered(batch, tx)
        handlers.fan_out(batch, tx)
    notified = {(n.person_id, n.correlation_id) for n in uow.tx.notifications.rows.values()}
    assert notified == {("p1", "corr-p1"), ("p2", "corr-p2")}
    fanned = {(d.event_id, d.correlation_id) for d in uow.tx.deliveries.rows.values()}
    assert fanned == {(batch[0].id, "corr-p1"), (batch[1].id, "corr-p2")}
