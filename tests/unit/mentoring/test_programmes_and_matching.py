"""Programmes, enrolment and matching on in-memory repositories: no database, no broker."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.mentoring import operations as ops
from services.mentoring.domain.commands import (
    ConfirmPair,
    EditProgramme,
    MakePair,
    MoveProgramme,
    RejectPair,
    RunMatching,
)
from services.mentoring.domain.model import Competency, PairStatus, Programme
from shared.errors import Conflict, InvalidInput, InvalidTransition, PreconditionFailed
from tests.unit.mentoring.conftest import Uow, cast, cluster, enrol, matched, person, programme


def test_a_programme_runs_draft_open_running_closed_and_nothing_else(uow: Uow) -> None:
    created = programme(uow, status="draft")
    assert created.status == "draft"
    with pytest.raises(InvalidTransition):
        ops.move_programme(uow, MoveProgramme(created.id, "launch"))
    with pytest.raises(InvalidTransition):
        ops.move_programme(uow, MoveProgramme(created.id, "close"))
    for verb, status in (("open", "open"), ("launch", "running"), ("close", "closed")):
        assert ops.move_programme(uow, MoveProgramme(created.id, verb)).status == status
    with pytest.raises(InvalidTransition):
        ops.move_programme(uow, MoveProgramme(created.id, "open"))
    assert uow.types() == [
        "mentoring.programme.created",
        "mentoring.programme.opened",
        "mentoring.programme.launched",
        "mentoring.programme.closed",
    ]
    assert uow.events[0].data["organiser"] == "ACCIÓ"


def test_a_programme_needs_dates_in_order_and_competencies(uow: Uow) -> None:
    with pytest.raises(InvalidInput):
        programme(uow, starts_on=date(2027, 1, 1), ends_on=date(2026, 1, 1))
    with pytest.raises(InvalidInput):
        programme(uow, competencies=())


def test_editing_checks_the_version_and_refuses_a_closed_programme(uow: Uow) -> None:
    created = programme(uow, status="draft")
    edited = ops.edit_programme(
        uow, EditProgramme(created.id, {"name": "  CMR   2026 "}, expected_version=1)
    )
    assert (edited.name, edited.version) == ("CMR 2026", 2)
    with pytest.raises(PreconditionFailed):
        ops.edit_programme(uow, EditProgramme(created.id, {"edition": "x"}, expected_version=1))
    with pytest.raises(InvalidInput):
        ops.edit_programme(uow, EditProgramme(created.id, {"ends_on": date(2020, 1, 1)}))


def test_enrolment_rules(uow: Uow) -> None:
    open_ = programme(uow)
    cluster(uow, "c-tn", "TN")
    cluster(uow, "c-fr", "FR")
    cluster(uow, "c-off", "EG", active=False)
    person(uow, "amina", "c-tn")
    person(uow, "pierre", "c-fr")
    person(uow, "loner", None)
    person(uow, "sleepy", "c-off")
    with pytest.raises(InvalidInput, match="No person"):
        enrol(uow, open_.id, "nobody", "mentor")
    with pytest.raises(InvalidInput, match="Middle East"):
        enrol(uow, open_.id, "pierre", "mentee")  # a French cluster
    with pytest.raises(InvalidInput, match="has none"):
        enrol(uow, open_.id, "loner", "mentee")
    with pytest.raises(InvalidInput, match="inactive"):
        enrol(uow, open_.id, "sleepy", "mentee")
    with pytest.raises(InvalidInput, match="Not worked on"):
        enrol(uow, open_.id, "amina", "mentee", competencies=("digital_tools",))
    mentee = enrol(uow, open_.id, "amina", "mentee", languages=())
    assert mentee.languages == ("fr",)  # the person's language by default
    assert mentee.sectors == ("agrifood",)  # the cluster's sectors by default
    assert mentee.capacity is None
    with pytest.raises(Conflict):
        enrol(uow, open_.id, "amina", "mentor")
    mentor = enrol(uow, open_.id, "pierre", "mentor", sectors=(" ICT ", "ict"))
    assert (mentor.capacity, mentor.sectors) == (1, ("ict",))
    event = uow.events[-1]
    assert event.type == "mentoring.enrolment.accepted"
    assert event.data["person"] == {
        "person_id": "pierre",
        "name": "Person pierre",
        "language": "fr",
        "cluster_id": "c-fr",
        "country": "FR",
    }
    draft = programme(uow, status="draft")
    with pytest.raises(InvalidTransition):
        enrol(uow, draft.id, "pierre", "mentor")


def test_matching_stores_explained_proposals_and_is_deterministic(uow: Uow) -> None:
    running = programme(uow)
    mentors, mentees = cast(uow, running.id, n=3)
    first = ops.run_matching(uow, RunMatching(running.id))
    second = ops.run_matching(uow, RunMatching(running.id))
    key = [(p.mentor_id, p.mentee_id, p.score, p.reasons) for p in first]
    assert key == [(p.mentor_id, p.mentee_id, p.score, p.reasons) for p in second]
    assert len(second) == 3
    with uow.read() as tx:  # the second run replaced the first's proposals
        stored = tx.pairs.of_programme(running.id)
    assert {p.id for p in stored} == {p.id for p in second}
    proposal = second[0]
    assert proposal.status is PairStatus.PROPOSED
    assert proposal.reasons[0] == "shared language: fr"
    assert any(r.startswith("competency fit") for r in proposal.reasons)
    assert any(r.startswith("sector affinity") for r in proposal.reasons)
    assert "cross-country: ES and TN" in proposal.reasons
    assert proposal.score == 1.0
    assert uow.types().count("mentoring.pair.matched") == 0  # proposals are not announced


def test_people_already_paired_stay_paired_and_rejections_are_not_proposed_again(
    uow: Uow,
) -> None:
    running = programme(uow)
    mentors, mentees = cast(uow, running.id, n=2)
    proposals = ops.run_matching(uow, RunMatching(running.id))
    kept = ops.confirm_pair(uow, ConfirmPair(proposals[0].id))
    rejected = ops.reject_pair(uow, RejectPair(proposals[1].id, "Not now"))
    assert (rejected.status, rejected.end_reason) == (PairStatus.ENDED, "Not now")
    again = ops.run_matching(uow, RunMatching(running.id))
    # the confirmed pair's mentee is not proposed again; its mentor has no seat left;
    # the rejected combination is excluded, so nothing else can be proposed
    assert again == []
    with uow.read() as tx:
        assert tx.pairs.get(kept.id).status is PairStatus.ACTIVE  # type: ignore[union-attr]
    assert uow.types().count("mentoring.pair.matched") == 1
    matched_event = [e for e in uow.events if e.type == "mentoring.pair.matched"][0]
    assert matched_event.data["mentee"]["country"] == "TN"
    assert matched_event.data["score"] == kept.score
    assert matched_event.data["programme_name"] == "Cluster Mentoring Reloaded"


def test_confirming_checks_the_hard_rules_again(uow: Uow) -> None:
    """A manual pair made since the proposal took the mentor's only seat: 409."""
    running = programme(uow)
    mentors, mentees = cast(uow, running.id, n=1)
    cluster(uow, "c-tn-late", "TN")
    enrol(uow, running.id, person(uow, "late", "c-tn-late"), "mentee")
    [proposal] = ops.run_matching(uow, RunMatching(running.id))  # one seat, two mentees
    other = "late" if proposal.mentee_id != "late" else mentees[0]
    manual = ops.make_pair(uow, MakePair(running.id, mentors[0], other))
    with uow.read() as tx:  # the manual pair overrode nothing of the other mentee
        assert tx.pairs.get(proposal.id).status is PairStatus.PROPOSED  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="capacity"):
        ops.confirm_pair(uow, ConfirmPair(proposal.id))
    with pytest.raises(InvalidTransition):
        ops.confirm_pair(uow, ConfirmPair(manual.id))


def test_an_override_must_respect_language_clusters_and_capacity(uow: Uow) -> None:
    running = programme(uow)
    cluster(uow, "c-es", "ES")
    cluster(uow, "c-tn", "TN")
    for pid, home in (("m-fr", "c-es"), ("m-ar", "c-tn"), ("e-1", "c-tn"), ("e-2", "c-tn")):
        person(uow, pid, home)
    enrol(uow, running.id, "m-fr", "mentor", languages=("fr",))
    enrol(uow, running.id, "m-ar", "mentor", languages=("ar",), capacity=2)
    enrol(uow, running.id, "e-1", "mentee", languages=("fr",))
    enrol(uow, running.id, "e-2", "mentee", languages=("fr", "ar"))
    with pytest.raises(InvalidInput, match="no language"):
        ops.make_pair(uow, MakePair(running.id, "m-ar", "e-1"))
    with pytest.raises(InvalidInput, match="same cluster"):
        ops.make_pair(uow, MakePair(running.id, "m-ar", "e-2"))
    with pytest.raises(InvalidInput, match="mentor"):
        ops.make_pair(uow, MakePair(running.id, "e-1", "e-2"))  # roles matter
    proposals = ops.run_matching(uow, RunMatching(running.id))
    assert {(p.mentor_id, p.mentee_id) for p in proposals} == {("m-fr", "e-1")}
    manual = ops.make_pair(uow, MakePair(running.id, "m-fr", "e-2", replaces=proposals[0].id))
    assert (manual.status, manual.manual, manual.score) == (PairStatus.ACTIVE, True, None)
    assert manual.reasons[0] == "manual pair"
    with uow.read() as tx:
        overridden = tx.pairs.get(proposals[0].id)
    assert overridden is not None and overridden.end_reason == ops.OVERRIDDEN
    with pytest.raises(Conflict, match="capacity"):
        ops.make_pair(uow, MakePair(running.id, "m-fr", "e-1"))
    with pytest.raises(Conflict, match="already"):
        ops.make_pair(uow, MakePair(running.id, "m-fr", "e-2"))
    assert uow.events[-1].data["score"] is None


def test_closing_completes_active_pairs_and_drops_proposals(uow: Uow) -> None:
    running = programme(uow, status="running")
    # enrolment happens while open: enrol on an open one and launch it
    open_ = programme(uow)
    cast(uow, open_.id, n=2)
    first, _ = ops.run_matching(uow, RunMatching(open_.id))
    ops.confirm_pair(uow, ConfirmPair(first.id))
    ops.move_programme(uow, MoveProgramme(open_.id, "launch"))
    ops.move_programme(uow, MoveProgramme(open_.id, "close"))
    with uow.read() as tx:
        statuses = [p.status for p in tx.pairs.of_programme(open_.id)]
    assert statuses == [PairStatus.COMPLETED]
    ended = uow.events[-1]
    assert (ended.type, ended.data["status"]) == ("mentoring.pair.ended", "completed")
    with pytest.raises(InvalidTransition):
        ops.run_matching(uow, RunMatching(open_.id))
    assert running.status == "running"


def test_the_engine_sees_countries_from_clusters(uow: Uow) -> None:
    """A Palestinian mentor and a Palestinian mentee share a country: no cross-country
    reason; a Spanish mentor for the same mentee gets it."""
    running = programme(uow)
    cluster(uow, "c-ps-1", "PS")
    cluster(uow, "c-ps-2", "PS")
    cluster(uow, "c-es", "ES")
    person(uow, "m-ps", "c-ps-1")
    person(uow, "m-es", "c-es")
    person(uow, "e-ps", "c-ps-2")
    enrol(uow, running.id, "m-ps", "mentor")
    enrol(uow, running.id, "m-es", "mentor")
    enrol(uow, running.id, "e-ps", "mentee")
    [proposal] = ops.run_matching(uow, RunMatching(running.id))
    assert proposal.mentor_id == "m-es" and "cross-country: ES and PS" in proposal.reasons


def test_programme_competencies_are_the_domain_enum() -> None:
    created = Programme(
        name="x",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 2, 1),
        competencies=(Competency.FUNDING,),
    )
    with pytest.raises(InvalidInput):
        replace(created, competencies=(Competency.FUNDING, Competency.FUNDING))


def test_matched_helper_confirms_everything(uow: Uow) -> None:
    running = programme(uow)
    cast(uow, running.id, n=3)
    pairs = matched(uow, running.id)
    assert [p.status for p in pairs] == [PairStatus.ACTIVE] * 3
