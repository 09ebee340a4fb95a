"""The checker, after the RabbitMQ Jepsen suite's ``total-queue``: every committed write
against every effect the consumers made and every delivery an independent subscriber saw.

A write is one person registered through the registry's API. The truth of what was
committed is the registry's own database (its people and its outbox), read after the
run; the load driver adds what the API acknowledged. Effects, per person:

- notifications: the in-app welcome of the person (``notifications`` rows);
- events: the read copy of the person (``people`` rows);
- the observer: the ``registry.person.registered`` messages it received.

Figures:

- **lost**: a committed write (or a write the API acknowledged) without its effect in
  one of the consumers, or never seen by the observer. Must be 0.
- **duplicated**: a write with more than one effect in a consumer, or published as more
  than one event. Must be 0.
- **redelivered**: deliveries the observer got beyond the first of each message (a
  republished batch, a redelivery after a lost connection): counted, not an error.
- **unexpected**: an effect or a message no committed write explains. Must be 0.
- **dead-lettered**: messages in the consumers' dead-letter queues. Must be 0 (a fault
  is no reason to give up on an event).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from tests.faults.observer import Observer
from tests.faults.platform import Platform

REGISTERED = "registry.person.registered"


class Writes(Protocol):
    """What a writer records (the load driver, a burst): write ``n`` registers the
    person ``f<run>-<n>@faults.example.org``."""

    run: str
    attempted: int
    acknowledged: dict[int, str]


@dataclass
class Figures:
    fault: str
    attempted: int = 0
    acknowledged: int = 0
    committed: int = 0
    effects: dict[str, int] = field(default_factory=dict)
    observed: int = 0
    lost: int = 0
    duplicated: int = 0
    redelivered: int = 0
    unexpected: int = 0
    dead: int = 0
    """Messages the consumers dead-lettered (no fault may cause one)."""
    notes: dict[str, Any] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        effects = " ".join(f"{name} {count}" for name, count in self.effects.items())
        notes = "".join(f"; {key} {value}" for key, value in self.notes.items())
        return (
            f"{self.fault}: writes {self.attempted} acknowledged {self.acknowledged} "
            f"committed {self.committed} | effects: {effects} observer {self.observed} | "
            f"lost {self.lost} duplicated {self.duplicated} redelivered {self.redelivered} "
            f"unexpected {self.unexpected} dead-lettered {self.dead}{notes}"
        )

    def assert_clean(self) -> None:
        assert (self.lost, self.duplicated, self.unexpected, self.dead) == (0, 0, 0, 0), (
            self.line() + "\n" + "\n".join(self.examples[:20])
        )


class Checker:
    def __init__(self, platform: Platform, driver: Writes, observer: Observer) -> None:
        self.platform = platform
        self.driver = driver
        self.observer = observer

    # -- reading the truth and the effects ----------------------------------------------
    def committed(self) -> dict[str, str]:
        """Person id -> e-mail of every write the registry committed."""
        rows = self.platform.query("registry", "SELECT id, email FROM people")
        return {person_id: email for person_id, email in rows}

    def events(self) -> list[tuple[str, str]]:
        """(event id, person id) of every registration event the registry committed."""
        rows = self.platform.query(
            "registry", "SELECT event_id, subject FROM outbox WHERE type = %s", REGISTERED
        )
        return [(event_id, subject) for event_id, subject in rows]

    def notifications(self) -> Counter[str]:
        rows = self.platform.query(
            "notifications",
            "SELECT person_id, count(*) FROM notifications "
            "WHERE event_type = %s AND channel = 'in_app' GROUP BY person_id",
            REGISTERED,
        )
        return Counter({person_id: count for person_id, count in rows})

    def read_copies(self) -> Counter[str]:
        rows = self.platform.query("events", "SELECT id, count(*) FROM people GROUP BY id")
        return Counter({person_id: count for person_id, count in rows})

    # -- waiting ---------------------------------------------------------------------------
    def drained(self) -> bool:
        """Every committed write published and seen by both consumers and the observer
        (counts only: polled while a burst of 10,000 drains on two cores)."""
        [(committed,)] = self.platform.query("registry", "SELECT count(*) FROM people")
        return bool(
            self.platform.unsent() == 0
            and self.observer.seen() >= committed
            and self._count(
                "notifications",
                "SELECT count(DISTINCT person_id) FROM notifications "
                "WHERE event_type = %s AND channel = 'in_app'",
                REGISTERED,
            )
            >= committed
            and self._count("events", "SELECT count(DISTINCT id) FROM people") >= committed
        )

    def _count(self, service: str, sql: str, *args: Any) -> int:
        return int(self.platform.query(service, sql, *args)[0][0])

    def drain(self, timeout: float = 120.0) -> float:
        """Wait until every committed write has all its effects (or ``timeout``); then a
        moment more for late copies to arrive. Seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if self.drained():
                    break
            except Exception:  # noqa: BLE001 - the database may still be coming back
                pass
            time.sleep(0.25)
        took = time.monotonic() - started
        time.sleep(1.0)
        return took

    # -- the check -------------------------------------------------------------------------
    def check(self, fault: str) -> Figures:
        """The figures of the run; lost, duplicated and unexpected count writes (or
        messages), each once however many places show it."""
        committed = self.committed()
        events = self.events()
        notified = self.notifications()
        copies = self.read_copies()
        deliveries = self.observer.counts()
        lost: set[str] = set()
        duplicated: set[str] = set()
        unexpected: set[str] = set()
        examples: list[str] = []

        def note(found: set[str], key: str, text: str) -> None:
            found.add(key)
            if len(examples) < 40:
                examples.append(text)

        # every acknowledged write must have committed
        for number, person_id in self.driver.acknowledged.items():
            if person_id not in committed:
                note(lost, person_id, f"lost: write {number} ({person_id}) acknowledged, absent")
        # every committed write is one the driver made, published as exactly one event
        made = {f"f{self.driver.run}-{n}@faults.example.org" for n in range(self.driver.attempted)}
        for person_id, email in committed.items():
            if email not in made:
                note(unexpected, person_id, f"unexpected: person {person_id} ({email})")
        events_of: dict[str, list[str]] = {}
        for event_id, person_id in events:
            events_of.setdefault(person_id, []).append(event_id)
        for person_id in committed:
            count = len(events_of.get(person_id, []))
            if count == 0:
                note(lost, person_id, f"lost: person {person_id} committed without its event")
            elif count > 1:
                note(duplicated, person_id, f"duplicated: person {person_id}: {count} events")
        for person_id in set(events_of) - set(committed):
            note(unexpected, person_id, f"unexpected: an event for person {person_id}")
        # every committed write has exactly one effect in each consumer ...
        for consumer, effects in (("notifications", notified), ("events", copies)):
            for person_id in committed:
                count = effects.get(person_id, 0)
                if count == 0:
                    note(lost, person_id, f"lost: {consumer} has no effect of {person_id}")
                elif count > 1:
                    note(duplicated, person_id, f"duplicated: {consumer}: {count} of {person_id}")
            for person_id in set(effects) - set(committed):
                note(unexpected, person_id, f"unexpected: {consumer}: effect of {person_id}")
        # ... and reached the independent subscriber
        for person_id, ids in events_of.items():
            if person_id in committed and not any(deliveries.get(i) for i in ids):
                note(lost, person_id, f"lost: the observer never saw the event of {person_id}")
        published = {event_id for event_id, _ in events}
        for message_id in set(deliveries) - published:
            note(unexpected, message_id, f"unexpected: the observer got message {message_id}")
        return Figures(
            fault,
            attempted=self.driver.attempted,
            acknowledged=len(self.driver.acknowledged),
            committed=len(committed),
            effects={"notifications": len(notified), "events": len(copies)},
            observed=len(deliveries),
            lost=len(lost),
            duplicated=len(duplicated),
            redelivered=sum(deliveries.values()) - len(deliveries),
            unexpected=len(unexpected),
            examples=examples,
        )
