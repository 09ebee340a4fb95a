"""The events service's read copy of the registry's people, and what a removal ends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import ServiceHarness
from services.events.adapters.repository import SqlRegistrations
from services.events.handlers import keep_people, person_removed
from shared.events import CloudEvent
from tests.integration.events.conftest import known_person, new_event, register, registrations


def _event(kind: str, person_id: str, at: datetime, **data: object) -> CloudEvent:
    if kind == "removed":
        body: dict = {"id": person_id}
    else:
        body = {"id": person_id, "name": "Amina", "email": "a@example.org", "language": "ar"}
        body |= {"role": "expert", **data}
        if kind == "updated":
            body["changed"] = sorted(data)
    event_ = platform_catalogue().make_event(
        f"registry.person.{kind}", subject=person_id, data=body
    )
    return CloudEvent(**{**event_.__dict__, "time": at.isoformat()})


def _apply(events: ServiceHarness, event_: CloudEvent) -> None:
    with events.runtime.uow.begin() as tx:
        if event_.type.endswith("removed"):
            person_removed(event_, tx)
        else:
            keep_people([event_], tx)


def _person(events: ServiceHarness, person_id: str):  # noqa: ANN202
    with events.runtime.uow.read() as tx:
        return tx.people.get(person_id)


def test_the_newest_change_wins_whatever_the_arrival_order(events: ServiceHarness) -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _apply(events, _event("registered", "p1", t0))
    _apply(events, _event("updated", "p1", t0 + timedelta(minutes=2), name="Amina B."))
    _apply(events, _event("updated", "p1", t0 + timedelta(minutes=1), name="Stale"))
    person = _person(events, "p1")
    assert (person.name, person.language, person.removed) == ("Amina B.", "ar", False)
    # an update can arrive before the registration it follows
    _apply(events, _event("updated", "p2", t0 + timedelta(minutes=5), language="fr"))
    _apply(events, _event("registered", "p2", t0))
    assert _person(events, "p2").language == "fr"


def test_one_batch_keeps_the_newest_change_of_each_person(events: ServiceHarness) -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _apply(events, _event("registered", "p1", t0))
    batch = [
        _event("updated", "p1", t0 + timedelta(minutes=3), name="Newest"),
        _event("updated", "p2", t0 + timedelta(minutes=1), name="Other"),
        _event("updated", "p1", t0 + timedelta(minutes=2), name="Older"),
        _event("updated", "p1", t0 - timedelta(minutes=2), name="Before the copy"),
    ]
    with events.runtime.uow.begin() as tx:
        keep_people(batch, tx)
    assert (_person(events, "p1").name, _person(events, "p2").name) == ("Newest", "Other")
    with events.runtime.uow.begin() as tx:
        keep_people([_event("updated", "p1", t0, name="Stale")], tx)
    assert _person(events, "p1").name == "Newest"


def test_a_removed_person_is_forgotten_and_stays_removed(events: ServiceHarness) -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _apply(events, _event("registered", "p1", t0))
    _apply(events, _event("removed", "p1", t0 + timedelta(minutes=1)))
    person = _person(events, "p1")
    assert person.removed and (person.name, person.email, person.language) == (None, None, None)
    _apply(events, _event("updated", "p1", t0 + timedelta(minutes=2), name="Back?"))
    assert _person(events, "p1").name is None
    # a removal of someone never seen leaves a tombstone too
    _apply(events, _event("removed", "ghost", t0))
    _apply(events, _event("registered", "ghost", t0 - timedelta(minutes=1)))
    assert _person(events, "ghost").removed
    event = new_event(events)
    assert register(events, event["id"], "p1").status_code == 422


def test_removing_a_person_ends_their_registrations_and_promotes_the_next(
    events: ServiceHarness,
) -> None:
    first, second = new_event(events, capacity=1), new_event(events, capacity=5)
    leaving = known_person(events, "leaving")
    waiting = known_person(events, "waiting")
    register(events, first["id"], leaving)
    register(events, first["id"], waiting)
    register(events, second["id"], leaving)
    _apply(events, _event("removed", leaving, datetime.now(UTC)))
    on_first = {r["person_id"]: r for r in registrations(events, first["id"])}
    assert on_first["leaving"]["status"] == "cancelled"
    assert on_first["leaving"]["cancel_reason"] == "The person was removed from the registry."
    assert on_first["waiting"]["status"] == "confirmed"
    assert [r["status"] for r in registrations(events, second["id"])] == ["cancelled"]
    tail = sorted(e.type for e in events.events()[-3:])
    assert tail == [
        "events.registration.cancelled",
        "events.registration.cancelled",
        "events.registration.promoted",
    ]


def test_a_registration_racing_the_removal_of_its_person_does_not_survive_it(
    events: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The removal locks the person first; a registration arriving meanwhile waits and
    then finds the person removed (on SQLite, it waits for the single writer)."""
    event = new_event(events)
    person = known_person(events, "p-1")
    listed = SqlRegistrations.active_event_ids_of
    racing: dict[str, object] = {}

    def listing_while_a_registration_arrives(self: SqlRegistrations, person_id: str) -> list:
        found = listed(self, person_id)
        thread = threading.Thread(
            target=lambda: racing.setdefault("response", register(events, event["id"], person))
        )
        thread.start()
        thread.join(1.0)  # it blocks on the removal's lock
        racing["thread"] = thread
        return found

    monkeypatch.setattr(
        SqlRegistrations, "active_event_ids_of", listing_while_a_registration_arrives
    )
    _apply(events, _event("removed", person, datetime.now(UTC)))
    racing["thread"].join(30)  # type: ignore[attr-defined]
    assert racing["response"].status_code == 422  # type: ignore[attr-defined]
    assert registrations(events, event["id"]) == []
