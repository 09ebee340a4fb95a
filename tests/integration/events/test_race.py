"""Concurrent registrations and cancellations never overbook an event (real databases).

Fifty threads register at once, each through its own request and connection; the
event's row lock (PostgreSQL) or the single writer (SQLite) orders them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from booster.testing import ServiceHarness
from services.events.adapters.tables import registrations as registrations_table
from tests.integration.events.conftest import known_person, new_event, register, registrations

RACERS = 50
CAPACITY = 10


def _all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; their results in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_fifty_people_racing_for_ten_seats(events: ServiceHarness) -> None:
    event = new_event(events, capacity=CAPACITY)
    people = [known_person(events, f"racer-{index:02}") for index in range(RACERS)]
    calls = [lambda person=person: register(events, event["id"], person) for person in people]
    responses = _all_at_once(calls)
    assert [response.status_code for response in responses] == [201] * RACERS
    statuses = Counter(response.get_json()["status"] for response in responses)
    assert statuses == {"confirmed": CAPACITY, "waitlisted": RACERS - CAPACITY}
    positions = sorted(
        r.get_json()["waitlist_position"]
        for r in responses
        if r.get_json()["status"] == "waitlisted"
    )
    assert positions == list(range(1, RACERS - CAPACITY + 1))
    listed = registrations(events, event["id"])
    assert len(listed) == RACERS and len({r["person_id"] for r in listed}) == RACERS
    # the waitlist is in the order the seats were refused: confirmed ones come first
    assert [r["status"] for r in listed] == ["confirmed"] * CAPACITY + ["waitlisted"] * (
        RACERS - CAPACITY
    )
    with events.runtime.database.reading() as session:
        sequences = session.scalars(select(registrations_table.c.sequence)).all()
    assert sorted(sequences) == list(range(1, RACERS + 1))
    emitted = Counter(e.type for e in events.events())
    assert emitted["events.registration.confirmed"] == CAPACITY
    assert emitted["events.registration.waitlisted"] == RACERS - CAPACITY


def test_the_same_person_racing_themselves_gets_one_registration(
    events: ServiceHarness,
) -> None:
    event = new_event(events, capacity=CAPACITY)
    person = known_person(events, "eager")
    responses = _all_at_once([lambda: register(events, event["id"], person)] * 10)
    codes = Counter(response.status_code for response in responses)
    assert codes == {201: 1, 409: 9}
    assert len(registrations(events, event["id"])) == 1


def test_cancellations_racing_registrations_keep_the_seats_exact(
    events: ServiceHarness,
) -> None:
    event = new_event(events, capacity=5)
    first = [known_person(events, f"first-{index}") for index in range(15)]
    made = [register(events, event["id"], person).get_json() for person in first]
    late = [known_person(events, f"late-{index}") for index in range(15)]
    cancel_path = f"/api/v1/events/{event['id']}/registrations/{{}}/cancel"
    calls: list[Callable[[], Any]] = [
        lambda rid=r["id"]: events.client.post(
            cancel_path.format(rid), json={}, headers=events.headers("events:write")
        )
        for r in made[:8]  # the 5 seated and 3 of the waitlisted leave
    ]
    calls += [lambda person=person: register(events, event["id"], person) for person in late]
    responses = _all_at_once(calls)
    assert all(response.status_code in (200, 201) for response in responses)
    listed = registrations(events, event["id"])
    confirmed = [r for r in listed if r["status"] == "confirmed"]
    waiting = [r for r in listed if r["status"] == "waitlisted"]
    assert len(confirmed) == 5
    assert len(waiting) == 30 - 8 - 5
    # nobody who registered later overtook someone still waiting from before
    waiting_first = [r for r in waiting if r["person_id"].startswith("first-")]
    assert len(waiting_first) == 15 - 8 - 5  # earlier registrants still wait...
    assert all(r["person_id"].startswith("first-") for r in confirmed)  # ...so none late sits
    assert [r["waitlist_position"] for r in waiting] == list(range(1, len(waiting) + 1))
    seen = events.client.get(
        f"/api/v1/events/{event['id']}", headers=events.headers("events:read")
    ).get_json()
    assert seen["confirmed"] == 5


RAISED = 18
"""The capacity raise's new seats: more than the three waiting, fewer than all racers."""


def test_a_capacity_raise_racing_twenty_registrations_never_overbooks(
    events: ServiceHarness,
) -> None:
    """Ten seats taken and three people waiting; the capacity goes to 18 while twenty
    more people register at once. Whatever the order, exactly 18 hold a seat, and the
    seats went by sequence: nobody still waiting registered before someone seated."""
    for round_ in range(3):
        _raise_during_registrations(events, f"r{round_}", racers=20)


def _raise_during_registrations(events: ServiceHarness, tag: str, racers: int) -> None:
    event_id = new_event(events, capacity=CAPACITY)["id"]
    first = [known_person(events, f"{tag}-first-{i:02}") for i in range(CAPACITY + 3)]
    for person in first:
        assert register(events, event_id, person).status_code == 201
    late = [known_person(events, f"{tag}-late-{i:02}") for i in range(racers)]
    calls: list[Callable[[], Any]] = [
        lambda person=person: register(events, event_id, person) for person in late
    ]
    raise_ = events.headers("events:write", **{"If-Match": "*"})
    calls.insert(
        racers // 2,
        lambda: events.client.patch(
            f"/api/v1/events/{event_id}", json={"capacity": RAISED}, headers=raise_
        ),
    )
    responses = _all_at_once(calls)
    codes = Counter(response.status_code for response in responses)
    assert codes == {201: racers, 200: 1}, codes
    listed = registrations(events, event_id)  # in the order they were made
    waiting = CAPACITY + 3 + racers - RAISED
    assert [r["status"] for r in listed] == ["confirmed"] * RAISED + ["waitlisted"] * waiting
    assert [r["waitlist_position"] for r in listed[RAISED:]] == list(range(1, waiting + 1))
    assert {r["person_id"] for r in listed[:RAISED]} >= set(first)
    seen = events.client.get(
        f"/api/v1/events/{event_id}", headers=events.headers("events:read")
    ).get_json()
    assert (seen["capacity"], seen["confirmed"], seen["seats_left"]) == (RAISED, RAISED, 0)
