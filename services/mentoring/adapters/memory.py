"""The mentoring service's repositories in memory, for unit tests of its use cases.

Each fake keeps frozen domain objects in a dict and answers as the SQL repositories do:
the same filters, orders, keyset cursors and read-copy rules, and the database's
unique constraints as :class:`IntegrityError`. Locks are ignored: a
:class:`~shared.fake_uow.FakeUnitOfWork` runs one unit at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from services.mentoring.domain.model import (
    LIVE_PAIR,
    ClusterChange,
    ClusterCopy,
    ClusterStatusChange,
    Enrolment,
    Feedback,
    Goal,
    LabelAward,
    Meeting,
    Pair,
    PairStatus,
    PersonChange,
    PersonCopy,
    Programme,
    ProgrammeStatus,
    Publication,
    Role,
    Session,
)
from services.mentoring.domain.ports import (
    Clusters,
    Enrolments,
    FeedbackRepository,
    Goals,
    Meetings,
    MentoringTx,
    PairQuery,
    Pairs,
    People,
    Portfolios,
    Programmes,
    Sessions,
    TimeKey,
)
from shared.events.catalogue import Catalogue
from shared.fake_uow import FakeTransaction, FakeUnitOfWork

V = TypeVar("V")


class IntegrityError(Exception):
    """A write the database's constraints would refuse (a bug in a use case)."""


def _page(
    items: Sequence[V], key: Callable[[V], TimeKey], limit: int, after: TimeKey | None
) -> list[V]:
    """Keyset pagination: up to ``limit`` items after the key ``after``, by ``key``."""
    ordered = sorted(items, key=key)
    return [item for item in ordered if after is None or key(item) > after][:limit]


def _created(item: Programme | Enrolment | Pair | Goal | Feedback) -> TimeKey:
    return item.created_at, item.id


def _starts(item: Session | Meeting) -> TimeKey:
    return item.starts_at, item.id


class FakeProgrammes(Programmes):
    def __init__(self) -> None:
        self.rows: dict[str, Programme] = {}

    def get(self, programme_id: str, *, lock: bool = False) -> Programme | None:
        return self.rows.get(programme_id)

    def add(self, programme: Programme) -> None:
        if programme.id in self.rows:
            raise IntegrityError(programme.id)
        self.rows[programme.id] = programme

    def save(self, programme: Programme) -> None:
        stored = self.rows[programme.id]
        self.rows[programme.id] = replace(programme, created_at=stored.created_at)

    def find(
        self, limit: int, after: TimeKey | None, status: ProgrammeStatus | None = None
    ) -> list[Programme]:
        found = [p for p in self.rows.values() if status is None or p.status is status]
        return _page(found, _created, limit, after)


class FakeEnrolments(Enrolments):
    def __init__(self) -> None:
        self.rows: dict[str, Enrolment] = {}

    def get(self, enrolment_id: str) -> Enrolment | None:
        return self.rows.get(enrolment_id)

    def of_person(self, programme_id: str, person_id: str) -> Enrolment | None:
        return next(
            (
                e
                for e in self.rows.values()
                if e.programme_id == programme_id and e.person_id == person_id
            ),
            None,
        )

    def add(self, enrolment: Enrolment) -> None:
        if enrolment.id in self.rows or self.of_person(enrolment.programme_id, enrolment.person_id):
            raise IntegrityError(f"{enrolment.person_id} enrolled already")
        self.rows[enrolment.id] = enrolment

    def of_programme(self, programme_id: str, role: Role | None = None) -> list[Enrolment]:
        return sorted(
            (
                e
                for e in self.rows.values()
                if e.programme_id == programme_id and (role is None or e.role is role)
            ),
            key=lambda e: e.person_id,
        )

    def find(
        self, programme_id: str, role: Role | None, limit: int, after: TimeKey | None
    ) -> list[Enrolment]:
        return _page(self.of_programme(programme_id, role), _created, limit, after)


class FakePairs(Pairs):
    def __init__(self) -> None:
        self.rows: dict[str, Pair] = {}

    def get(self, pair_id: str, *, lock: bool = False) -> Pair | None:
        return self.rows.get(pair_id)

    def add_all(self, pairs: Sequence[Pair]) -> None:
        for pair in pairs:
            if pair.id in self.rows:
                raise IntegrityError(pair.id)
            if pair.status is PairStatus.ACTIVE and any(
                p.status is PairStatus.ACTIVE
                and p.programme_id == pair.programme_id
                and p.mentee_id == pair.mentee_id
                for p in self.rows.values()
            ):
                raise IntegrityError(f"{pair.mentee_id} paired already")
            self.rows[pair.id] = pair

    def save(self, pair: Pair) -> None:
        stored = self.rows[pair.id]
        self.rows[pair.id] = replace(
            pair,
            programme_id=stored.programme_id,
            mentor_id=stored.mentor_id,
            mentee_id=stored.mentee_id,
            score=stored.score,
            reasons=stored.reasons,
            created_at=stored.created_at,
        )

    def discard_proposals(self, programme_id: str) -> int:
        gone = [
            p.id
            for p in self.rows.values()
            if p.programme_id == programme_id and p.status is PairStatus.PROPOSED
        ]
        for pair_id in gone:
            del self.rows[pair_id]
        return len(gone)

    def of_programme(self, programme_id: str, statuses: Sequence[PairStatus] = ()) -> list[Pair]:
        return sorted(
            (
                p
                for p in self.rows.values()
                if p.programme_id == programme_id and (not statuses or p.status in statuses)
            ),
            key=_created,
        )

    def live_of_people(self, person_ids: Sequence[str], *, mentee_only: bool) -> list[Pair]:
        wanted = set(person_ids)
        return sorted(
            (
                p
                for p in self.rows.values()
                if p.status in LIVE_PAIR
                and (p.mentee_id in wanted or (not mentee_only and p.mentor_id in wanted))
            ),
            key=lambda p: p.id,
        )

    def find(self, query: PairQuery, limit: int, after: TimeKey | None) -> list[Pair]:
        found = [
            p
            for p in self.rows.values()
            if (query.programme_id is None or p.programme_id == query.programme_id)
            and (query.status is None or p.status is query.status)
            and (query.person_id is None or query.person_id in p.person_ids)
        ]
        return _page(found, _created, limit, after)


class FakeGoals(Goals):
    def __init__(self) -> None:
        self.rows: dict[str, Goal] = {}

    def get(self, goal_id: str) -> Goal | None:
        return self.rows.get(goal_id)

    def add(self, goal: Goal) -> None:
        if goal.id in self.rows:
            raise IntegrityError(goal.id)
        self.rows[goal.id] = goal

    def save(self, goal: Goal, expected_version: int) -> bool:
        stored = self.rows.get(goal.id)
        if stored is None or stored.version != expected_version:
            return False
        self.rows[goal.id] = replace(goal, created_at=stored.created_at)
        return True

    def of_pairs(self, pair_ids: Sequence[str]) -> list[Goal]:
        wanted = set(pair_ids)
        return sorted((g for g in self.rows.values() if g.pair_id in wanted), key=_created)


class FakeSessions(Sessions):
    def __init__(self) -> None:
        self.rows: dict[str, Session] = {}

    def get(self, session_id: str) -> Session | None:
        return self.rows.get(session_id)

    def add(self, session: Session) -> None:
        if session.id in self.rows:
            raise IntegrityError(session.id)
        self.rows[session.id] = session

    def save(self, session: Session) -> None:
        stored = self.rows[session.id]
        self.rows[session.id] = replace(
            session,
            pair_ids=stored.pair_ids,
            person_ids=stored.person_ids,
            created_at=stored.created_at,
        )

    def of_programme(self, programme_id: str) -> list[Session]:
        return sorted(
            (s for s in self.rows.values() if s.programme_id == programme_id), key=_starts
        )

    def find(
        self,
        programme_id: str | None,
        pair_id: str | None,
        limit: int,
        after: TimeKey | None,
    ) -> list[Session]:
        found = [
            s
            for s in self.rows.values()
            if (programme_id is None or s.programme_id == programme_id)
            and (pair_id is None or pair_id in s.pair_ids)
        ]
        return _page(found, _starts, limit, after)


class FakeMeetings(Meetings):
    def __init__(self) -> None:
        self.rows: dict[str, Meeting] = {}

    def get(self, meeting_id: str) -> Meeting | None:
        return self.rows.get(meeting_id)

    def add(self, meeting: Meeting) -> None:
        if meeting.id in self.rows:
            raise IntegrityError(meeting.id)
        self.rows[meeting.id] = meeting

    def save(self, meeting: Meeting) -> None:
        stored = self.rows[meeting.id]
        self.rows[meeting.id] = replace(
            meeting, person_ids=stored.person_ids, created_at=stored.created_at
        )

    def of_programme(self, programme_id: str) -> list[Meeting]:
        found = [m for m in self.rows.values() if m.programme_id == programme_id]
        return sorted(found, key=_starts)

    def find(self, programme_id: str, limit: int, after: TimeKey | None) -> list[Meeting]:
        found = [m for m in self.rows.values() if m.programme_id == programme_id]
        return _page(found, _starts, limit, after)


class FakeFeedback(FeedbackRepository):
    def __init__(self) -> None:
        self.rows: dict[str, Feedback] = {}

    def add(self, feedback: Feedback) -> None:
        if feedback.id in self.rows or self.given(
            feedback.pair_id, feedback.author_id, feedback.session_id
        ):
            raise IntegrityError(f"feedback of {feedback.author_id} given already")
        self.rows[feedback.id] = feedback

    def given(self, pair_id: str, author_id: str, session_id: str | None) -> Feedback | None:
        return next(
            (
                f
                for f in self.rows.values()
                if (f.pair_id, f.author_id, f.session_id) == (pair_id, author_id, session_id)
            ),
            None,
        )

    def of_pairs(self, pair_ids: Sequence[str]) -> list[Feedback]:
        wanted = set(pair_ids)
        return sorted((f for f in self.rows.values() if f.pair_id in wanted), key=_created)


@dataclass(frozen=True)
class _Row:
    copy: PersonCopy
    synced_at: datetime


class FakePeople(People):
    def __init__(self) -> None:
        self.rows: dict[str, _Row] = {}

    def get(self, person_id: str) -> PersonCopy | None:
        row = self.rows.get(person_id)
        return row.copy if row else None

    def many(self, person_ids: Sequence[str]) -> dict[str, PersonCopy]:
        return {p: self.rows[p].copy for p in sorted(set(person_ids)) if p in self.rows}

    def in_cluster(self, cluster_id: str) -> list[str]:
        return sorted(
            p
            for p, row in self.rows.items()
            if row.copy.cluster_id == cluster_id and not row.copy.removed
        )

    def keep_newest(self, changes: Sequence[PersonChange]) -> None:
        newest: dict[str, PersonChange] = {}
        for change in changes:
            kept = newest.get(change.id)
            if kept is None or kept.at <= change.at:
                newest[change.id] = change
        for person_id, change in newest.items():
            row = self.rows.get(person_id)
            if row is None or (not row.copy.removed and row.synced_at <= change.at):
                copy = PersonCopy(
                    person_id,
                    change.name,
                    change.language,
                    change.cluster_id,
                    change.country,
                    role=change.role,
                )
                self.rows[person_id] = _Row(copy, change.at)

    def forget(self, person_id: str, at: datetime) -> None:
        self.rows[person_id] = _Row(PersonCopy(person_id, None, None, None, None, True), at)


@dataclass(frozen=True)
class _ClusterRow:
    copy: ClusterCopy
    details_at: datetime | None
    status_at: datetime


class FakeClusters(Clusters):
    def __init__(self) -> None:
        self.rows: dict[str, _ClusterRow] = {}

    def get(self, cluster_id: str) -> ClusterCopy | None:
        row = self.rows.get(cluster_id)
        return row.copy if row else None

    def many(self, cluster_ids: Sequence[str]) -> dict[str, ClusterCopy]:
        return {c: self.rows[c].copy for c in sorted(set(cluster_ids)) if c in self.rows}

    def keep_newest(self, changes: Sequence[ClusterChange]) -> None:
        newest: dict[str, ClusterChange] = {}
        for change in changes:
            kept = newest.get(change.id)
            if kept is None or kept.at <= change.at:
                newest[change.id] = change
        for cluster_id, change in newest.items():
            row = self.rows.get(cluster_id)
            if row is None:
                copy = ClusterCopy(
                    cluster_id,
                    change.name,
                    change.country,
                    change.region,
                    change.active,
                    change.sectors,
                    **_profile(change),
                )
                self.rows[cluster_id] = _ClusterRow(copy, change.at, change.at)
                continue
            if row.copy.removed:
                continue
            copy, details_at, status_at = row.copy, row.details_at, row.status_at
            if details_at is None or details_at <= change.at:
                copy = replace(
                    copy,
                    name=change.name,
                    country=change.country,
                    region=change.region,
                    sectors=change.sectors,
                    **_profile(change),
                )
                details_at = change.at
            if status_at <= change.at:
                copy, status_at = replace(copy, active=change.active), change.at
            self.rows[cluster_id] = _ClusterRow(copy, details_at, status_at)

    def set_status(self, change: ClusterStatusChange) -> bool:
        row = self.rows.get(change.id)
        if row is None:
            copy = ClusterCopy(change.id, change.name, change.country, None, change.active)
            self.rows[change.id] = _ClusterRow(copy, None, change.at)
            return True
        if row.copy.removed or row.status_at > change.at:
            return False
        self.rows[change.id] = replace(
            row, copy=replace(row.copy, active=change.active), status_at=change.at
        )
        return True

    def forget(self, cluster_id: str, at: datetime) -> None:
        tombstone = ClusterCopy(cluster_id, None, None, None, False, (), True)
        self.rows[cluster_id] = _ClusterRow(tombstone, at, at)

    def add_label(self, award: LabelAward) -> bool:
        row = self.rows.get(award.cluster_id)
        if row is None:
            copy = ClusterCopy(
                award.cluster_id, award.cluster_name, None, None, True, labels=(award.label,)
            )
            self.rows[award.cluster_id] = _ClusterRow(copy, None, award.at)
            return True
        if row.copy.removed or any(label.id == award.label.id for label in row.copy.labels):
            return False
        labels = (*row.copy.labels, award.label)
        self.rows[award.cluster_id] = replace(row, copy=replace(row.copy, labels=labels))
        return True


def _profile(change: ClusterChange) -> dict[str, Any]:
    return {
        "acronym": change.acronym,
        "city": change.city,
        "kind": change.kind,
        "founded": change.founded,
        "members_count": change.members_count,
        "website": change.website,
        "description": change.description,
    }


class FakePortfolios(Portfolios):
    def __init__(self) -> None:
        self.publications: dict[str, Publication] = {}
        self.files: dict[tuple[str, str], tuple[str, bytes]] = {}

    def publication(self, programme_id: str) -> Publication | None:
        return self.publications.get(programme_id)

    def publish(self, publication: Publication) -> None:
        if publication.programme_id in self.publications:
            raise IntegrityError(f"portfolio {publication.programme_id} already published")
        self.publications[publication.programme_id] = publication

    def unpublish(self, programme_id: str) -> None:
        self.publications.pop(programme_id, None)

    def rendered(self, programme_id: str, language: str, fingerprint: str) -> bytes | None:
        kept = self.files.get((programme_id, language))
        return kept[1] if kept and kept[0] == fingerprint else None

    def keep_rendered(
        self, programme_id: str, language: str, fingerprint: str, content: bytes
    ) -> None:
        self.files[(programme_id, language)] = (fingerprint, content)


class FakeMentoringTx(FakeTransaction, MentoringTx):
    """An in-memory unit of work of the mentoring service."""

    programmes: FakeProgrammes
    enrolments: FakeEnrolments
    pairs: FakePairs
    goals: FakeGoals
    sessions: FakeSessions
    meetings: FakeMeetings
    feedback: FakeFeedback
    people: FakePeople
    clusters: FakeClusters
    portfolios: FakePortfolios

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__(catalogue)
        self.programmes = FakeProgrammes()
        self.enrolments = FakeEnrolments()
        self.pairs = FakePairs()
        self.goals = FakeGoals()
        self.sessions = FakeSessions()
        self.meetings = FakeMeetings()
        self.feedback = FakeFeedback()
        self.people = FakePeople()
        self.clusters = FakeClusters()
        self.portfolios = FakePortfolios()


def fake_uow(catalogue: Catalogue) -> FakeUnitOfWork[FakeMentoringTx]:
    """An empty mentoring service in memory, emitting against ``catalogue``."""
    return FakeUnitOfWork(FakeMentoringTx(catalogue))
