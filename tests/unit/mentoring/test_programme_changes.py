"""Editing and closing a programme with work under way, joint meetings' own refusals,
a mentee's capacity and the programme filter, on in-memory repositories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.mentoring import operations as ops
from services.mentoring.domain.commands import (
    CancelSession,
    EditProgramme,
    MoveProgramme,
    RescheduleMeeting,
    ScheduleMeeting,
    ScheduleSession,
    SetGoal,
)
from services.mentoring.domain.model import (
    CANCELLED_BY_CLOSING,
    Competency,
    ProgrammeStatus,
    SessionKind,
    SessionStatus,
)
from shared.errors import Conflict, InvalidInput, InvalidTransition
from tests.unit.mentoring.conftest import Uow, cast, cluster, enrol, matched, person, programme

PAST = datetime(2026, 3, 2, 9, tzinfo=UTC)
SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
LAST_DAY = SOON.date() + timedelta(days=365)
"""The test programme runs from 2026-01-01 to a year after SOON."""


@pytest.fixture
def running(uow: Uow) -> tuple[str, list]:
    """A running programme with two confirmed pairs (Spanish mentors, Tunisian mentees)."""
    open_ = programme(uow, ends_on=LAST_DAY)
    cast(uow, open_.id, n=2)
    pairs = matched(uow, open_.id)
    ops.move_programme(uow, MoveProgramme(open_.id, "launch"))
    return open_.id, pairs


def _session(pair_id: str, at: datetime) -> ScheduleSession:
    return ScheduleSession(SessionKind.BILATERAL, (pair_id,), at, 60, "Africa/Tunis")


def _meeting(programme_id: str, at: datetime) -> ScheduleMeeting:
    return ScheduleMeeting(
        programme_id,
        "Joint meeting",
        at,
        at + timedelta(hours=2),
        "Africa/Tunis",
        "https://meet.example.org/j",
    )


def _edit(uow: Uow, programme_id: str, **changes: object) -> object:
    return ops.edit_programme(uow, EditProgramme(programme_id, dict(changes)))


def test_new_dates_must_still_hold_the_sessions_and_meetings(
    uow: Uow, running: tuple[str, list]
) -> None:
    programme_id, (pair, _) = running
    session = ops.schedule_session(uow, _session(pair.id, SOON))
    with pytest.raises(Conflict, match=f"session {session.id} .* outside the new dates"):
        _edit(uow, programme_id, ends_on=SOON.date() - timedelta(days=1))
    with pytest.raises(Conflict, match="outside the new dates"):
        _edit(uow, programme_id, starts_on=SOON.date() + timedelta(days=1))
    with pytest.raises(InvalidInput):  # plain invalid input stays a 422
        _edit(uow, programme_id, ends_on=date(2025, 12, 31))
    ops.cancel_session(uow, CancelSession(session.id))
    meeting = ops.schedule_meeting(uow, _meeting(programme_id, SOON + timedelta(days=7)))
    with pytest.raises(Conflict, match=f"joint meeting {meeting.id} .* outside the new dates"):
        _edit(uow, programme_id, ends_on=SOON.date())
    moved = _edit(uow, programme_id, ends_on=SOON.date() + timedelta(days=7), name=" New  name ")
    assert (moved.ends_on, moved.name) == (SOON.date() + timedelta(days=7), "New name")  # type: ignore[attr-defined]


def test_competencies_in_use_stay(uow: Uow, running: tuple[str, list]) -> None:
    programme_id, (pair, _) = running
    everything = (Competency.FUNDING, Competency.INTERNATIONALISATION, Competency.INNOVATION)
    _edit(uow, programme_id, competencies=everything)  # adding is harmless
    with pytest.raises(Conflict, match="enrolments cannot be dropped: funding"):
        _edit(uow, programme_id, competencies=(Competency.INNOVATION,))
    ops.set_goal(uow, SetGoal(pair.id, "Go abroad", Competency.INTERNATIONALISATION, by="x"))
    with pytest.raises(Conflict, match="goals cannot be dropped: internationalisation"):
        _edit(uow, programme_id, competencies=(Competency.FUNDING,))
    kept = (Competency.FUNDING, Competency.INTERNATIONALISATION)
    edited = _edit(uow, programme_id, competencies=kept)  # innovation was used by nobody
    assert edited.competencies == kept  # type: ignore[attr-defined]


def test_closing_cancels_the_sessions_and_meetings_to_come(
    uow: Uow, running: tuple[str, list]
) -> None:
    programme_id, (first, second) = running
    held = ops.schedule_session(uow, _session(first.id, PAST))
    coming = ops.schedule_session(uow, _session(second.id, SOON))
    meeting = ops.schedule_meeting(uow, _meeting(programme_id, SOON))
    before = len(uow.events)
    ops.move_programme(uow, MoveProgramme(programme_id, "close"))
    assert ops.get_session(uow, held.id).status is SessionStatus.SCHEDULED  # may still complete
    cancelled = ops.get_session(uow, coming.id)
    assert (cancelled.status, cancelled.cancel_reason) == (
        SessionStatus.CANCELLED,
        CANCELLED_BY_CLOSING,
    )
    assert ops.get_meeting(uow, meeting.id).status is SessionStatus.CANCELLED
    closing = uow.events[before:]
    assert [e.type for e in closing] == [
        "mentoring.programme.closed",
        "mentoring.pair.ended",
        "mentoring.pair.ended",
        "mentoring.session.cancelled",
        "mentoring.meeting.cancelled",
    ]
    assert {e.data["reason"] for e in closing[-2:]} == {"The programme was closed."}
    assert (closing[-2].subject, closing[-1].subject) == (coming.id, meeting.id)


def test_joint_meetings_say_why_they_are_refused(uow: Uow, running: tuple[str, list]) -> None:
    programme_id, _ = running
    meeting = ops.schedule_meeting(uow, _meeting(programme_id, PAST))
    ops.move_programme(uow, MoveProgramme(programme_id, "close"))
    with pytest.raises(InvalidTransition) as scheduled:
        ops.schedule_meeting(uow, _meeting(programme_id, PAST))
    assert str(scheduled.value) == (
        "Joint meetings are scheduled only while the programme is open or running; it is closed."
    )
    with pytest.raises(InvalidTransition) as moved:
        ops.reschedule_meeting(
            uow, RescheduleMeeting(meeting.id, PAST, PAST + timedelta(hours=1), None)
        )
    assert str(moved.value) == (
        "Joint meetings are rescheduled only while the programme is open or running; it is closed."
    )


def test_a_mentee_has_no_capacity(uow: Uow) -> None:
    open_ = programme(uow)
    cluster(uow, "c-tn", "TN")
    person(uow, "mentee", "c-tn")
    with pytest.raises(InvalidInput) as refused:
        enrol(uow, open_.id, "mentee", "mentee", capacity=3)
    assert refused.value.errors == {
        "capacity": ["Only a mentor has a capacity; a mentee takes none."]
    }
    assert enrol(uow, open_.id, "mentee", "mentee").capacity is None


def test_programmes_are_listed_by_status(uow: Uow) -> None:
    draft, open_ = programme(uow, status="draft"), programme(uow)
    assert [p.id for p in ops.list_programmes(uow, 10, None)] == [draft.id, open_.id]
    found = ops.list_programmes(uow, 10, None, ProgrammeStatus.OPEN)
    assert [p.id for p in found] == [open_.id]
    assert ops.list_programmes(uow, 10, None, ProgrammeStatus.CLOSED) == []
