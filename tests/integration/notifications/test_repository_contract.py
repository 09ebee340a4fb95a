"""The in-memory repositories behave like the SQL ones: one scenario, the same answers.

The unit tests of the use cases trust the fakes (``services.notifications.adapters.memory``);
this runs the same use cases and repository calls on the fakes and on the real databases
(SQLite, PostgreSQL) and checks that each says the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import service_harness
from services.notifications import operations as ops
from services.notifications.adapters.memory import fake_uow
from services.notifications.domain.commands import (
    CreateSubscription,
    DeleteSubscription,
    FanOut,
    ForgetRecipient,
    KeepRecipients,
    MarkAllRead,
    MarkRead,
    Notify,
    RecordAttempt,
    RotateSecret,
    SetPreferences,
    UpdateSubscription,
)
from services.notifications.domain.model import (
    Backoff,
    Category,
    Channel,
    DeliveryStatus,
    DisableRule,
    Outcome,
    WebhookStatus,
    now,
)
from services.notifications.domain.ports import (
    DeliveryQuery,
    NotificationQuery,
    NotificationsUnitOfWork,
)
from shared.errors import PreconditionFailed
from shared.testing import fresh_postgres_database
from tests.conftest import TEST_SECRET
from tests.unit.notifications.conftest import RENDERER, T0, pair, person

LEASE = timedelta(minutes=5)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotificationsUnitOfWork]:
    """The fakes, or the SQL repositories on a migrated database of the test's own."""
    if request.param == "memory":
        yield fake_uow(platform_catalogue())
        return
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'contract.db'}"
        else:
            admin = request.getfixturevalue("postgres_admin_url")
            url = stack.enter_context(fresh_postgres_database(admin))
        harness = stack.enter_context(service_harness("notifications", url, tmp_path, TEST_SECRET))
        yield harness.runtime.uow


def _notify(uow: NotificationsUnitOfWork, event_: Any) -> None:
    with uow.begin() as tx:
        ops.notify(tx, Notify(event_.id, event_.type, event_.data, T0), RENDERER)


def test_recipients_preferences_and_the_inbox(uow: NotificationsUnitOfWork) -> None:
    with uow.begin() as tx:
        tx.recipients.keep_newest(
            [person("mentor", "fr"), person("mentee", "ar"), person("mentor", "en", T0 - LEASE)]
        )
        assert {
            p: r.language for p, r in tx.recipients.many(["mentor", "mentee", "x"]).items()
        } == {
            "mentor": "fr",
            "mentee": "ar",
        }
    ops.set_preferences(uow, SetPreferences("mentee", {Channel.EMAIL: {Category.MENTORING: False}}))
    with pytest.raises(PreconditionFailed):
        ops.set_preferences(uow, SetPreferences("mentee", {}, expected_version=0))
    matched, ended = pair(), pair("mentoring.pair.ended")
    _notify(uow, matched)
    _notify(uow, matched)  # a second copy stages nothing
    _notify(uow, ended)
    with uow.read() as tx:
        mentee = tx.notifications.find(NotificationQuery("mentee"), 10, None)
        mentor = tx.notifications.find(NotificationQuery("mentor"), 10, None)
    assert {n.channel for n in mentee} == {Channel.IN_APP} and len(mentee) == 2
    assert len(mentor) == 4
    page = ops.list_notifications(uow, NotificationQuery("mentor", Channel.IN_APP), 1, None)[0]
    after = (page[0].created_at, page[0].id)
    rest = ops.list_notifications(uow, NotificationQuery("mentor", Channel.IN_APP), 5, after)[0]
    assert len(rest) == 1 and rest[0].id != page[0].id
    ops.mark_read(uow, MarkRead("mentor", page[0].id))
    unread = NotificationQuery("mentor", unread_only=True)
    assert [n.id for n in ops.list_notifications(uow, unread, 10, None)[0]] == [rest[0].id]
    assert ops.mark_all_read(uow, MarkAllRead("mentor")) == 1
    assert ops.list_notifications(uow, unread, 10, None) == ([], 0)
    with uow.begin() as tx:
        ops.forget_recipient(tx, ForgetRecipient("mentee", T0 + LEASE))
        tx.recipients.keep_newest([person("mentee", "fr", T0 + 2 * LEASE)])
        assert tx.recipients.many(["mentee"])["mentee"].removed
        assert tx.preferences.many(["mentee"]) == {}
        assert tx.notifications.find(NotificationQuery("mentee"), 10, None) == []


def test_email_claims_leases_and_attempts(uow: NotificationsUnitOfWork) -> None:
    with uow.begin() as tx:
        ops.keep_recipients(tx, KeepRecipients((person("mentor"), person("mentee"))))
    _notify(uow, pair())
    at = now()
    claimed = ops.claim_emails(uow, at, LEASE, 1)
    assert len(claimed) == 1
    [second] = ops.claim_emails(uow, at, LEASE, 5)
    assert second.id != claimed[0].id
    assert ops.claim_emails(uow, at, LEASE, 5) == []
    failure = Outcome(ok=False, status_code=451, detail="later", duration_ms=3)
    retried = ops.record_email_attempt(
        uow, RecordAttempt(claimed[0].id, failure, at), Backoff((1,))
    )
    assert retried is not None and retried.next_attempt_at == at + timedelta(seconds=1)
    again = ops.claim_emails(uow, at + timedelta(seconds=1), LEASE, 5)
    assert [n.id for n in again] == [claimed[0].id]
    sent = ops.record_email_attempt(uow, RecordAttempt(claimed[0].id, Outcome(ok=True), at))
    assert sent is not None and sent.status is DeliveryStatus.SENT and sent.attempts == 2
    with uow.read() as tx:
        log = tx.attempts.of(claimed[0].id)
        assert [(a.number, a.ok, a.status_code, a.duration_ms) for a in log] == [
            (1, False, 451, 3),
            (2, True, None, 0),
        ]
        assert tx.notifications.get(claimed[0].id) == sent


def _public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


def test_webhook_subscriptions_and_deliveries(uow: NotificationsUnitOfWork) -> None:
    first = ops.create_subscription(
        uow, CreateSubscription("https://a.example.org/h", ("mentoring.#",), "A"), _public
    )
    second = ops.create_subscription(
        uow, CreateSubscription("https://b.example.org/h", ("#",)), _public
    )
    assert [s.id for s in ops.list_subscriptions(uow, 10, None)] == [first.id, second.id]
    assert ops.list_subscriptions(uow, 10, (first.created_at, first.id))[0].id == second.id
    updated = ops.update_subscription(
        uow, UpdateSubscription(first.id, {"types": ("mentoring.pair.*",)}, 1), _public
    )
    assert updated.types == ("mentoring.pair.*",) and updated.version == 2
    assert ops.get_subscription(uow, first.id) == updated
    rotated = ops.rotate_secret(uow, RotateSecret(first.id))
    assert (
        ops.get_subscription(uow, first.id).previous_secret
        == first.secret
        == rotated.previous_secret
    )
    with uow.begin() as tx:
        assert ops.fan_out(tx, FanOut("e1", "mentoring.pair.matched", '{"id": "e1"}')) == 2
        assert ops.fan_out(tx, FanOut("e1", "mentoring.pair.matched", '{"id": "e1"}')) == 0
        assert ops.fan_out(tx, FanOut("e2", "events.event.cancelled", "{}")) == 1
    at = now()
    claimed = ops.claim_webhooks(uow, at, LEASE, 10)
    assert sorted((s.id, d.event_id) for s, d in claimed) == sorted(
        [(first.id, "e1"), (second.id, "e1"), (second.id, "e2")]
    )
    rule = DisableRule(failures=1, seconds=0)
    mine = next(d for s, d in claimed if s.id == first.id)
    ops.record_webhook_attempt(
        uow, RecordAttempt(mine.id, Outcome(ok=False, status_code=500), at), Backoff((1,)), rule
    )
    assert not ops.get_subscription(uow, first.id).active
    # the disabled subscription's delivery waits; the other's leases ended
    later = ops.claim_webhooks(uow, at + LEASE, LEASE, 10)
    assert sorted(d.event_id for _, d in later) == ["e1", "e2"]
    assert {s.id for s, _ in later} == {second.id}
    listed = ops.list_deliveries(uow, DeliveryQuery(first.id), 10, None)
    assert [(d.event_id, d.status, d.attempts, d.last_status_code) for d in listed] == [
        ("e1", WebhookStatus.PENDING, 1, 500)
    ]
    assert (
        ops.list_deliveries(uow, DeliveryQuery(second.id, WebhookStatus.DELIVERED), 10, None) == []
    )
    delivery, log = ops.get_delivery(uow, first.id, mine.id)
    assert delivery.body == '{"id": "e1"}' and [a.status_code for a in log] == [500]
    ops.delete_subscription(uow, DeleteSubscription(first.id))
    with uow.read() as tx:
        assert tx.subscriptions.get(first.id) is None
        assert tx.deliveries.get(mine.id) is None
        assert tx.attempts.of(mine.id) == []
