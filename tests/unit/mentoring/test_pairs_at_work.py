"""Goals, sessions, joint meetings, feedback, the report, and the read copies with
flow 5, on in-memory repositories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.mentoring import operations as ops
from services.mentoring.domain.commands import (
    CancelMeeting,
    CancelSession,
    ChangeClusterStatus,
    CompleteSession,
    EndPair,
    ForgetCluster,
    ForgetPerson,
    GiveFeedback,
    MoveProgramme,
    RescheduleMeeting,
    RescheduleSession,
    RunMatching,
    ScheduleMeeting,
    ScheduleSession,
    SetGoal,
    UpdateGoal,
)
from services.mentoring.domain.model import (
    ClusterStatusChange,
    Competency,
    GoalStatus,
    PairStatus,
    SessionKind,
)
from shared.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, PreconditionFailed
from tests.unit.mentoring.conftest import T0, Uow, cast, cluster, matched, person, programme

PAST = datetime(2026, 3, 2, 9, tzinfo=UTC)
"""Within the test programme's dates (2026-2027) and already past."""


@pytest.fixture
def running(uow: Uow) -> tuple[str, list]:
    """A running programme with two confirmed pairs (Spanish mentors, Tunisian mentees)."""
    open_ = programme(uow)
    cast(uow, open_.id, n=2)
    pairs = matched(uow, open_.id)
    ops.move_programme(uow, MoveProgramme(open_.id, "launch"))
    return open_.id, pairs


def bilateral(pair_id: str, at: datetime = PAST, **fields: object) -> ScheduleSession:
    values: dict = {
        "timezone": "Africa/Tunis",
        "online_link": "https://meet.example.org/s",
        **fields,
    }
    return ScheduleSession(
        kind=SessionKind.BILATERAL,
        pair_ids=(pair_id,),
        starts_at=at,
        duration_minutes=60,
        **values,
    )


def test_a_session_is_scheduled_rescheduled_completed_with_attendance(
    uow: Uow, running: tuple[str, list]
) -> None:
    programme_id, (pair, _) = running
    session = ops.schedule_session(uow, bilateral(pair.id, agenda="Member services"))
    assert (session.title, session.person_ids) == ("Bilateral session", pair.person_ids)
    moved = ops.reschedule_session(uow, RescheduleSession(session.id, PAST + timedelta(days=1)))
    assert moved.ends_at == PAST + timedelta(days=1, hours=1)
    done = ops.complete_session(uow, CompleteSession(moved.id, (pair.mentee_id,), "Good"))
    assert done.attended == (pair.mentee_id,)
    with pytest.raises(InvalidTransition):
        ops.cancel_session(uow, CancelSession(done.id))
    types = uow.types()[-3:]
    assert types == [
        "mentoring.session.scheduled",
        "mentoring.session.rescheduled",
        "mentoring.session.completed",
    ]
    rescheduled = uow.events[-2].data
    assert rescheduled["previous_starts_at"] == PAST.isoformat().replace("+00:00", "+00:00")
    assert uow.events[-1].data["attended"] == [pair.mentee_id]


def test_session_rules(uow: Uow, running: tuple[str, list]) -> None:
    programme_id, (first, second) = running
    future = datetime(2027, 6, 1, 9, tzinfo=UTC)
    upcoming = ops.schedule_session(uow, bilateral(first.id, future))
    with pytest.raises(InvalidTransition, match="started"):
        ops.complete_session(uow, CompleteSession(upcoming.id, ()))
    with pytest.raises(InvalidInput, match="dates"):
        ops.schedule_session(uow, bilateral(first.id, datetime(2030, 1, 1, tzinfo=UTC)))
    with pytest.raises(InvalidInput, match="IANA"):
        ops.schedule_session(uow, bilateral(first.id, timezone="Mars/Olympus"))
    group = ops.schedule_session(
        uow,
        ScheduleSession(
            kind=SessionKind.GROUP,
            pair_ids=(first.id, second.id),
            starts_at=PAST,
            duration_minutes=90,
            programme_id=programme_id,
        ),
    )
    assert len(group.person_ids) == 4 and group.title == "Group session"
    with pytest.raises(InvalidInput, match="participants"):
        ops.complete_session(uow, CompleteSession(group.id, ("stranger",)))
    cancelled = ops.cancel_session(uow, CancelSession(upcoming.id, "Holiday"))
    assert uow.events[-1].data["reason"] == "Holiday" and cancelled.status == "cancelled"
    ops.end_pair(uow, EndPair(first.id, "Moved on"))
    with pytest.raises(InvalidTransition):
        ops.schedule_session(uow, bilateral(first.id))


def test_a_joint_meeting_names_every_participant(uow: Uow, running: tuple[str, list]) -> None:
    programme_id, pairs = running
    starts = datetime(2027, 3, 1, 10, tzinfo=UTC)
    meeting = ops.schedule_meeting(
        uow,
        ScheduleMeeting(
            programme_id,
            "Joint meeting: value-added services",
            starts,
            starts + timedelta(hours=2),
            "Europe/Madrid",
            "https://meet.example.org/joint",
        ),
    )
    everyone = {p for pair in pairs for p in pair.person_ids}
    scheduled = uow.events[-1]
    assert scheduled.type == "mentoring.meeting.scheduled"
    assert set(scheduled.data["person_ids"]) == everyone
    assert scheduled.data["timezone"] == "Europe/Madrid"
    moved = ops.reschedule_meeting(
        uow,
        RescheduleMeeting(
            meeting.id, starts + timedelta(days=1), starts + timedelta(days=1, hours=3)
        ),
    )
    assert uow.events[-1].data["previous_starts_at"] == starts.isoformat()
    ops.cancel_meeting(uow, CancelMeeting(moved.id, "Clash"))
    with pytest.raises(InvalidTransition):
        ops.cancel_meeting(uow, CancelMeeting(moved.id))
    assert uow.types()[-2:] == ["mentoring.meeting.rescheduled", "mentoring.meeting.cancelled"]


def test_goals_are_set_and_updated_with_their_version(uow: Uow, running: tuple[str, list]) -> None:
    _, (pair, _) = running
    goal = ops.set_goal(
        uow, SetGoal(pair.id, "A paid service offer", Competency.VALUE_ADDED_SERVICES, "op")
    )
    with pytest.raises(InvalidInput, match="competency"):
        ops.set_goal(uow, SetGoal(pair.id, "Apps", Competency.DIGITAL_TOOLS, "op"))
    half = ops.update_goal(
        uow, UpdateGoal(goal.id, pair.mentee_id, progress=50, expected_version=1)
    )
    assert (half.progress, half.version, half.updated_by) == (50, 2, pair.mentee_id)
    with pytest.raises(PreconditionFailed):
        ops.update_goal(uow, UpdateGoal(goal.id, "op", progress=60, expected_version=1))
    done = ops.update_goal(uow, UpdateGoal(goal.id, "op", status=GoalStatus.ACHIEVED))
    assert (done.progress, done.status) == (100, GoalStatus.ACHIEVED)
    with pytest.raises(InvalidInput):
        ops.update_goal(uow, UpdateGoal(goal.id, "op", progress=40, status=GoalStatus.ACHIEVED))
    event = uow.events[-1]
    assert event.type == "mentoring.goal.updated"
    assert event.data["person_ids"] == list(pair.person_ids)


def test_feedback_by_its_own_author_once_on_a_completed_session(
    uow: Uow, running: tuple[str, list]
) -> None:
    _, (pair, other) = running
    session = ops.schedule_session(uow, bilateral(pair.id))
    with pytest.raises(InvalidTransition):
        ops.give_feedback(uow, GiveFeedback(pair.id, pair.mentee_id, 5, session.id))
    ops.complete_session(uow, CompleteSession(session.id, pair.person_ids))
    with pytest.raises(Forbidden):
        ops.give_feedback(uow, GiveFeedback(pair.id, other.mentee_id, 5, session.id))
    with pytest.raises(InvalidInput):
        ops.give_feedback(uow, GiveFeedback(other.id, other.mentee_id, 5, session.id))
    given = ops.give_feedback(uow, GiveFeedback(pair.id, pair.mentee_id, 4, session.id, "Useful"))
    assert (given.author_role, given.subject) == ("mentee", "session")
    with pytest.raises(Conflict):
        ops.give_feedback(uow, GiveFeedback(pair.id, pair.mentee_id, 5, session.id))
    end = ops.give_feedback(uow, GiveFeedback(pair.id, pair.mentor_id, 5))
    assert (end.author_role, end.subject) == ("mentor", "programme")
    assert "comment" not in uow.events[-2].data  # comments stay in the service


def test_the_report_sums_sessions_attendance_goals_and_ratings(
    uow: Uow, running: tuple[str, list]
) -> None:
    programme_id, (pair, other) = running
    for attended in (pair.person_ids, (pair.mentor_id,)):
        session = ops.schedule_session(uow, bilateral(pair.id))
        ops.complete_session(uow, CompleteSession(session.id, attended))
        ops.give_feedback(uow, GiveFeedback(pair.id, pair.mentee_id, 3 + len(attended), session.id))
    ops.schedule_session(uow, bilateral(other.id))  # scheduled, not held
    goal = ops.set_goal(uow, SetGoal(pair.id, "Export desk", Competency.FUNDING, "op"))
    ops.update_goal(uow, UpdateGoal(goal.id, "op", progress=60))
    ops.set_goal(uow, SetGoal(pair.id, "Dropped", Competency.FUNDING, "op", progress=10))
    report = ops.report(uow, programme_id)
    rows = {row["pair_id"]: row for row in report["pairs"]}
    assert rows[pair.id]["sessions_held"] == 2
    assert rows[pair.id]["attendance_rate"] == 0.75
    assert rows[pair.id]["goal_progress"] == 35.0
    assert rows[pair.id]["average_rating"] == 4.5
    assert rows[other.id]["sessions_held"] == 0 and rows[other.id]["attendance_rate"] is None
    totals = report["totals"]
    assert (totals["pairs"], totals["sessions"], totals["sessions_scheduled"]) == (2, 2, 1)
    assert (totals["feedback"], totals["average_rating"]) == (2, 4.5)


def test_the_people_copy_keeps_the_newest_and_tombstones(uow: Uow) -> None:
    person(uow, "p1", None, name="Amina", at=T0)
    person(uow, "p1", None, name="Stale", at=T0 - timedelta(minutes=1))
    person(uow, "p1", "c1", name="Amina B.", at=T0 + timedelta(minutes=1))
    with uow.begin() as tx:
        assert tx.people.get("p1").name == "Amina B."  # type: ignore[union-attr]
        ops.forget_person(tx, ForgetPerson("p1", T0 + timedelta(minutes=2)))
    person(uow, "p1", "c1", name="Back?", at=T0 + timedelta(minutes=3))
    with uow.read() as tx:
        copy = tx.people.get("p1")
    assert copy is not None and copy.removed and copy.name is None


def test_the_cluster_copy_orders_details_and_status_apart(uow: Uow) -> None:
    cluster(uow, "c1", "TN", at=T0)
    later = ClusterStatusChange("c1", "Cluster c1", "TN", False, T0 + timedelta(minutes=5))
    older = ClusterStatusChange("c1", "Cluster c1", "TN", True, T0 + timedelta(minutes=1))
    with uow.begin() as tx:
        ops.change_cluster_status(tx, ChangeClusterStatus(later))
        ops.change_cluster_status(tx, ChangeClusterStatus(older))  # out of order: ignored
    cluster(uow, "c1", "TN", at=T0 + timedelta(minutes=2), name="Renamed", active=True)
    with uow.read() as tx:
        copy = tx.clusters.get("c1")
    assert copy is not None and (copy.name, copy.active) == ("Renamed", False)


def test_flow_5_a_deactivated_cluster_ends_its_mentees_pairs(
    uow: Uow, running: tuple[str, list]
) -> None:
    programme_id, (pair, other) = running
    with uow.read() as tx:
        home = tx.people.get(pair.mentee_id).cluster_id  # type: ignore[union-attr]
    change = ClusterStatusChange(home, "Cluster x", "TN", False, datetime.now(UTC))
    with uow.begin() as tx:
        ops.change_cluster_status(tx, ChangeClusterStatus(change, "Dissolved"))
    with uow.read() as tx:
        ended, untouched = tx.pairs.get(pair.id), tx.pairs.get(other.id)
    assert ended is not None and ended.status is PairStatus.ENDED
    assert ended.end_reason == "The mentee's cluster Cluster x was deactivated: Dissolved"
    assert untouched is not None and untouched.status is PairStatus.ACTIVE
    event = uow.events[-1]
    assert (event.type, event.data["status"]) == ("mentoring.pair.ended", "ended")
    assert event.data["mentee"]["person_id"] == pair.mentee_id
    # a mentor's cluster does not count: the Spanish cluster's deactivation ends nothing
    with uow.begin() as tx:
        ops.change_cluster_status(
            tx,
            ChangeClusterStatus(ClusterStatusChange("c-es", "ES", "ES", False, datetime.now(UTC))),
        )
    with uow.read() as tx:
        assert tx.pairs.get(other.id).status is PairStatus.ACTIVE  # type: ignore[union-attr]


def test_a_removed_person_or_cluster_ends_their_pairs(uow: Uow, running: tuple[str, list]) -> None:
    programme_id, (pair, other) = running
    with uow.begin() as tx:
        ops.forget_person(tx, ForgetPerson(pair.mentor_id, datetime.now(UTC)))
    with uow.read() as tx:
        gone = tx.pairs.get(pair.id)
        home = tx.people.get(other.mentee_id).cluster_id  # type: ignore[union-attr]
    assert gone is not None and gone.end_reason == "The person was removed from the registry."
    with uow.begin() as tx:
        ops.forget_cluster(tx, ForgetCluster(home, "Cluster y", datetime.now(UTC)))
    with uow.read() as tx:
        assert tx.pairs.get(other.id).status is PairStatus.ENDED  # type: ignore[union-attr]
        assert tx.clusters.get(home).removed  # type: ignore[union-attr]
    assert uow.types()[-2:] == ["mentoring.pair.ended", "mentoring.pair.ended"]
    with pytest.raises(InvalidTransition):  # running already
        ops.move_programme(uow, MoveProgramme(programme_id, "launch"))
    # the mentee whose mentor left is matched again, with the mentor now free
    [again] = ops.run_matching(uow, RunMatching(programme_id))
    assert (again.mentor_id, again.mentee_id) == (other.mentor_id, pair.mentee_id)


def test_people_unknown_to_matching_are_left_out(uow: Uow) -> None:
    open_ = programme(uow)
    cast(uow, open_.id, n=1)
    cluster(uow, "c-x", "EG")
    person(uow, "gone", "c-x")
    from tests.unit.mentoring.conftest import enrol

    enrol(uow, open_.id, "gone", "mentee")
    with uow.begin() as tx:
        ops.forget_person(tx, ForgetPerson("gone", datetime.now(UTC)))
    assert {p.mentee_id for p in ops.run_matching(uow, RunMatching(open_.id))} == {"mentee-0"}
