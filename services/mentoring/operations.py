"""What the mentoring service does: each operation is one unit of work with its events.

Use cases take the unit of work and a command (``domain/commands.py``); those driven by
a received event take the handler's open transaction. They see the data only through
the ports (``tx.programmes``, ``tx.pairs``, ...) and ``tx.emit``.

Locks: every use case that makes, confirms or ends pairs first locks the programme's
row, then the pairs it changes. So two managers confirming proposals of the same
mentor at once are applied one after the other, and the mentor's capacity and the
rule of one pair per mentee hold whatever the interleaving.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from statistics import fmean
from typing import Any

from services.mentoring.domain.commands import (
    CancelMeeting,
    CancelSession,
    ChangeClusterStatus,
    CompleteSession,
    ConfirmPair,
    CreateProgramme,
    EditProgramme,
    EndPair,
    Enrol,
    ForgetCluster,
    ForgetPerson,
    GiveFeedback,
    KeepClusters,
    KeepLabel,
    KeepPeople,
    MakePair,
    MoveProgramme,
    RejectPair,
    RescheduleMeeting,
    RescheduleSession,
    RunMatching,
    ScheduleMeeting,
    ScheduleSession,
    SetGoal,
    UpdateGoal,
)
from services.mentoring.domain.matching import Candidate, propose, score
from services.mentoring.domain.model import (
    CANCELLED_BY_CLOSING,
    PERSON_REMOVED,
    ClusterCopy,
    Competency,
    Enrolment,
    Feedback,
    Goal,
    GoalStatus,
    Language,
    Meeting,
    Pair,
    PairStatus,
    PersonCopy,
    Programme,
    ProgrammeStatus,
    Role,
    Session,
    SessionKind,
    SessionStatus,
    invalid,
    now,
    tidy,
)
from services.mentoring.domain.ports import (
    MentoringTx,
    MentoringUnitOfWork,
    PairQuery,
    TimeKey,
)
from shared.db import utc
from shared.errors import Conflict, Forbidden, InvalidTransition, NotFound, PreconditionFailed

OVERRIDDEN = "Overridden by a manual pair."


# -- reads ---------------------------------------------------------------------------
def get_programme(uow: MentoringUnitOfWork, programme_id: str) -> Programme:
    with uow.read() as tx:
        return _programme(tx, programme_id)


def list_programmes(
    uow: MentoringUnitOfWork,
    limit: int,
    after: TimeKey | None,
    status: ProgrammeStatus | None = None,
) -> list[Programme]:
    with uow.read() as tx:
        return tx.programmes.find(limit, after, status)


def list_enrolments(
    uow: MentoringUnitOfWork,
    programme_id: str,
    role: Role | None,
    limit: int,
    after: TimeKey | None,
) -> list[Enrolment]:
    with uow.read() as tx:
        _programme(tx, programme_id)
        return tx.enrolments.find(programme_id, role, limit, after)


def get_pair(uow: MentoringUnitOfWork, pair_id: str) -> Pair:
    with uow.read() as tx:
        return _pair(tx, pair_id)


def list_pairs(
    uow: MentoringUnitOfWork, query: PairQuery, limit: int, after: TimeKey | None
) -> list[Pair]:
    with uow.read() as tx:
        if query.programme_id is not None:
            _programme(tx, query.programme_id)
        return tx.pairs.find(query, limit, after)


def get_goal(uow: MentoringUnitOfWork, goal_id: str) -> tuple[Goal, Pair]:
    with uow.read() as tx:
        goal = _goal(tx, goal_id)
        return goal, _pair(tx, goal.pair_id)


def list_goals(uow: MentoringUnitOfWork, pair_id: str) -> list[Goal]:
    with uow.read() as tx:
        _pair(tx, pair_id)
        return tx.goals.of_pairs([pair_id])


def get_session(uow: MentoringUnitOfWork, session_id: str) -> Session:
    with uow.read() as tx:
        return _session(tx, session_id)


def list_sessions(
    uow: MentoringUnitOfWork,
    *,
    programme_id: str | None = None,
    pair_id: str | None = None,
    limit: int,
    after: TimeKey | None,
) -> list[Session]:
    with uow.read() as tx:
        if programme_id is not None:
            _programme(tx, programme_id)
        if pair_id is not None:
            _pair(tx, pair_id)
        return tx.sessions.find(programme_id, pair_id, limit, after)


def get_meeting(uow: MentoringUnitOfWork, meeting_id: str) -> Meeting:
    with uow.read() as tx:
        return _meeting(tx, meeting_id)


def list_meetings(
    uow: MentoringUnitOfWork, programme_id: str, limit: int, after: TimeKey | None
) -> list[Meeting]:
    with uow.read() as tx:
        _programme(tx, programme_id)
        return tx.meetings.find(programme_id, limit, after)


def list_feedback(uow: MentoringUnitOfWork, pair_id: str) -> list[Feedback]:
    with uow.read() as tx:
        _pair(tx, pair_id)
        return tx.feedback.of_pairs([pair_id])


# -- programmes ----------------------------------------------------------------------
def create_programme(uow: MentoringUnitOfWork, command: CreateProgramme) -> Programme:
    """A new draft (``mentoring.programme.created``)."""
    with uow.begin() as tx:
        programme = Programme(
            name=tidy(command.name),
            edition=_tidy_or_none(command.edition),
            organiser=_tidy_or_none(command.organiser),
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            competencies=tuple(command.competencies),
        )
        tx.programmes.add(programme)
        tx.emit("mentoring.programme.created", subject=programme.id, data=programme_data(programme))
        return programme


def edit_programme(uow: MentoringUnitOfWork, command: EditProgramme) -> Programme:
    """Change some fields (422 for invalid ones, e.g. an end before the start). The new
    dates must still hold the sessions and joint meetings that are not cancelled, and a
    competency an enrolment or goal uses stays (409 otherwise). No event: nothing
    downstream needs it."""
    with uow.begin() as tx:
        programme = _programme(tx, command.programme_id, lock=True)
        _check_version(programme.version, command.expected_version)
        changes = dict(command.changes)
        for name in ("name", "edition", "organiser"):
            if name in changes:
                changes[name] = _tidy_or_none(changes[name])
        if "competencies" in changes:
            changes["competencies"] = tuple(changes["competencies"])
        if "name" in changes and changes["name"] is None:
            raise invalid("name", "A programme needs a name.")
        edited = programme.edit(**changes)
        if (edited.starts_on, edited.ends_on) != (programme.starts_on, programme.ends_on):
            _check_dates_hold(tx, edited)
        dropped = set(programme.competencies) - set(edited.competencies)
        if dropped:
            _check_unused(tx, programme.id, dropped)
        tx.programmes.save(edited)
        return edited


def _check_dates_hold(tx: MentoringTx, programme: Programme) -> None:
    """409 when a session or joint meeting that is not cancelled would fall outside."""
    dates = f"{programme.starts_on} to {programme.ends_on}"
    for session in tx.sessions.of_programme(programme.id):
        if session.status is not SessionStatus.CANCELLED and not programme.holds(
            session.starts_at, session.ends_at, session.timezone
        ):
            raise Conflict(
                f"The {session.status} session {session.id} of {session.starts_at.isoformat()} "
                f"would fall outside the new dates ({dates}); reschedule or cancel it first."
            )
    for meeting in tx.meetings.of_programme(programme.id):
        if meeting.status is not SessionStatus.CANCELLED and not programme.holds(
            meeting.starts_at, meeting.ends_at, meeting.timezone
        ):
            raise Conflict(
                f"The {meeting.status} joint meeting {meeting.id} of "
                f"{meeting.starts_at.isoformat()} would fall outside the new dates ({dates}); "
                "reschedule or cancel it first."
            )


def _check_unused(tx: MentoringTx, programme_id: str, dropped: set[Competency]) -> None:
    """409 when an enrolment or a goal of the programme uses a competency dropped."""
    enrolled = {c for e in tx.enrolments.of_programme(programme_id) for c in e.competency_names}
    pair_ids = [p.id for p in tx.pairs.of_programme(programme_id)]
    aimed = {g.competency for g in tx.goals.of_pairs(pair_ids)}
    for users, used in (("enrolments", enrolled), ("goals", aimed)):
        still = sorted(dropped & used)
        if still:
            raise Conflict(
                f"Competencies used by the programme's {users} cannot be dropped: "
                f"{', '.join(still)}."
            )


def move_programme(uow: MentoringUnitOfWork, command: MoveProgramme) -> Programme:
    """``open``: enrolment opens; ``launch``: the programme runs; ``close``: it ends,
    its active pairs complete, pending proposals are dropped and the sessions and joint
    meetings still to come are cancelled (with their events)."""
    with uow.begin() as tx:
        programme = _programme(tx, command.programme_id, lock=True)
        _check_version(programme.version, command.expected_version)
        if command.verb == "open":
            moved, event_type = programme.open(), "mentoring.programme.opened"
        elif command.verb == "launch":
            moved, event_type = programme.launch(), "mentoring.programme.launched"
        elif command.verb == "close":
            moved, event_type = programme.close(), "mentoring.programme.closed"
        else:  # pragma: no cover - the routes name the verbs
            raise ValueError(command.verb)
        tx.programmes.save(moved)
        tx.emit(event_type, subject=moved.id, data=programme_data(moved))
        if command.verb == "close":
            at = now()
            tx.pairs.discard_proposals(moved.id)
            for pair in tx.pairs.of_programme(moved.id, [PairStatus.ACTIVE]):
                completed = pair.complete(at)
                tx.pairs.save(completed)
                _emit_ended(tx, completed, moved)
            for session in tx.sessions.of_programme(moved.id):
                if session.status is SessionStatus.SCHEDULED and session.starts_at > at:
                    _save_cancelled_session(tx, session.cancel(CANCELLED_BY_CLOSING))
            for meeting in tx.meetings.of_programme(moved.id):
                if meeting.status is SessionStatus.SCHEDULED and meeting.starts_at > at:
                    _save_cancelled_meeting(tx, meeting.cancel(CANCELLED_BY_CLOSING))
        return moved


# -- enrolments ----------------------------------------------------------------------
def enrol(uow: MentoringUnitOfWork, command: Enrol) -> Enrolment:
    """Enrol a known person (``mentoring.enrolment.accepted``)."""
    with uow.begin() as tx:
        programme = _programme(tx, command.programme_id, lock=True)
        programme.check_enrolment()
        person = tx.people.get(command.person_id)
        if person is None or person.removed:
            raise invalid(
                "person_id",
                f"No person with id {command.person_id!r} is known to the mentoring service.",
            )
        cluster = tx.clusters.get(person.cluster_id) if person.cluster_id else None
        if command.role is Role.MENTEE:
            if command.capacity is not None:
                raise invalid("capacity", "Only a mentor has a capacity; a mentee takes none.")
            _check_mentee_cluster(person, cluster)
        existing = tx.enrolments.of_person(programme.id, person.id)
        if existing is not None:
            raise Conflict(f"The person is already enrolled in this programme as {existing.role}.")
        offered = {competency for competency, _ in command.competencies}
        foreign = sorted(offered - set(programme.competencies))
        if foreign:
            raise invalid(
                "competencies",
                f"Not worked on in this programme: {', '.join(foreign)}.",
            )
        languages = command.languages or _languages_of(person)
        sectors = _sectors(command.sectors) or (cluster.sectors if cluster else ())
        enrolment = Enrolment(
            programme_id=programme.id,
            person_id=person.id,
            role=command.role,
            languages=tuple(dict.fromkeys(languages)),
            competencies=tuple(command.competencies),
            sectors=sectors,
            availability=_tidy_or_none(command.availability),
            capacity=(command.capacity or 1) if command.role is Role.MENTOR else None,
        )
        tx.enrolments.add(enrolment)
        tx.emit(
            "mentoring.enrolment.accepted",
            subject=enrolment.id,
            data={
                "id": enrolment.id,
                "programme_id": programme.id,
                "programme_name": programme.name,
                "person": _participant(person, cluster),
                "role": enrolment.role.value,
                "languages": [language.value for language in enrolment.languages],
                "competencies": [c.value for c in enrolment.competency_names],
                "sectors": list(enrolment.sectors),
                "capacity": enrolment.capacity,
            },
        )
        return enrolment


def _check_mentee_cluster(person: PersonCopy, cluster: ClusterCopy | None) -> None:
    if person.cluster_id is None:
        raise invalid("person_id", "A mentee belongs to a cluster; this person has none.")
    if cluster is None or cluster.removed:
        raise invalid("person_id", "The mentee's cluster is not known to the mentoring service.")
    if not cluster.active:
        raise invalid("person_id", "The mentee's cluster is inactive.")
    if not cluster.in_mena:
        raise invalid(
            "person_id",
            "A mentee's cluster must be in a country of the Middle East or North Africa.",
        )


# -- matching and pairs --------------------------------------------------------------
def run_matching(uow: MentoringUnitOfWork, command: RunMatching) -> list[Pair]:
    """Propose the optimal pairs for those not paired yet, stored as ``proposed`` pairs
    (earlier pending proposals are replaced). Active pairs stay; their mentors' seats
    are taken; rejected or ended combinations are not proposed again. Deterministic:
    the same enrolments and pairs give the same proposals."""
    with uow.begin() as tx:
        programme = _programme(tx, command.programme_id, lock=True)
        programme.check_pairing()
        tx.pairs.discard_proposals(programme.id)
        pairs = tx.pairs.of_programme(programme.id)
        active = [p for p in pairs if p.status is PairStatus.ACTIVE]
        paired = {p.mentee_id for p in active}
        seats_taken = Counter(p.mentor_id for p in active)
        excluded = {(p.mentor_id, p.mentee_id) for p in pairs if p.status is PairStatus.ENDED}
        enrolments = tx.enrolments.of_programme(programme.id)
        people, clusters = _people_and_clusters(tx, [e.person_id for e in enrolments])
        mentors, mentees = [], []
        for enrolment in enrolments:
            person = people.get(enrolment.person_id)
            if person is None or person.removed:
                continue
            cluster = clusters.get(person.cluster_id or "")
            if enrolment.role is Role.MENTOR:
                seats = (enrolment.capacity or 1) - seats_taken[enrolment.person_id]
                if seats > 0:
                    mentors.append(_candidate(enrolment, person, cluster, seats))
            elif enrolment.person_id not in paired and cluster and cluster.active:
                mentees.append(_candidate(enrolment, person, cluster, 1))
        at = now()
        proposals = [
            Pair(
                programme_id=programme.id,
                mentor_id=p.mentor_id,
                mentee_id=p.mentee_id,
                score=p.score,
                reasons=p.reasons,
                created_at=at,
            )
            for p in propose(mentors, mentees, excluded)
        ]
        tx.pairs.add_all(proposals)
        return proposals


def confirm_pair(uow: MentoringUnitOfWork, command: ConfirmPair) -> Pair:
    """Accept a proposal: the pair is active (``mentoring.pair.matched``); the hard
    rules are checked again, as other pairs may have been made since."""
    with uow.begin() as tx:
        proposal = _pair(tx, command.pair_id)
        programme = _programme(tx, proposal.programme_id, lock=True)
        proposal = _pair(tx, command.pair_id, lock=True)
        if proposal.status is not PairStatus.PROPOSED:
            raise InvalidTransition(
                f"Only a proposal can be confirmed; this pair is {proposal.status}."
            )
        programme.check_pairing()
        _check_hard_rules(tx, programme, proposal.mentor_id, proposal.mentee_id)
        active = proposal.confirm(now())
        tx.pairs.save(active)
        _emit_matched(tx, active, programme)
        return active


def reject_pair(uow: MentoringUnitOfWork, command: RejectPair) -> Pair:
    """Turn a proposal down (it ends unannounced and is never proposed again)."""
    with uow.begin() as tx:
        proposal = _pair(tx, command.pair_id)
        _programme(tx, proposal.programme_id, lock=True)
        proposal = _pair(tx, command.pair_id, lock=True)
        reason = _tidy_or_none(command.reason) or "Rejected by a programme manager."
        rejected = proposal.reject(now(), reason)
        tx.pairs.save(rejected)
        return rejected


def make_pair(uow: MentoringUnitOfWork, command: MakePair) -> Pair:
    """A manual pair, active at once (``mentoring.pair.matched``, score null), within the
    hard rules: both enrolled in their roles, a shared language, different clusters, a
    free seat with the mentor and no other pair for the mentee. A pending proposal for
    the mentee (or the one it ``replaces``) is rejected as overridden."""
    with uow.begin() as tx:
        programme = _programme(tx, command.programme_id, lock=True)
        programme.check_pairing()
        at = now()
        if command.replaces is not None:
            replaced = _pair(tx, command.replaces, lock=True)
            if replaced.programme_id != programme.id or replaced.status is not PairStatus.PROPOSED:
                raise InvalidTransition(
                    f"Only a proposal can be overridden; this pair is {replaced.status}."
                )
        for pending in tx.pairs.of_programme(programme.id, [PairStatus.PROPOSED]):
            if pending.mentee_id == command.mentee_id or pending.id == command.replaces:
                tx.pairs.save(pending.reject(at, OVERRIDDEN))
        mentor, mentee = _check_hard_rules(tx, programme, command.mentor_id, command.mentee_id)
        explained = score(mentor, mentee)
        pair = Pair(
            programme_id=programme.id,
            mentor_id=command.mentor_id,
            mentee_id=command.mentee_id,
            status=PairStatus.ACTIVE,
            score=None,
            reasons=("manual pair", *(explained.reasons if explained else ())),
            manual=True,
            created_at=at,
            confirmed_at=at,
        )
        tx.pairs.add_all([pair])
        _emit_matched(tx, pair, programme)
        return pair


def end_pair(uow: MentoringUnitOfWork, command: EndPair) -> Pair:
    """Stop an active pair early (``mentoring.pair.ended``, status ``ended``)."""
    with uow.begin() as tx:
        pair = _pair(tx, command.pair_id)
        programme = _programme(tx, pair.programme_id, lock=True)
        pair = _pair(tx, command.pair_id, lock=True)
        ended = pair.end(now(), tidy(command.reason))
        tx.pairs.save(ended)
        _emit_ended(tx, ended, programme)
        return ended


def _check_hard_rules(
    tx: MentoringTx, programme: Programme, mentor_id: str, mentee_id: str
) -> tuple[Candidate, Candidate]:
    """Both enrolled in their roles and known, a shared language, different clusters
    (422); the mentor has a free seat and the mentee no active pair (409)."""
    mentor = tx.enrolments.of_person(programme.id, mentor_id)
    mentee = tx.enrolments.of_person(programme.id, mentee_id)
    if mentor is None or mentor.role is not Role.MENTOR:
        raise invalid("mentor_id", "Not enrolled as a mentor in this programme.")
    if mentee is None or mentee.role is not Role.MENTEE:
        raise invalid("mentee_id", "Not enrolled as a mentee in this programme.")
    people, clusters = _people_and_clusters(tx, [mentor_id, mentee_id])
    for name, person_id in (("mentor_id", mentor_id), ("mentee_id", mentee_id)):
        if person_id not in people or people[person_id].removed:
            raise invalid(name, "The person was removed from the registry.")
    mentor_person, mentee_person = people[mentor_id], people[mentee_id]
    if not set(mentor.languages) & set(mentee.languages):
        raise invalid("mentor_id", "The mentor and the mentee share no language.")
    if mentor_person.cluster_id and mentor_person.cluster_id == mentee_person.cluster_id:
        raise invalid("mentor_id", "The mentor and the mentee belong to the same cluster.")
    live = tx.pairs.of_programme(programme.id, [PairStatus.ACTIVE])
    if any(p.mentee_id == mentee_id for p in live):
        raise Conflict("The mentee is already in an active pair.")
    taken = sum(p.mentor_id == mentor_id for p in live)
    if taken >= (mentor.capacity or 1):
        raise Conflict(f"The mentor's capacity ({mentor.capacity}) is taken.")
    return (
        _candidate(mentor, mentor_person, clusters.get(mentor_person.cluster_id or ""), 1),
        _candidate(mentee, mentee_person, clusters.get(mentee_person.cluster_id or ""), 1),
    )


def _candidate(
    enrolment: Enrolment, person: PersonCopy, cluster: ClusterCopy | None, seats: int
) -> Candidate:
    return Candidate(
        person_id=enrolment.person_id,
        languages=frozenset(language.value for language in enrolment.languages),
        competencies=frozenset(c.value for c in enrolment.competency_names),
        sectors=frozenset(enrolment.sectors),
        capacity=seats,
        cluster_id=person.cluster_id,
        country=_country(person, cluster),
    )


# -- goals ---------------------------------------------------------------------------
def set_goal(uow: MentoringUnitOfWork, command: SetGoal) -> Goal:
    """A new goal of an active pair (``mentoring.goal.updated``)."""
    with uow.begin() as tx:
        pair = _pair(tx, command.pair_id)
        programme = _programme(tx, pair.programme_id)
        _check_active(pair, "Goals are set")
        if command.competency not in programme.competencies:
            raise invalid("competency", "Not a competency this programme works on.")
        goal = Goal(
            programme_id=pair.programme_id,
            pair_id=pair.id,
            title=tidy(command.title),
            competency=command.competency,
            progress=command.progress,
            updated_by=command.by,
        )
        tx.goals.add(goal)
        _emit_goal(tx, goal, pair)
        return goal


def update_goal(uow: MentoringUnitOfWork, command: UpdateGoal) -> Goal:
    """Change a goal's progress, status or title (``mentoring.goal.updated``)."""
    with uow.begin() as tx:
        goal = _goal(tx, command.goal_id)
        _check_version(goal.version, command.expected_version)
        pair = _pair(tx, goal.pair_id)
        _check_active(pair, "Goals change")
        updated = goal.update(
            command.by, title=command.title, progress=command.progress, status=command.status
        )
        if not tx.goals.save(updated, goal.version):
            raise PreconditionFailed("The goal was changed meanwhile; read it again.")
        _emit_goal(tx, updated, pair)
        return updated


def _check_active(pair: Pair, what: str) -> None:
    if pair.status is not PairStatus.ACTIVE:
        raise InvalidTransition(f"{what} only for an active pair; this pair is {pair.status}.")


# -- sessions ------------------------------------------------------------------------
def schedule_session(uow: MentoringUnitOfWork, command: ScheduleSession) -> Session:
    """A bilateral session (one pair) or a group session (several pairs of the
    programme) of active pairs (``mentoring.session.scheduled``)."""
    with uow.begin() as tx:
        pairs = [_pair(tx, pair_id) for pair_id in dict.fromkeys(command.pair_ids)]
        programme_id = command.programme_id or pairs[0].programme_id
        programme = _programme(tx, programme_id)
        programme.check_running("Sessions are scheduled")
        for pair in pairs:
            if pair.programme_id != programme.id:
                raise invalid("pair_ids", f"Pair {pair.id} is not in this programme.")
            _check_active(pair, "Sessions are scheduled")
        person_ids = tuple(dict.fromkeys(p for pair in pairs for p in pair.person_ids))
        default = "Bilateral session" if command.kind is SessionKind.BILATERAL else "Group session"
        session = Session(
            programme_id=programme.id,
            kind=command.kind,
            title=tidy(command.title or "") or default,
            pair_ids=tuple(pair.id for pair in pairs),
            person_ids=person_ids,
            starts_at=utc(command.starts_at),
            duration_minutes=command.duration_minutes,
            timezone=command.timezone,
            online_link=command.online_link,
            agenda=command.agenda,
        )
        programme.check_in_dates(session.starts_at, session.ends_at, session.timezone)
        tx.sessions.add(session)
        tx.emit("mentoring.session.scheduled", subject=session.id, data=session_data(session))
        return session


def reschedule_session(uow: MentoringUnitOfWork, command: RescheduleSession) -> Session:
    with uow.begin() as tx:
        session = _session(tx, command.session_id)
        programme = _programme(tx, session.programme_id)
        programme.check_running("Sessions are rescheduled")
        moved = session.reschedule(
            utc(command.starts_at),
            command.duration_minutes or session.duration_minutes,
            command.timezone or session.timezone,
        )
        programme.check_in_dates(moved.starts_at, moved.ends_at, moved.timezone)
        tx.sessions.save(moved)
        tx.emit(
            "mentoring.session.rescheduled",
            subject=moved.id,
            data={
                **session_data(moved),
                "previous_starts_at": session.starts_at,
                "previous_ends_at": session.ends_at,
            },
        )
        return moved


def complete_session(uow: MentoringUnitOfWork, command: CompleteSession) -> Session:
    """The session took place (``mentoring.session.completed`` with who came)."""
    with uow.begin() as tx:
        session = _session(tx, command.session_id)
        completed = session.complete(now(), tuple(command.attended), command.notes)
        tx.sessions.save(completed)
        tx.emit(
            "mentoring.session.completed",
            subject=completed.id,
            data={**session_data(completed), "attended": list(completed.attended)},
        )
        return completed


def cancel_session(uow: MentoringUnitOfWork, command: CancelSession) -> Session:
    with uow.begin() as tx:
        cancelled = _session(tx, command.session_id).cancel(_tidy_or_none(command.reason))
        _save_cancelled_session(tx, cancelled)
        return cancelled


def _save_cancelled_session(tx: MentoringTx, cancelled: Session) -> None:
    tx.sessions.save(cancelled)
    tx.emit(
        "mentoring.session.cancelled",
        subject=cancelled.id,
        data={**session_data(cancelled), "reason": cancelled.cancel_reason},
    )


# -- joint meetings ------------------------------------------------------------------
def schedule_meeting(uow: MentoringUnitOfWork, command: ScheduleMeeting) -> Meeting:
    """A joint meeting of every participant (``mentoring.meeting.scheduled``: the events
    service hosts it as an online event with all of them registered)."""
    with uow.begin() as tx:
        programme = _programme(tx, command.programme_id)
        programme.check_meetings("Joint meetings are scheduled")
        meeting = Meeting(
            programme_id=programme.id,
            title=tidy(command.title),
            starts_at=utc(command.starts_at),
            ends_at=utc(command.ends_at),
            timezone=command.timezone,
            online_link=command.online_link,
            agenda=command.agenda,
            person_ids=_participants(tx, programme.id),
        )
        programme.check_in_dates(meeting.starts_at, meeting.ends_at, meeting.timezone)
        tx.meetings.add(meeting)
        tx.emit("mentoring.meeting.scheduled", subject=meeting.id, data=meeting_data(meeting))
        return meeting


def reschedule_meeting(uow: MentoringUnitOfWork, command: RescheduleMeeting) -> Meeting:
    with uow.begin() as tx:
        meeting = _meeting(tx, command.meeting_id)
        programme = _programme(tx, meeting.programme_id)
        programme.check_meetings("Joint meetings are rescheduled")
        moved = meeting.reschedule(
            utc(command.starts_at), utc(command.ends_at), command.timezone or meeting.timezone
        )
        programme.check_in_dates(moved.starts_at, moved.ends_at, moved.timezone)
        tx.meetings.save(moved)
        tx.emit(
            "mentoring.meeting.rescheduled",
            subject=moved.id,
            data={
                **meeting_data(moved),
                "previous_starts_at": meeting.starts_at,
                "previous_ends_at": meeting.ends_at,
            },
        )
        return moved


def cancel_meeting(uow: MentoringUnitOfWork, command: CancelMeeting) -> Meeting:
    with uow.begin() as tx:
        cancelled = _meeting(tx, command.meeting_id).cancel(_tidy_or_none(command.reason))
        _save_cancelled_meeting(tx, cancelled)
        return cancelled


def _save_cancelled_meeting(tx: MentoringTx, cancelled: Meeting) -> None:
    tx.meetings.save(cancelled)
    tx.emit(
        "mentoring.meeting.cancelled",
        subject=cancelled.id,
        data={**meeting_data(cancelled), "reason": cancelled.cancel_reason},
    )


def _participants(tx: MentoringTx, programme_id: str) -> tuple[str, ...]:
    """The programme's enrolled people still in the registry: mentors, then mentees."""
    enrolments = tx.enrolments.of_programme(programme_id)
    people = tx.people.many([e.person_id for e in enrolments])
    ordered = sorted(enrolments, key=lambda e: (e.role is not Role.MENTOR, e.person_id))
    return tuple(
        e.person_id for e in ordered if e.person_id in people and not people[e.person_id].removed
    )


# -- feedback ------------------------------------------------------------------------
def give_feedback(uow: MentoringUnitOfWork, command: GiveFeedback) -> Feedback:
    """A pair member rates a completed session of theirs, or the programme (once each;
    ``mentoring.feedback.submitted``, without the comment)."""
    with uow.begin() as tx:
        pair = _pair(tx, command.pair_id)
        if command.author_id not in pair.person_ids:
            raise Forbidden("Feedback is given by the pair's mentor or mentee themselves.")
        if not pair.was_active:
            raise InvalidTransition("Feedback is given on pairs that were confirmed.")
        if command.session_id is not None:
            session = tx.sessions.get(command.session_id)
            if session is None or pair.id not in session.pair_ids:
                raise invalid("session_id", "Not a session of this pair.")
            if session.status is not SessionStatus.COMPLETED:
                raise InvalidTransition("Feedback is given on sessions that took place.")
        if tx.feedback.given(pair.id, command.author_id, command.session_id) is not None:
            raise Conflict("This feedback was given already.")
        role = Role.MENTOR if command.author_id == pair.mentor_id else Role.MENTEE
        feedback = Feedback(
            programme_id=pair.programme_id,
            pair_id=pair.id,
            author_id=command.author_id,
            author_role=role,
            rating=command.rating,
            session_id=command.session_id,
            comment=_tidy_or_none(command.comment),
        )
        tx.feedback.add(feedback)
        tx.emit(
            "mentoring.feedback.submitted",
            subject=feedback.id,
            data={
                "id": feedback.id,
                "programme_id": feedback.programme_id,
                "pair_id": feedback.pair_id,
                "session_id": feedback.session_id,
                "subject": feedback.subject.value,
                "author_id": feedback.author_id,
                "author_role": feedback.author_role.value,
                "rating": feedback.rating,
            },
        )
        return feedback


# -- the programme report ------------------------------------------------------------
def report(uow: MentoringUnitOfWork, programme_id: str) -> dict[str, Any]:
    """Per confirmed pair: sessions held, attendance rate, goal progress, average
    rating; and the programme's totals. Rates and averages are None without data."""
    with uow.read() as tx:
        programme = _programme(tx, programme_id)
        pairs = [p for p in tx.pairs.of_programme(programme.id) if p.was_active]
        pair_ids = [p.id for p in pairs]
        sessions = tx.sessions.of_programme(programme.id)
        goals = tx.goals.of_pairs(pair_ids)
        feedback = tx.feedback.of_pairs(pair_ids)
        meetings = tx.meetings.of_programme(programme.id)
        people = tx.people.many([p for pair in pairs for p in pair.person_ids])
    held = [s for s in sessions if s.status is SessionStatus.COMPLETED]
    rows = []
    for pair in pairs:
        own = [s for s in held if pair.id in s.pair_ids]
        present = sum(p in s.attended for s in own for p in pair.person_ids)
        progress = [g.progress for g in goals if g.pair_id == pair.id and _counts(g)]
        ratings = [f.rating for f in feedback if f.pair_id == pair.id]
        rows.append(
            {
                "pair_id": pair.id,
                "mentor_id": pair.mentor_id,
                "mentor_name": _name(people, pair.mentor_id),
                "mentee_id": pair.mentee_id,
                "mentee_name": _name(people, pair.mentee_id),
                "status": pair.status.value,
                "sessions_held": len(own),
                "attendance_rate": _ratio(present, 2 * len(own)),
                "goals": len(progress),
                "goal_progress": _mean(progress),
                "average_rating": _mean(ratings),
            }
        )
    slots = sum(len(s.person_ids) for s in held)
    return {
        "programme": programme,
        "pairs": rows,
        "totals": {
            "pairs": len(pairs),
            "active_pairs": sum(p.status is PairStatus.ACTIVE for p in pairs),
            "completed_pairs": sum(p.status is PairStatus.COMPLETED for p in pairs),
            "ended_pairs": sum(p.status is PairStatus.ENDED for p in pairs),
            "sessions": len(held),
            "bilateral_sessions": sum(s.kind is SessionKind.BILATERAL for s in held),
            "group_sessions": sum(s.kind is SessionKind.GROUP for s in held),
            "sessions_scheduled": sum(s.status is SessionStatus.SCHEDULED for s in sessions),
            "goals": sum(_counts(g) for g in goals),
            "joint_meetings": sum(m.status is not SessionStatus.CANCELLED for m in meetings),
            "attendance_rate": _ratio(sum(len(s.attended) for s in held), slots),
            "goal_progress": _mean([g.progress for g in goals if _counts(g)]),
            "feedback": len(feedback),
            "average_rating": _mean([f.rating for f in feedback]),
        },
    }


def _counts(goal: Goal) -> bool:
    return goal.status is not GoalStatus.DROPPED


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _mean(values: Sequence[int]) -> float | None:
    return round(fmean(values), 2) if values else None


def _name(people: dict[str, PersonCopy], person_id: str) -> str | None:
    person = people.get(person_id)
    return person.name if person else None


# -- driven by the registry's events (in the handler's transaction) -------------------
def keep_people(tx: MentoringTx, command: KeepPeople) -> None:
    """registry.person.registered / .updated: keep the newest copy of each person."""
    tx.people.keep_newest(command.changes)


def forget_person(tx: MentoringTx, command: ForgetPerson) -> None:
    """The registry removed the person: a tombstone, then their live pairs end (active
    ones with ``mentoring.pair.ended``; proposals are rejected)."""
    tx.people.forget(command.person_id, command.at)
    _end_live_pairs(
        tx, tx.pairs.live_of_people([command.person_id], mentee_only=False), PERSON_REMOVED
    )


def keep_clusters(tx: MentoringTx, command: KeepClusters) -> None:
    """registry.cluster.registered / .updated: keep the newest details of each."""
    tx.clusters.keep_newest(command.changes)


def keep_label(tx: MentoringTx, command: KeepLabel) -> None:
    """registry.cluster.label_awarded: the label, kept with the cluster's copy (for its
    profile in the programme's portfolio)."""
    tx.clusters.add_label(command.award)


def change_cluster_status(tx: MentoringTx, command: ChangeClusterStatus) -> None:
    """registry.cluster.deactivated / .reactivated (flow 5): a deactivation newer than
    what the copy knows ends the live pairs whose mentee belongs to the cluster."""
    change = command.change
    applied = tx.clusters.set_status(change)
    if applied and not change.active:
        reason = f"The mentee's cluster {change.name} was deactivated"
        reason += f": {tidy(command.reason)}" if command.reason and command.reason.strip() else "."
        _end_mentees_pairs(tx, change.id, reason[:500])


def forget_cluster(tx: MentoringTx, command: ForgetCluster) -> None:
    """registry.cluster.removed: its mentees' live pairs end, then a tombstone."""
    cluster = tx.clusters.get(command.cluster_id)
    if cluster is None or not cluster.removed:
        reason = f"The mentee's cluster {command.name} was removed from the registry."
        _end_mentees_pairs(tx, command.cluster_id, reason[:500])
    tx.clusters.forget(command.cluster_id, command.at)


def _end_mentees_pairs(tx: MentoringTx, cluster_id: str, reason: str) -> None:
    mentees = tx.people.in_cluster(cluster_id)
    if mentees:
        _end_live_pairs(tx, tx.pairs.live_of_people(mentees, mentee_only=True), reason)


def _end_live_pairs(tx: MentoringTx, pairs: Iterable[Pair], reason: str) -> None:
    """End each active pair (with its event) and reject each proposal; programmes are
    locked before their pairs, in id order."""
    at = now()
    for found in sorted(pairs, key=lambda p: (p.programme_id, p.id)):
        programme = _programme(tx, found.programme_id, lock=True)
        pair = _pair(tx, found.id, lock=True)
        if pair.status is PairStatus.ACTIVE:
            ended = pair.end(at, reason)
            tx.pairs.save(ended)
            _emit_ended(tx, ended, programme)
        elif pair.status is PairStatus.PROPOSED:
            tx.pairs.save(pair.reject(at, reason))


# -- event data ----------------------------------------------------------------------
def programme_data(programme: Programme) -> dict[str, Any]:
    return {
        "id": programme.id,
        "name": programme.name,
        "edition": programme.edition,
        "organiser": programme.organiser,
        "starts_on": programme.starts_on,
        "ends_on": programme.ends_on,
        "competencies": [c.value for c in programme.competencies],
        "status": programme.status.value,
    }


def session_data(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "programme_id": session.programme_id,
        "kind": session.kind.value,
        "title": session.title,
        "pair_ids": list(session.pair_ids),
        "person_ids": list(session.person_ids),
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "timezone": session.timezone,
        "online_link": session.online_link,
        "agenda": session.agenda,
        "status": session.status.value,
    }


def meeting_data(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "programme_id": meeting.programme_id,
        "title": meeting.title,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "timezone": meeting.timezone,
        "online_link": meeting.online_link,
        "person_ids": list(meeting.person_ids),
    }


def _pair_data(tx: MentoringTx, pair: Pair, programme: Programme) -> dict[str, Any]:
    people, clusters = _people_and_clusters(tx, list(pair.person_ids))

    def participant(person_id: str) -> dict[str, Any]:
        person = people.get(person_id) or PersonCopy(person_id, None, None, None, None, True)
        return _participant(person, clusters.get(person.cluster_id or ""))

    return {
        "id": pair.id,
        "programme_id": programme.id,
        "programme_name": programme.name,
        "mentor": participant(pair.mentor_id),
        "mentee": participant(pair.mentee_id),
    }


def _emit_matched(tx: MentoringTx, pair: Pair, programme: Programme) -> None:
    tx.emit(
        "mentoring.pair.matched",
        subject=pair.id,
        data={
            **_pair_data(tx, pair, programme),
            "score": pair.score,
            "reasons": list(pair.reasons),
        },
    )


def _emit_ended(tx: MentoringTx, pair: Pair, programme: Programme) -> None:
    tx.emit(
        "mentoring.pair.ended",
        subject=pair.id,
        data={
            **_pair_data(tx, pair, programme),
            "status": pair.status.value,
            "reason": pair.end_reason,
        },
    )


def _emit_goal(tx: MentoringTx, goal: Goal, pair: Pair) -> None:
    tx.emit(
        "mentoring.goal.updated",
        subject=goal.id,
        data={
            "id": goal.id,
            "programme_id": goal.programme_id,
            "pair_id": goal.pair_id,
            "title": goal.title,
            "competency": goal.competency.value,
            "progress": goal.progress,
            "status": goal.status.value,
            "person_ids": list(pair.person_ids),
            "updated_by": goal.updated_by or "",
        },
    )


def _participant(person: PersonCopy, cluster: ClusterCopy | None) -> dict[str, Any]:
    return {
        "person_id": person.id,
        "name": person.name,
        "language": person.language,
        "cluster_id": person.cluster_id,
        "country": _country(person, cluster),
    }


# -- helpers -------------------------------------------------------------------------
def _people_and_clusters(
    tx: MentoringTx, person_ids: Sequence[str]
) -> tuple[dict[str, PersonCopy], dict[str, ClusterCopy]]:
    people = tx.people.many(person_ids)
    cluster_ids = sorted({p.cluster_id for p in people.values() if p.cluster_id})
    return people, tx.clusters.many(cluster_ids)


def _country(person: PersonCopy, cluster: ClusterCopy | None) -> str | None:
    """The cluster's country when it is known, else the person's own."""
    country = (cluster.country if cluster and cluster.country else None) or person.country
    return country.upper() if country else None


def _languages_of(person: PersonCopy) -> tuple[Language, ...]:
    return (Language(person.language),) if person.language in set(Language) else ()


def _sectors(sectors: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tidy(s).lower() for s in sectors if s.strip()))


def _tidy_or_none(text: str | None) -> str | None:
    return (tidy(text) or None) if text is not None else None


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise PreconditionFailed("The resource has changed since it was read (If-Match).")


def _programme(tx: MentoringTx, programme_id: str, *, lock: bool = False) -> Programme:
    programme = tx.programmes.get(programme_id, lock=lock)
    if programme is None:
        raise NotFound(f"No programme with id {programme_id!r}.")
    return programme


def _pair(tx: MentoringTx, pair_id: str, *, lock: bool = False) -> Pair:
    pair = tx.pairs.get(pair_id, lock=lock)
    if pair is None:
        raise NotFound(f"No pair with id {pair_id!r}.")
    return pair


def _goal(tx: MentoringTx, goal_id: str) -> Goal:
    goal = tx.goals.get(goal_id)
    if goal is None:
        raise NotFound(f"No goal with id {goal_id!r}.")
    return goal


def _session(tx: MentoringTx, session_id: str) -> Session:
    session = tx.sessions.get(session_id)
    if session is None:
        raise NotFound(f"No session with id {session_id!r}.")
    return session


def _meeting(tx: MentoringTx, meeting_id: str) -> Meeting:
    meeting = tx.meetings.get(meeting_id)
    if meeting is None:
        raise NotFound(f"No meeting with id {meeting_id!r}.")
    return meeting
