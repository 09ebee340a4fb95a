"""The mentoring service's repositories on SQL (SQLAlchemy Core), and its SQL transaction.

The read copies' upserts are built once per dialect (``shared.read_copy.upsert_newest``
for people, ``_upsert_clusters``): one statement per batch of the registry's events,
whose update applies only to a newer change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, case, delete, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session as DbSession

from services.mentoring.adapters.tables import (
    clusters,
    enrolments,
    feedback,
    goals,
    meetings,
    pairs,
    people,
    portfolio_files,
    portfolio_publications,
    programmes,
    session_pairs,
    sessions,
)
from services.mentoring.domain.model import (
    LIVE_PAIR,
    ClusterChange,
    ClusterCopy,
    ClusterStatusChange,
    Competency,
    Enrolment,
    Feedback,
    Goal,
    GoalStatus,
    LabelAward,
    LabelCopy,
    Language,
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
    SessionKind,
    SessionStatus,
    now,
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
from shared.db import utc
from shared.events.catalogue import Catalogue
from shared.outbox import Outbox
from shared.read_copy import dialect_insert, newest_per_id, tombstone, upsert_newest
from shared.sql_uow import SqlTransaction

_LIVE = [status.value for status in LIVE_PAIR]


def _after(statement: Any, columns: tuple[Any, Any], after: TimeKey | None) -> Any:
    if after is None:
        return statement
    return statement.where(tuple_(*columns) > tuple_(after[0], after[1]))


class SqlProgrammes(Programmes):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, programme_id: str, *, lock: bool = False) -> Programme | None:
        query = select(programmes).where(programmes.c.id == programme_id)
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _programme(row) if row else None

    def add(self, programme: Programme) -> None:
        self.session.execute(insert(programmes), _programme_values(programme))

    def save(self, programme: Programme) -> None:
        values = _programme_values(programme)
        values.pop("id")
        values.pop("created_at")
        self.session.execute(
            update(programmes).where(programmes.c.id == programme.id).values(**values)
        )

    def find(
        self, limit: int, after: TimeKey | None, status: ProgrammeStatus | None = None
    ) -> list[Programme]:
        columns = (programmes.c.created_at, programmes.c.id)
        query = select(programmes).order_by(*columns).limit(limit)
        if status is not None:
            query = query.where(programmes.c.status == status.value)
        statement = _after(query, columns, after)
        return [_programme(row) for row in self.session.execute(statement)]


class SqlEnrolments(Enrolments):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, enrolment_id: str) -> Enrolment | None:
        row = self.session.execute(
            select(enrolments).where(enrolments.c.id == enrolment_id)
        ).first()
        return _enrolment(row) if row else None

    def of_person(self, programme_id: str, person_id: str) -> Enrolment | None:
        row = self.session.execute(
            select(enrolments).where(
                enrolments.c.programme_id == programme_id, enrolments.c.person_id == person_id
            )
        ).first()
        return _enrolment(row) if row else None

    def add(self, enrolment: Enrolment) -> None:
        self.session.execute(
            insert(enrolments),
            {
                "id": enrolment.id,
                "programme_id": enrolment.programme_id,
                "person_id": enrolment.person_id,
                "role": enrolment.role.value,
                "languages": [language.value for language in enrolment.languages],
                "competencies": [[c.value, level] for c, level in enrolment.competencies],
                "sectors": list(enrolment.sectors),
                "availability": enrolment.availability,
                "capacity": enrolment.capacity,
                "created_at": enrolment.created_at,
            },
        )

    def of_programme(self, programme_id: str, role: Role | None = None) -> list[Enrolment]:
        query = (
            select(enrolments)
            .where(enrolments.c.programme_id == programme_id)
            .order_by(enrolments.c.person_id)
        )
        if role is not None:
            query = query.where(enrolments.c.role == role.value)
        return [_enrolment(row) for row in self.session.execute(query)]

    def find(
        self, programme_id: str, role: Role | None, limit: int, after: TimeKey | None
    ) -> list[Enrolment]:
        columns = (enrolments.c.created_at, enrolments.c.id)
        query = (
            select(enrolments)
            .where(enrolments.c.programme_id == programme_id)
            .order_by(*columns)
            .limit(limit)
        )
        if role is not None:
            query = query.where(enrolments.c.role == role.value)
        return [_enrolment(row) for row in self.session.execute(_after(query, columns, after))]


class SqlPairs(Pairs):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, pair_id: str, *, lock: bool = False) -> Pair | None:
        query = select(pairs).where(pairs.c.id == pair_id)
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _pair(row) if row else None

    def add_all(self, new: Sequence[Pair]) -> None:
        if new:
            self.session.execute(insert(pairs), [_pair_values(pair) for pair in new])

    def save(self, pair: Pair) -> None:
        values = _pair_values(pair)
        for key in ("id", "programme_id", "mentor_id", "mentee_id", "score", "reasons"):
            values.pop(key)
        values.pop("created_at")
        self.session.execute(update(pairs).where(pairs.c.id == pair.id).values(**values))

    def discard_proposals(self, programme_id: str) -> int:
        result = self.session.execute(
            delete(pairs).where(
                pairs.c.programme_id == programme_id,
                pairs.c.status == PairStatus.PROPOSED.value,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def of_programme(self, programme_id: str, statuses: Sequence[PairStatus] = ()) -> list[Pair]:
        query = (
            select(pairs)
            .where(pairs.c.programme_id == programme_id)
            .order_by(pairs.c.created_at, pairs.c.id)
        )
        if statuses:
            query = query.where(pairs.c.status.in_([s.value for s in statuses]))
        return [_pair(row) for row in self.session.execute(query)]

    def live_of_people(self, person_ids: Sequence[str], *, mentee_only: bool) -> list[Pair]:
        ids = sorted(set(person_ids))
        who = (
            pairs.c.mentee_id.in_(ids)
            if mentee_only
            else or_(pairs.c.mentee_id.in_(ids), pairs.c.mentor_id.in_(ids))
        )
        query = select(pairs).where(who, pairs.c.status.in_(_LIVE)).order_by(pairs.c.id)
        return [_pair(row) for row in self.session.execute(query)]

    def find(self, query: PairQuery, limit: int, after: TimeKey | None) -> list[Pair]:
        columns = (pairs.c.created_at, pairs.c.id)
        statement = select(pairs).order_by(*columns).limit(limit)
        if query.programme_id is not None:
            statement = statement.where(pairs.c.programme_id == query.programme_id)
        if query.status is not None:
            statement = statement.where(pairs.c.status == query.status.value)
        if query.person_id is not None:
            statement = statement.where(
                or_(pairs.c.mentor_id == query.person_id, pairs.c.mentee_id == query.person_id)
            )
        return [_pair(row) for row in self.session.execute(_after(statement, columns, after))]


class SqlGoals(Goals):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, goal_id: str) -> Goal | None:
        row = self.session.execute(select(goals).where(goals.c.id == goal_id)).first()
        return _goal(row) if row else None

    def add(self, goal: Goal) -> None:
        self.session.execute(insert(goals), _goal_values(goal))

    def save(self, goal: Goal, expected_version: int) -> bool:
        values = _goal_values(goal)
        for key in ("id", "programme_id", "pair_id", "created_at"):
            values.pop(key)
        result = self.session.execute(
            update(goals)
            .where(goals.c.id == goal.id, goals.c.version == expected_version)
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    def of_pairs(self, pair_ids: Sequence[str]) -> list[Goal]:
        if not pair_ids:
            return []
        query = (
            select(goals)
            .where(goals.c.pair_id.in_(sorted(set(pair_ids))))
            .order_by(goals.c.created_at, goals.c.id)
        )
        return [_goal(row) for row in self.session.execute(query)]


class SqlSessions(Sessions):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, session_id: str) -> Session | None:
        row = self.session.execute(select(sessions).where(sessions.c.id == session_id)).first()
        return _session(row) if row else None

    def add(self, session: Session) -> None:
        self.session.execute(insert(sessions), _session_values(session))
        self.session.execute(
            insert(session_pairs),
            [{"session_id": session.id, "pair_id": pair_id} for pair_id in session.pair_ids],
        )

    def save(self, session: Session) -> None:
        values = _session_values(session)
        for key in ("id", "programme_id", "kind", "pair_ids", "person_ids", "created_at"):
            values.pop(key)
        self.session.execute(update(sessions).where(sessions.c.id == session.id).values(**values))

    def of_programme(self, programme_id: str) -> list[Session]:
        query = (
            select(sessions)
            .where(sessions.c.programme_id == programme_id)
            .order_by(sessions.c.starts_at, sessions.c.id)
        )
        return [_session(row) for row in self.session.execute(query)]

    def find(
        self,
        programme_id: str | None,
        pair_id: str | None,
        limit: int,
        after: TimeKey | None,
    ) -> list[Session]:
        columns = (sessions.c.starts_at, sessions.c.id)
        query = select(sessions).order_by(*columns).limit(limit)
        if programme_id is not None:
            query = query.where(sessions.c.programme_id == programme_id)
        if pair_id is not None:
            query = query.where(
                sessions.c.id.in_(
                    select(session_pairs.c.session_id).where(session_pairs.c.pair_id == pair_id)
                )
            )
        return [_session(row) for row in self.session.execute(_after(query, columns, after))]


class SqlMeetings(Meetings):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, meeting_id: str) -> Meeting | None:
        row = self.session.execute(select(meetings).where(meetings.c.id == meeting_id)).first()
        return _meeting(row) if row else None

    def add(self, meeting: Meeting) -> None:
        self.session.execute(insert(meetings), _meeting_values(meeting))

    def save(self, meeting: Meeting) -> None:
        values = _meeting_values(meeting)
        for key in ("id", "programme_id", "person_ids", "created_at"):
            values.pop(key)
        self.session.execute(update(meetings).where(meetings.c.id == meeting.id).values(**values))

    def of_programme(self, programme_id: str) -> list[Meeting]:
        query = (
            select(meetings)
            .where(meetings.c.programme_id == programme_id)
            .order_by(meetings.c.starts_at, meetings.c.id)
        )
        return [_meeting(row) for row in self.session.execute(query)]

    def find(self, programme_id: str, limit: int, after: TimeKey | None) -> list[Meeting]:
        columns = (meetings.c.starts_at, meetings.c.id)
        query = (
            select(meetings)
            .where(meetings.c.programme_id == programme_id)
            .order_by(*columns)
            .limit(limit)
        )
        return [_meeting(row) for row in self.session.execute(_after(query, columns, after))]


class SqlFeedback(FeedbackRepository):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def add(self, given: Feedback) -> None:
        self.session.execute(
            insert(feedback),
            {
                "id": given.id,
                "programme_id": given.programme_id,
                "pair_id": given.pair_id,
                "session_id": given.session_id,
                "author_id": given.author_id,
                "author_role": given.author_role.value,
                "rating": given.rating,
                "comment": given.comment,
                "created_at": given.created_at,
            },
        )

    def given(self, pair_id: str, author_id: str, session_id: str | None) -> Feedback | None:
        session_match = (
            feedback.c.session_id.is_(None)
            if session_id is None
            else feedback.c.session_id == session_id
        )
        row = self.session.execute(
            select(feedback).where(
                feedback.c.pair_id == pair_id, feedback.c.author_id == author_id, session_match
            )
        ).first()
        return _feedback(row) if row else None

    def of_pairs(self, pair_ids: Sequence[str]) -> list[Feedback]:
        if not pair_ids:
            return []
        query = (
            select(feedback)
            .where(feedback.c.pair_id.in_(sorted(set(pair_ids))))
            .order_by(feedback.c.created_at, feedback.c.id)
        )
        return [_feedback(row) for row in self.session.execute(query)]


class SqlPeople(People):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, person_id: str) -> PersonCopy | None:
        row = self.session.execute(select(people).where(people.c.id == person_id)).first()
        return _person(row) if row else None

    def many(self, person_ids: Sequence[str]) -> dict[str, PersonCopy]:
        if not person_ids:
            return {}
        rows = self.session.execute(select(people).where(people.c.id.in_(sorted(set(person_ids)))))
        return {row.id: _person(row) for row in rows}

    def in_cluster(self, cluster_id: str) -> list[str]:
        rows = self.session.execute(
            select(people.c.id)
            .where(people.c.cluster_id == cluster_id, people.c.removed_at.is_(None))
            .order_by(people.c.id)
        )
        return [row.id for row in rows]

    def keep_newest(self, changes: Sequence[PersonChange]) -> None:
        rows = [
            {
                "id": change.id,
                "name": change.name,
                "language": change.language,
                "cluster_id": change.cluster_id,
                "country": change.country,
                "role": change.role,
                "synced_at": change.at,
            }
            for change in newest_per_id(changes, lambda c: c.id, lambda c: c.at)
        ]
        if rows:
            dialect = self.session.get_bind().dialect.name
            self.session.execute(upsert_newest(people, _PERSON_COLUMNS, dialect), rows)

    def forget(self, person_id: str, at: datetime) -> None:
        tombstone(self.session, people, person_id, _PERSON_COLUMNS, at)


class SqlClusters(Clusters):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, cluster_id: str) -> ClusterCopy | None:
        row = self.session.execute(select(clusters).where(clusters.c.id == cluster_id)).first()
        return _cluster(row) if row else None

    def many(self, cluster_ids: Sequence[str]) -> dict[str, ClusterCopy]:
        if not cluster_ids:
            return {}
        rows = self.session.execute(
            select(clusters).where(clusters.c.id.in_(sorted(set(cluster_ids))))
        )
        return {row.id: _cluster(row) for row in rows}

    def keep_newest(self, changes: Sequence[ClusterChange]) -> None:
        rows = [
            {
                "id": change.id,
                "name": change.name,
                "country": change.country,
                "region": change.region,
                "sectors": list(change.sectors),
                "active": change.active,
                "details_at": change.at,
                "status_at": change.at,
                **{column: getattr(change, column) for column in _PROFILE_COLUMNS},
            }
            for change in newest_per_id(changes, lambda c: c.id, lambda c: c.at)
        ]
        if rows:
            self.session.execute(_upsert_clusters(self.session.get_bind().dialect.name), rows)

    def set_status(self, change: ClusterStatusChange) -> bool:
        current = self.session.execute(
            select(clusters.c.status_at, clusters.c.removed_at)
            .where(clusters.c.id == change.id)
            .with_for_update()
        ).first()
        if current is None:
            self.session.execute(
                insert(clusters),
                {
                    "id": change.id,
                    "name": change.name,
                    "country": change.country,
                    "region": None,
                    "sectors": [],
                    "active": change.active,
                    "details_at": None,
                    "status_at": change.at,
                },
            )
            return True
        if current.removed_at is not None or utc(current.status_at) > change.at:
            return False
        self.session.execute(
            update(clusters)
            .where(clusters.c.id == change.id)
            .values(active=change.active, status_at=change.at)
        )
        return True

    def forget(self, cluster_id: str, at: datetime) -> None:
        """A tombstone with both of the copy's times (details and status) at the removal;
        ``sectors`` and ``active`` cannot be NULL: emptied and false."""
        tombstone(
            self.session,
            clusters,
            cluster_id,
            ("name", "country", "region", *_PROFILE_COLUMNS, "labels"),
            at,
            at_columns=("details_at", "status_at"),
            values={"sectors": [], "active": False},
        )

    def add_label(self, award: LabelAward) -> bool:
        current = self.session.execute(
            select(clusters.c.labels, clusters.c.removed_at)
            .where(clusters.c.id == award.cluster_id)
            .with_for_update()
        ).first()
        label = _label_values(award.label)
        if current is None:
            self.session.execute(
                insert(clusters),
                {
                    "id": award.cluster_id,
                    "name": award.cluster_name,
                    "country": None,
                    "region": None,
                    "sectors": [],
                    "active": True,
                    "details_at": None,
                    "status_at": award.at,
                    "labels": [label],
                },
            )
            return True
        kept = list(current.labels or [])
        if current.removed_at is not None or any(item["id"] == label["id"] for item in kept):
            return False
        self.session.execute(
            update(clusters).where(clusters.c.id == award.cluster_id).values(labels=[*kept, label])
        )
        return True


class SqlPortfolios(Portfolios):
    def __init__(self, session: DbSession) -> None:
        self.session = session

    def publication(self, programme_id: str) -> Publication | None:
        row = self.session.execute(
            select(portfolio_publications).where(
                portfolio_publications.c.programme_id == programme_id
            )
        ).first()
        if row is None:
            return None
        return Publication(row.programme_id, utc(row.published_at), row.published_by)

    def publish(self, publication: Publication) -> None:
        self.session.execute(
            insert(portfolio_publications),
            {
                "programme_id": publication.programme_id,
                "published_at": publication.published_at,
                "published_by": publication.published_by,
            },
        )

    def unpublish(self, programme_id: str) -> None:
        self.session.execute(
            delete(portfolio_publications).where(
                portfolio_publications.c.programme_id == programme_id
            )
        )

    def rendered(self, programme_id: str, language: str, fingerprint: str) -> bytes | None:
        row = self.session.execute(
            select(portfolio_files.c.content).where(
                portfolio_files.c.programme_id == programme_id,
                portfolio_files.c.language == language,
                portfolio_files.c.fingerprint == fingerprint,
            )
        ).first()
        return bytes(row.content) if row else None

    def keep_rendered(
        self, programme_id: str, language: str, fingerprint: str, content: bytes
    ) -> None:
        statement = dialect_insert(portfolio_files, self.session.get_bind().dialect.name)
        fresh = statement.excluded
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[portfolio_files.c.programme_id, portfolio_files.c.language],
                set_={
                    "fingerprint": fresh.fingerprint,
                    "content": fresh.content,
                    "made_at": fresh.made_at,
                },
            ),
            {
                "programme_id": programme_id,
                "language": language,
                "fingerprint": fingerprint,
                "content": content,
                "made_at": now(),
            },
        )


class SqlMentoringTx(SqlTransaction, MentoringTx):
    """A database transaction of the mentoring service, with its repositories."""

    def __init__(self, session: DbSession, outbox: Outbox | None, catalogue: Catalogue) -> None:
        super().__init__(session, outbox, catalogue)
        self.programmes = SqlProgrammes(session)
        self.enrolments = SqlEnrolments(session)
        self.pairs = SqlPairs(session)
        self.goals = SqlGoals(session)
        self.sessions = SqlSessions(session)
        self.meetings = SqlMeetings(session)
        self.feedback = SqlFeedback(session)
        self.people = SqlPeople(session)
        self.clusters = SqlClusters(session)
        self.portfolios = SqlPortfolios(session)


# -- statements built once -----------------------------------------------------------
_PERSON_COLUMNS = ("name", "language", "cluster_id", "country", "role")
_PROFILE_COLUMNS = (
    "acronym",
    "city",
    "kind",
    "founded",
    "members_count",
    "website",
    "description",
)
"""A cluster's details that only a profile in a portfolio shows."""


@cache
def _upsert_clusters(dialect: str) -> Any:
    """Details newer than the copy's details, and the status they carry if newer than
    the copy's status (a deactivation may have come later); tombstones stay."""
    statement = dialect_insert(clusters, dialect)
    fresh = statement.excluded
    newer_details = or_(clusters.c.details_at.is_(None), clusters.c.details_at <= fresh.details_at)
    newer_status = clusters.c.status_at <= fresh.status_at

    def when(condition: Any, column: str) -> Any:
        return case((condition, fresh[column]), else_=clusters.c[column])

    return statement.on_conflict_do_update(
        index_elements=[clusters.c.id],
        set_={
            **{
                column: when(newer_details, column)
                for column in (
                    "name",
                    "country",
                    "region",
                    "sectors",
                    *_PROFILE_COLUMNS,
                    "details_at",
                )
            },
            "active": when(newer_status, "active"),
            "status_at": when(newer_status, "status_at"),
        },
        where=clusters.c.removed_at.is_(None),
    )


# -- rows <-> domain -----------------------------------------------------------------
def _programme_values(programme: Programme) -> dict[str, Any]:
    return {
        "id": programme.id,
        "name": programme.name,
        "edition": programme.edition,
        "organiser": programme.organiser,
        "starts_on": programme.starts_on,
        "ends_on": programme.ends_on,
        "competencies": [c.value for c in programme.competencies],
        "status": programme.status.value,
        "version": programme.version,
        "created_at": programme.created_at,
        "updated_at": programme.updated_at,
    }


def _programme(row: Row[Any]) -> Programme:
    return Programme(
        id=row.id,
        name=row.name,
        edition=row.edition,
        organiser=row.organiser,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        competencies=tuple(Competency(c) for c in row.competencies),
        status=ProgrammeStatus(row.status),
        version=row.version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _enrolment(row: Row[Any]) -> Enrolment:
    return Enrolment(
        id=row.id,
        programme_id=row.programme_id,
        person_id=row.person_id,
        role=Role(row.role),
        languages=tuple(Language(language) for language in row.languages),
        competencies=tuple((Competency(c), int(level)) for c, level in row.competencies),
        sectors=tuple(row.sectors),
        availability=row.availability,
        capacity=row.capacity,
        created_at=utc(row.created_at),
    )


def _pair_values(pair: Pair) -> dict[str, Any]:
    return {
        "id": pair.id,
        "programme_id": pair.programme_id,
        "mentor_id": pair.mentor_id,
        "mentee_id": pair.mentee_id,
        "status": pair.status.value,
        "score": pair.score,
        "reasons": list(pair.reasons),
        "manual": pair.manual,
        "end_reason": pair.end_reason,
        "version": pair.version,
        "created_at": pair.created_at,
        "confirmed_at": pair.confirmed_at,
        "ended_at": pair.ended_at,
    }


def _pair(row: Row[Any]) -> Pair:
    return Pair(
        id=row.id,
        programme_id=row.programme_id,
        mentor_id=row.mentor_id,
        mentee_id=row.mentee_id,
        status=PairStatus(row.status),
        score=row.score,
        reasons=tuple(row.reasons),
        manual=bool(row.manual),
        end_reason=row.end_reason,
        version=row.version,
        created_at=utc(row.created_at),
        confirmed_at=utc(row.confirmed_at),
        ended_at=utc(row.ended_at),
    )


def _goal_values(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "programme_id": goal.programme_id,
        "pair_id": goal.pair_id,
        "title": goal.title,
        "competency": goal.competency.value,
        "progress": goal.progress,
        "status": goal.status.value,
        "version": goal.version,
        "created_at": goal.created_at,
        "updated_at": goal.updated_at,
        "updated_by": goal.updated_by,
    }


def _goal(row: Row[Any]) -> Goal:
    return Goal(
        id=row.id,
        programme_id=row.programme_id,
        pair_id=row.pair_id,
        title=row.title,
        competency=Competency(row.competency),
        progress=row.progress,
        status=GoalStatus(row.status),
        version=row.version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        updated_by=row.updated_by,
    )


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "programme_id": session.programme_id,
        "kind": session.kind.value,
        "title": session.title,
        "pair_ids": list(session.pair_ids),
        "person_ids": list(session.person_ids),
        "starts_at": session.starts_at,
        "duration_minutes": session.duration_minutes,
        "timezone": session.timezone,
        "online_link": session.online_link,
        "agenda": session.agenda,
        "notes": session.notes,
        "status": session.status.value,
        "attended": list(session.attended),
        "cancel_reason": session.cancel_reason,
        "version": session.version,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def _session(row: Row[Any]) -> Session:
    return Session(
        id=row.id,
        programme_id=row.programme_id,
        kind=SessionKind(row.kind),
        title=row.title,
        pair_ids=tuple(row.pair_ids),
        person_ids=tuple(row.person_ids),
        starts_at=utc(row.starts_at),
        duration_minutes=row.duration_minutes,
        timezone=row.timezone,
        online_link=row.online_link,
        agenda=row.agenda,
        notes=row.notes,
        status=SessionStatus(row.status),
        attended=tuple(row.attended),
        cancel_reason=row.cancel_reason,
        version=row.version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _meeting_values(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "programme_id": meeting.programme_id,
        "title": meeting.title,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "timezone": meeting.timezone,
        "online_link": meeting.online_link,
        "agenda": meeting.agenda,
        "person_ids": list(meeting.person_ids),
        "status": meeting.status.value,
        "cancel_reason": meeting.cancel_reason,
        "version": meeting.version,
        "created_at": meeting.created_at,
        "updated_at": meeting.updated_at,
    }


def _meeting(row: Row[Any]) -> Meeting:
    return Meeting(
        id=row.id,
        programme_id=row.programme_id,
        title=row.title,
        starts_at=utc(row.starts_at),
        ends_at=utc(row.ends_at),
        timezone=row.timezone,
        online_link=row.online_link,
        agenda=row.agenda,
        person_ids=tuple(row.person_ids),
        status=SessionStatus(row.status),
        cancel_reason=row.cancel_reason,
        version=row.version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _feedback(row: Row[Any]) -> Feedback:
    return Feedback(
        id=row.id,
        programme_id=row.programme_id,
        pair_id=row.pair_id,
        session_id=row.session_id,
        author_id=row.author_id,
        author_role=Role(row.author_role),
        rating=row.rating,
        comment=row.comment,
        created_at=utc(row.created_at),
    )


def _person(row: Row[Any]) -> PersonCopy:
    return PersonCopy(
        row.id,
        row.name,
        row.language,
        row.cluster_id,
        row.country,
        row.removed_at is not None,
        row.role,
    )


def _cluster(row: Row[Any]) -> ClusterCopy:
    return ClusterCopy(
        id=row.id,
        name=row.name,
        country=row.country,
        region=row.region,
        active=bool(row.active),
        sectors=tuple(row.sectors),
        removed=row.removed_at is not None,
        **{column: getattr(row, column) for column in _PROFILE_COLUMNS},
        labels=tuple(_label(item) for item in row.labels or ()),
    )


def _label_values(label: LabelCopy) -> dict[str, Any]:
    return {
        "id": label.id,
        "scheme": label.scheme,
        "level": label.level,
        "awarded_on": label.awarded_on.isoformat(),
        "valid_until": label.valid_until.isoformat() if label.valid_until else None,
    }


def _label(item: dict[str, Any]) -> LabelCopy:
    valid_until = item.get("valid_until")
    return LabelCopy(
        id=item["id"],
        scheme=item["scheme"],
        level=item["level"],
        awarded_on=date.fromisoformat(item["awarded_on"]),
        valid_until=date.fromisoformat(valid_until) if valid_until else None,
    )
