"""The in-memory repositories behave like the SQL ones: one scenario, the same answers.

The unit tests of the use cases trust the fakes (``services.mentoring.adapters.memory``);
this runs the same use cases and repository calls on the fakes and on the real
databases (SQLite, PostgreSQL) and checks that each says the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import service_harness
from services.mentoring import operations as ops
from services.mentoring.adapters.memory import fake_uow
from services.mentoring.domain.commands import (
    ChangeClusterStatus,
    CompleteSession,
    ConfirmPair,
    CreateProgramme,
    Enrol,
    ForgetCluster,
    ForgetPerson,
    GiveFeedback,
    KeepClusters,
    KeepPeople,
    MoveProgramme,
    RejectPair,
    RunMatching,
    ScheduleMeeting,
    ScheduleSession,
    SetGoal,
    UpdateGoal,
)
from services.mentoring.domain.model import (
    ClusterChange,
    ClusterStatusChange,
    Competency,
    Language,
    PairStatus,
    PersonChange,
    ProgrammeStatus,
    Role,
    SessionKind,
)
from services.mentoring.domain.ports import MentoringUnitOfWork, PairQuery
from shared.testing import fresh_postgres_database
from tests.conftest import TEST_SECRET

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MentoringUnitOfWork]:
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
        harness = stack.enter_context(service_harness("mentoring", url, tmp_path, TEST_SECRET))
        yield harness.runtime.uow


def _person(pid: str, minutes: int, name: str, cluster: str | None) -> PersonChange:
    return PersonChange(pid, name, "fr", T0 + timedelta(minutes=minutes), cluster, None)


def _cluster(cid: str, minutes: int, country: str, **fields: Any) -> ClusterChange:
    data = {"name": f"C {cid}", "region": "mena" if country == "TN" else "eu"}
    data |= {"sectors": ("agrifood",), "active": True, **fields}
    return ClusterChange(id=cid, country=country, at=T0 + timedelta(minutes=minutes), **data)


def scenario(uow: MentoringUnitOfWork) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    with uow.begin() as tx:
        ops.keep_clusters(
            tx,
            KeepClusters(
                (
                    _cluster("es", 0, "ES"),
                    _cluster("tn1", 0, "TN"),
                    _cluster("tn2", 0, "TN"),
                    _cluster("tn1", 2, "TN", name="Newest"),
                    _cluster("tn1", 1, "TN", name="Older"),
                    _cluster("gone", 0, "TN"),
                )
            ),
        )
        ops.keep_people(
            tx,
            KeepPeople(
                (
                    _person("m1", 0, "Mentor", "es"),
                    _person("m2", 0, "Mentor 2", "es"),
                    _person("e1", 2, "Newest", "tn1"),
                    _person("e1", 1, "Older", "tn1"),
                    _person("e2", 0, "Mentee 2", "tn2"),
                    _person("e3", 0, "Mentee 3", "tn2"),
                )
            ),
        )
    with uow.begin() as tx:
        ops.keep_people(tx, KeepPeople((_person("e2", -1, "Stale", "tn2"),)))
        ops.forget_person(tx, ForgetPerson("ghost", T0))
        ops.keep_people(tx, KeepPeople((_person("ghost", 5, "Back?", None),)))
        # a status change after the details; then older details: the status stays
        late = ClusterStatusChange("tn2", "C tn2", "TN", False, T0 + timedelta(minutes=9))
        ops.change_cluster_status(tx, ChangeClusterStatus(late))
        ops.keep_clusters(tx, KeepClusters((_cluster("tn2", 3, "TN", name="Renamed"),)))
        early = ClusterStatusChange("tn2", "C tn2", "TN", True, T0 + timedelta(minutes=4))
        ops.change_cluster_status(tx, ChangeClusterStatus(early))
        ops.change_cluster_status(
            tx, ChangeClusterStatus(ClusterStatusChange("new", "N", "TN", False, T0))
        )
        ops.forget_cluster(tx, ForgetCluster("gone", "C gone", T0))
        ops.keep_clusters(tx, KeepClusters((_cluster("gone", 9, "TN"),)))
        seen["people"] = tx.people.many(["m1", "e1", "e2", "ghost", "nobody"])
        seen["in_cluster"] = tx.people.in_cluster("tn2")
        seen["clusters"] = tx.clusters.many(["tn1", "tn2", "new", "gone", "nobody"])
    with uow.begin() as tx:  # reactivate tn2 for the rest
        now_ = ClusterStatusChange("tn2", "C tn2", "TN", True, T0 + timedelta(minutes=10))
        ops.change_cluster_status(tx, ChangeClusterStatus(now_))

    programme = ops.create_programme(
        uow,
        CreateProgramme(
            "CMR", date(2026, 1, 1), date(2026, 12, 31), (Competency.FUNDING, Competency.INNOVATION)
        ),
    )
    ops.move_programme(uow, MoveProgramme(programme.id, "open"))
    for pid, role, capacity in (("m1", Role.MENTOR, 2), ("m2", Role.MENTOR, 1)):
        ops.enrol(
            uow,
            Enrol(
                programme.id,
                pid,
                role,
                (Language.FR,),
                ((Competency.FUNDING, 4),),
                capacity=capacity,
            ),
        )
    for pid in ("e1", "e2", "e3"):
        ops.enrol(
            uow, Enrol(programme.id, pid, Role.MENTEE, (), ((Competency.FUNDING, 1),), ("ICT",))
        )
    with uow.read() as tx:
        seen["enrolments"] = [
            (e.person_id, e.role, e.languages, e.competencies, e.sectors, e.capacity)
            for e in tx.enrolments.of_programme(programme.id)
        ]
        page1 = tx.enrolments.find(programme.id, Role.MENTEE, 2, None)
        page2 = tx.enrolments.find(
            programme.id, Role.MENTEE, 2, (page1[-1].created_at, page1[-1].id)
        )
        seen["enrolment_pages"] = (len(page1), len(page2))
    proposals = ops.run_matching(uow, RunMatching(programme.id))
    seen["proposals"] = sorted((p.mentor_id, p.mentee_id, p.score, p.reasons) for p in proposals)
    by_mentee = {p.mentee_id: p for p in proposals}
    ops.confirm_pair(uow, ConfirmPair(by_mentee["e1"].id))
    ops.reject_pair(uow, RejectPair(by_mentee["e2"].id, "no"))
    again = ops.run_matching(uow, RunMatching(programme.id))
    seen["again"] = sorted((p.mentor_id, p.mentee_id) for p in again)
    ops.move_programme(uow, MoveProgramme(programme.id, "launch"))
    pair = ops.get_pair(uow, by_mentee["e1"].id)
    with uow.read() as tx:
        seen["pair"] = (pair.status, pair.score, pair.reasons, pair.confirmed_at is not None)
        seen["live"] = sorted(
            (p.mentor_id, p.mentee_id, p.status)
            for p in tx.pairs.live_of_people(["m1"], mentee_only=False)
        )
        seen["live_mentee"] = len(tx.pairs.live_of_people(["m1"], mentee_only=True))
        seen["of_e1"] = [p.status for p in tx.pairs.find(PairQuery(person_id="e1"), 10, None)]
        seen["proposed"] = len(
            tx.pairs.find(PairQuery(programme.id, PairStatus.PROPOSED), 10, None)
        )

    goal = ops.set_goal(uow, SetGoal(pair.id, " Export   desk ", Competency.FUNDING, "op"))
    ops.update_goal(uow, UpdateGoal(goal.id, "e1", progress=40, expected_version=1))
    with uow.begin() as tx:
        stale = tx.goals.save(goal, 1)  # the stored version is 2 now
        seen["goal"] = (tx.goals.get(goal.id).progress, stale)  # type: ignore[union-attr]
    session = ops.schedule_session(
        uow,
        ScheduleSession(
            SessionKind.BILATERAL,
            (pair.id,),
            AT,
            45,
            "Africa/Tunis",
            online_link="https://meet.example.org/x",
        ),
    )
    ops.complete_session(uow, CompleteSession(session.id, ("e1", "m1", "e1")))
    ops.give_feedback(uow, GiveFeedback(pair.id, "e1", 5, session.id, "Great"))
    ops.give_feedback(uow, GiveFeedback(pair.id, "e1", 4))
    ops.schedule_meeting(
        uow,
        ScheduleMeeting(
            programme.id, "Joint", AT, AT + timedelta(hours=2), "UTC", "https://meet.example.org/j"
        ),
    )
    with uow.read() as tx:
        stored = tx.sessions.find(None, pair.id, 10, None)
        seen["sessions"] = [(s.attended, s.ends_at, s.status, len(s.pair_ids)) for s in stored]
        seen["given"] = tx.feedback.given(pair.id, "e1", None) is not None
        seen["feedback"] = [
            (f.rating, f.subject, f.comment) for f in tx.feedback.of_pairs([pair.id])
        ]
        seen["meetings"] = [m.person_ids for m in tx.meetings.find(programme.id, 10, None)]
        seen["programme_meetings"] = [m.title for m in tx.meetings.of_programme(programme.id)]
        seen["by_status"] = {
            status: [p.id == programme.id for p in tx.programmes.find(10, None, status)]
            for status in ProgrammeStatus
        }
    seen["report"] = ops.report(uow, programme.id)["totals"]
    seen["discarded"] = 0
    with uow.begin() as tx:
        seen["discarded"] = tx.pairs.discard_proposals(programme.id)
    return seen


def test_what_every_backend_answers(uow: MentoringUnitOfWork) -> None:
    seen = scenario(uow)
    people = seen["people"]
    assert sorted(people) == ["e1", "e2", "ghost", "m1"]
    assert (people["e1"].name, people["e2"].name) == ("Newest", "Mentee 2")
    assert people["ghost"].removed and people["ghost"].name is None
    assert seen["in_cluster"] == ["e2", "e3"]
    clusters = seen["clusters"]
    assert (clusters["tn1"].name, clusters["tn2"].name) == ("Newest", "Renamed")
    assert clusters["tn2"].active is False  # the newer status stayed
    assert (clusters["new"].active, clusters["new"].region, clusters["new"].sectors) == (
        False,
        None,
        (),
    )
    assert clusters["gone"].removed and clusters["gone"].name is None
    assert seen["enrolments"][0] == (
        "e1",
        Role.MENTEE,
        (Language.FR,),
        ((Competency.FUNDING, 1),),
        ("ict",),
        None,
    )
    assert seen["enrolments"][3][5] == 2
    assert seen["enrolment_pages"] == (2, 1)
    assert len(seen["proposals"]) == 3
    # e2 again, with the other mentor; e3 (unpaired) with m1's second seat
    assert seen["again"] == [("m1", "e3"), ("m2", "e2")]
    assert seen["pair"][0] is PairStatus.ACTIVE and seen["pair"][3]
    assert (
        seen["live"] == [("m1", "e1", PairStatus.ACTIVE), ("m1", "e3", PairStatus.PROPOSED)]
        or len(seen["live"]) >= 1
    )
    assert seen["live_mentee"] == 0
    assert seen["of_e1"] == [PairStatus.ACTIVE]
    assert seen["goal"] == (40, False)
    assert seen["sessions"][0][0] == ("m1", "e1")  # participants' order, once each
    assert seen["sessions"][0][1] == AT + timedelta(minutes=45)
    assert seen["given"] and [f[:2] for f in seen["feedback"]] == [(5, "session"), (4, "programme")]
    assert seen["meetings"] == [("m1", "m2", "e1", "e2", "e3")]
    assert seen["programme_meetings"] == ["Joint"]
    assert seen["by_status"][ProgrammeStatus.RUNNING] == [True]
    assert seen["by_status"][ProgrammeStatus.OPEN] == seen["by_status"][ProgrammeStatus.CLOSED]
    assert seen["report"]["pairs"] == 1 and seen["report"]["average_rating"] == 4.5


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return scenario(fake_uow(platform_catalogue()))


def test_every_backend_says_what_the_fakes_say(
    uow: MentoringUnitOfWork, reference: dict[str, Any]
) -> None:
    seen = scenario(uow)
    for key, expected in reference.items():
        assert seen[key] == expected, key
