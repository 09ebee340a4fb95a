"""The real operations against a reference model of a waitlist, on random scenarios.

The model is a plain first-come queue: the first ``capacity`` live registrations hold
seats; a freed seat goes to whoever has waited longest. After every step the database
must agree with it: who is confirmed, the waitlist order and positions, the event's
seat count, and the events emitted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from booster.testing import ServiceHarness, service_harness
from services.events import operations as ops
from services.events.domain.commands import CancelRegistration, Register
from services.events.domain.ports import ParticipantQuery
from tests.conftest import TEST_SECRET
from tests.integration.events.conftest import known_person, new_event

SEEDS = range(8)
STEPS = 60


@pytest.fixture
def events_sqlite(sqlite_url: str, tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness("events", sqlite_url, tmp_path, TEST_SECRET) as harness:
        yield harness


class Queue:
    """The reference: live registrations in arrival order; the first ``seats`` hold one."""

    def __init__(self, seats: int) -> None:
        self.seats = seats
        self.live: list[str] = []

    def confirmed(self) -> list[str]:
        return self.live[: self.seats]

    def waiting(self) -> list[str]:
        return self.live[self.seats :]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_operations_behave_like_a_first_come_queue(
    events_sqlite: ServiceHarness, seed: int
) -> None:
    rng = random.Random(seed)
    harness = events_sqlite
    uow = harness.runtime.uow
    seats = rng.randint(1, 5)
    event = new_event(harness, capacity=seats)
    model = Queue(seats)
    ids: dict[str, str] = {}  # person -> live registration id
    people = [known_person(harness, f"s{seed}-p{n}") for n in range(25)]
    for _ in range(STEPS):
        idle = [p for p in people if p not in ids]
        if model.live and (not idle or rng.random() < 0.4):
            person = rng.choice(model.live)
            was_seated = person in model.confirmed()
            promoted = model.waiting()[0] if was_seated and model.waiting() else None
            ops.cancel_registration(uow, CancelRegistration(event["id"], ids.pop(person)))
            model.live.remove(person)
            emitted = [e.type for e in harness.events()[-2:]]
            if promoted:
                assert emitted == ["events.registration.cancelled", "events.registration.promoted"]
            else:
                assert emitted[-1] == "events.registration.cancelled"
        else:
            person = rng.choice(idle)
            registration, place = ops.register(uow, Register(event["id"], person))
            ids[person] = registration.id
            model.live.append(person)
            expected = "confirmed" if person in model.confirmed() else "waitlisted"
            assert registration.status == expected
            assert place == (None if expected == "confirmed" else len(model.waiting()))
        _agrees(harness, event["id"], model)


def _agrees(harness: ServiceHarness, event_id: str, model: Queue) -> None:
    page = ops.list_registrations(harness.runtime.uow, event_id, ParticipantQuery(), 500, None)
    live = [
        (p.registration, p.waitlist_position)
        for p in page
        if p.registration.status in ("confirmed", "waitlisted")
    ]
    confirmed = {r.person_id for r, _ in live if r.status == "confirmed"}
    waiting = [(r.person_id, place) for r, place in live if r.status == "waitlisted"]
    assert confirmed == set(model.confirmed())
    assert waiting == [(p, n) for n, p in enumerate(model.waiting(), start=1)]
    assert ops.get_event(harness.runtime.uow, event_id).confirmed == len(confirmed)
