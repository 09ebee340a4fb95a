"""The use cases driven by other services' events, on fakes: the people read copy, a
person's removal, and hosting mentoring meetings. Each runs in the handler's unit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.events import operations as ops
from services.events.domain.commands import ForgetPerson, HostMeeting, KeepPeople
from services.events.domain.model import EventFormat, EventKind, EventStatus, PersonCopy
from shared.errors import PlatformError
from tests.unit.events.conftest import T0, Uow, change, known, published, register, statuses


def keep(uow: Uow, *changes: Any) -> None:
    with uow.begin() as tx:
        ops.keep_people(tx, KeepPeople(tuple(changes)))


def forget(uow: Uow, person_id: str, at: datetime = T0) -> None:
    with uow.begin() as tx:
        ops.forget_person(tx, ForgetPerson(person_id, at))


def person(uow: Uow, person_id: str) -> PersonCopy:
    with uow.read() as tx:
        found = tx.people.get(person_id)
    assert found is not None, person_id
    return found


def meeting(person_ids: list[str], *, days: float = 7, **fields: Any) -> HostMeeting:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    command: dict[str, Any] = {
        "meeting_id": "m-1",
        "programme_id": "cmr-2026",
        "title": "Joint  meeting: cluster strategies",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "timezone": "Africa/Tunis",
        "online_link": "https://meet.example.org/joint",
        "person_ids": tuple(person_ids),
        "at": datetime.now(UTC),
    }
    return HostMeeting(**{**command, **fields})


def host(uow: Uow, command: HostMeeting) -> Any:
    with uow.begin() as tx:
        return ops.host_meeting(tx, command)


# -- the people read copy ------------------------------------------------------------
def test_the_newest_change_of_a_person_wins_whatever_the_arrival_order(uow: Uow) -> None:
    keep(uow, change("p1", T0))
    keep(uow, change("p1", T0 + timedelta(minutes=2), name="Amina B."))
    keep(uow, change("p1", T0 + timedelta(minutes=1), name="Stale"))
    assert person(uow, "p1") == PersonCopy("p1", "Amina B.", "p1@example.org", "fr", False)
    # an update can arrive before the registration it follows
    keep(uow, change("p2", T0 + timedelta(minutes=5), language="ar"))
    keep(uow, change("p2", T0))
    assert person(uow, "p2").language == "ar"
    assert uow.events == []  # the copy is the service's own business


def test_one_batch_keeps_the_newest_change_of_each_person(uow: Uow) -> None:
    keep(uow, change("p1", T0))
    keep(
        uow,
        change("p1", T0 + timedelta(minutes=3), name="Newest"),
        change("p2", T0 + timedelta(minutes=1), name="Other"),
        change("p1", T0 + timedelta(minutes=2), name="Older"),
        change("p1", T0 - timedelta(minutes=2), name="Before the copy"),
    )
    assert [person(uow, p).name for p in ("p1", "p2")] == ["Newest", "Other"]


def test_a_removed_person_is_forgotten_and_stays_removed(uow: Uow) -> None:
    keep(uow, change("p1", T0))
    forget(uow, "p1", T0 + timedelta(minutes=1))
    assert person(uow, "p1") == PersonCopy("p1", None, None, None, True)
    keep(uow, change("p1", T0 + timedelta(minutes=2), name="Back?"))
    assert person(uow, "p1") == PersonCopy("p1", None, None, None, True)
    # someone never seen leaves a tombstone too, which an older registration cannot lift
    forget(uow, "ghost", T0)
    keep(uow, change("ghost", T0 - timedelta(minutes=1)))
    assert person(uow, "ghost").removed


def test_removing_a_person_ends_their_registrations_and_promotes_the_next(uow: Uow) -> None:
    full, roomy = published(uow, capacity=1), published(uow, capacity=5)
    leaving, waiting = known(uow, "leaving", "waiting")
    register(uow, full, leaving)
    register(uow, full, waiting)
    register(uow, roomy, leaving)
    forget(uow, leaving, datetime.now(UTC))
    assert statuses(uow, full) == {"leaving": "cancelled", "waiting": "confirmed"}
    assert statuses(uow, roomy) == {"leaving": "cancelled"}
    reasons = {
        r.cancel_reason for r in uow.tx.registrations.rows.values() if r.person_id == leaving
    }
    assert reasons == {ops.PERSON_REMOVED}
    assert sorted(uow.types()[-3:]) == [
        "events.registration.cancelled",
        "events.registration.cancelled",
        "events.registration.promoted",
    ]
    cancellations = [e for e in uow.events[-3:] if e.type.endswith("cancelled")]
    assert [e.data["reason"] for e in cancellations] == [ops.PERSON_REMOVED] * 2


# -- mentoring meetings --------------------------------------------------------------
def test_a_meeting_becomes_a_published_online_event_with_everyone_registered(
    uow: Uow,
) -> None:
    people = known(uow, "p0", "p1", "p2")
    hosted = host(uow, meeting([*people, "p0"]))  # a repeated id is registered once
    assert hosted.id == ops.hosted_event_id("m-1")
    assert (hosted.kind, hosted.format, hosted.status) == (
        EventKind.JOINT_MEETING,
        EventFormat.ONLINE,
        EventStatus.PUBLISHED,
    )
    assert (hosted.title, hosted.capacity, hosted.confirmed) == (
        "Joint meeting: cluster strategies",
        None,
        3,
    )
    assert hosted.description == "Meeting of mentoring programme cmr-2026."
    assert ops.get_event(uow, hosted.id) == hosted
    assert statuses(uow, hosted) == dict.fromkeys(people, "confirmed")
    assert (
        uow.types()
        == ["events.event.created", "events.event.published"]
        + ["events.registration.confirmed"] * 3
    )
    assert uow.events[-1].data["event"]["timezone"] == "Africa/Tunis"


def test_a_meeting_with_a_participant_not_known_yet_waits_and_leaves_no_trace(
    uow: Uow,
) -> None:
    """The consumer retries the message: a PersonNotKnownYet is not a refusal."""
    known(uow, "p1")
    with pytest.raises(ops.PersonNotKnownYet) as waiting:
        host(uow, meeting(["p1", "late"]))
    assert waiting.value.person_id == "late"
    assert not isinstance(waiting.value, PlatformError)
    assert uow.tx.events.rows == {} and uow.events == []
    known(uow, "late")
    hosted = host(uow, meeting(["p1", "late"]))
    assert set(statuses(uow, hosted)) == {"p1", "late"}


def test_a_meeting_is_hosted_once_and_later_participants_are_added(uow: Uow) -> None:
    first, added = known(uow, "p1", "p2")
    host(uow, meeting([first]))
    host(uow, meeting([first]))  # a replay
    assert len(uow.events) == 3
    hosted = host(uow, meeting([first, added], title="A new title"))  # not applied
    assert hosted.title == "Joint meeting: cluster strategies"
    assert list(statuses(uow, hosted).items()) == [("p1", "confirmed"), ("p2", "confirmed")]
    assert uow.types()[-1] == "events.registration.confirmed" and len(uow.events) == 4


def test_removed_participants_are_left_out(uow: Uow) -> None:
    known(uow, "stays", "gone")
    forget(uow, "gone", datetime.now(UTC))
    hosted = host(uow, meeting(["stays", "gone"]))
    assert statuses(uow, hosted) == {"stays": "confirmed"}


def test_a_meeting_that_has_started_is_not_hosted(uow: Uow) -> None:
    known(uow, "p1")
    assert host(uow, meeting(["p1"], days=-0.01)) is None
    assert uow.tx.events.rows == {} and uow.events == []


def test_a_hosted_meeting_whose_registration_has_closed_is_left_as_it_is(uow: Uow) -> None:
    first, late = known(uow, "p1", "p2")
    command = meeting([first])
    host(uow, command)
    after_start = command.starts_at + timedelta(minutes=1)
    assert host(uow, replace(command, person_ids=(first, late), at=after_start)) is None
    assert statuses(uow, ops.get_event(uow, ops.hosted_event_id("m-1"))) == {"p1": "confirmed"}
    assert len(uow.events) == 3
