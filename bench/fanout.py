"""Fan-out: one event to 500 recipients (inbox rows and staged emails) and to 20 webhook
subscriptions, in the notifications consumer's transaction (PostgreSQL).

What is timed is what the consumer does for one ``events.event.cancelled`` naming 500
registered people, through the service's own handlers: read the 500 recipients and their
preferences, render each person's message in their language (en, fr, ar in turn), stage
1,000 notifications (an in-app entry and an email each, the email with its ``.ics``), and
stage one delivery per matching subscription (20), then commit. Sending happens later,
in the sender, outside this transaction. The baseline in the same run stages the same
rows one ``INSERT`` at a time (what a first version would do); the handlers insert each
kind in one statement.
"""

from __future__ import annotations

import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import Report, Result, Sizes, fresh_database
from booster.bootstrap import bootstrap
from booster.catalogue import platform_catalogue
from booster.platform import spec
from services.notifications import operations as ops
from services.notifications.adapters.repository import SqlNotifications
from services.notifications.domain.commands import CreateSubscription, KeepRecipients
from services.notifications.domain.model import RecipientChange, now
from services.notifications.handlers import HANDLERS
from shared.bus.consumer import BATCH_ATTRIBUTE
from shared.bus.topology import topic_matches
from shared.config import Settings
from shared.migrations import upgrade

RECIPIENTS, SUBSCRIPTIONS = 500, 20
LANGUAGES = ("en", "fr", "ar")


def _cancelled(person_ids: list[str]) -> Any:
    starts = "2030-03-04T08:30:00+00:00"
    return platform_catalogue().make_event(
        "events.event.cancelled",
        subject="trip",
        data={
            "id": str(uuid.uuid4()),
            "kind": "business_trip",
            "title": "Business trip to Lyon",
            "format": "in_person",
            "starts_at": starts,
            "ends_at": "2030-03-06T16:00:00+00:00",
            "timezone": "Europe/Paris",
            "city": "Lyon",
            "country": "FR",
            "online_link": None,
            "status": "cancelled",
            "capacity": RECIPIENTS,
            "registration_closes_at": None,
            "reason": "Travel restrictions",
            "person_ids": person_ids,
        },
    )


def _handle(runtime: Any, event_: Any) -> None:
    """The consumer's work for one event: every matching handler, one transaction."""
    with runtime.uow.begin() as tx:
        for pattern, handler in HANDLERS.items():
            if topic_matches(pattern, event_.type):
                if getattr(handler, BATCH_ATTRIBUTE, False):
                    handler([event_], tx)
                else:
                    handler(event_, tx)


def _timed(runtime: Any, person_ids: list[str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        event_ = _cancelled(person_ids)
        started = time.perf_counter()
        _handle(runtime, event_)
        times.append((time.perf_counter() - started) * 1000)
    return times


def run(report: Report, sizes: Sizes) -> None:
    rounds = 3 if sizes.name == "quick" else 10
    with fresh_database("bench_fanout") as url:
        upgrade(spec("notifications"), url)
        settings = Settings(
            environment="test",
            var_dir=Path("var"),
            jwt_secret="bench-secret-" + "x" * 40,
            database_urls={"notifications": url},
        )
        runtime = bootstrap("notifications", settings)
        try:
            person_ids = [f"person-{n:04d}" for n in range(RECIPIENTS)]
            with runtime.uow.begin() as tx:
                ops.keep_recipients(
                    tx,
                    KeepRecipients(
                        tuple(
                            RecipientChange(
                                p, f"Person {p}", f"{p}@example.org", LANGUAGES[n % 3], now()
                            )
                            for n, p in enumerate(person_ids)
                        )
                    ),
                )
            for n in range(SUBSCRIPTIONS):
                ops.create_subscription(
                    runtime.uow,
                    CreateSubscription(f"https://hooks{n}.example.org/booster", ("events.#",)),
                    lambda host, port: ["93.184.215.14"],
                )
            _timed(runtime, person_ids, 1)  # warm up (templates compiled, statements cached)
            ours = _timed(runtime, person_ids, rounds)

            batched_stage = SqlNotifications.stage

            def one_at_a_time(self: SqlNotifications, staged: Any) -> int:
                return sum(batched_stage(self, [n]) for n in staged)

            SqlNotifications.stage = one_at_a_time  # type: ignore[method-assign]
            try:
                baseline = _timed(runtime, person_ids, rounds)
            finally:
                SqlNotifications.stage = batched_stage  # type: ignore[method-assign]
            rows = _count_rows(runtime)
        finally:
            runtime.database.dispose()
    median, base = statistics.median(ours), statistics.median(baseline)
    report.add(
        Result(
            "fanout",
            f"1 event -> {RECIPIENTS} people + {SUBSCRIPTIONS} hooks",
            median,
            "ms",
            base,
            "one INSERT per notification",
            goal="< 1000 ms",
            met=median < 1000,
            notes=(
                f"median of {rounds}; {2 * RECIPIENTS} notifications (inbox + email with .ics) "
                f"and {SUBSCRIPTIONS} webhook deliveries staged per event, one transaction; "
                f"{rows} rows after the run; per recipient {median / RECIPIENTS:.2f} ms"
            ),
            extra={"ours_ms": ours, "baseline_ms": baseline},
        )
    )


def _count_rows(runtime: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from services.notifications.adapters import tables

    with runtime.database.session() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (tables.notifications, tables.deliveries)
        }
