"""What the mentoring service is asked to do: one command per write use case.

Commands are checked for shape at the edge (the HTTP schemas, or the catalogue for a
received integration event); the domain model checks the rules when the use case runs.
``expected_version`` is what an ``If-Match`` named (None: apply to the current version).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.mentoring.domain.model import (
    ClusterChange,
    ClusterStatusChange,
    Competency,
    GoalStatus,
    LabelAward,
    Language,
    PersonChange,
    Role,
    SessionKind,
)


# -- programmes ------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateProgramme:
    """A new programme, as a draft (``mentoring.programme.created``)."""

    name: str
    starts_on: date
    ends_on: date
    competencies: tuple[Competency, ...]
    edition: str | None = None
    organiser: str | None = None


@dataclass(frozen=True)
class EditProgramme:
    """Change some of a programme's fields (not once closed)."""

    programme_id: str
    changes: dict[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True)
class MoveProgramme:
    """``open`` (enrolment), ``launch`` (running) or ``close`` a programme."""

    programme_id: str
    verb: str
    expected_version: int | None = None


# -- enrolments and pairs --------------------------------------------------------------
@dataclass(frozen=True)
class Enrol:
    """Enrol a known person as a mentor or a mentee (``mentoring.enrolment.accepted``)."""

    programme_id: str
    person_id: str
    role: Role
    languages: tuple[Language, ...] = ()
    competencies: tuple[tuple[Competency, int], ...] = ()
    sectors: tuple[str, ...] = ()
    availability: str | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class RunMatching:
    """Propose pairs for the people not paired yet (stored as ``proposed`` pairs)."""

    programme_id: str


@dataclass(frozen=True)
class ConfirmPair:
    """A programme manager accepts a proposal (``mentoring.pair.matched``)."""

    pair_id: str


@dataclass(frozen=True)
class RejectPair:
    """A programme manager turns a proposal down; it is never proposed again."""

    pair_id: str
    reason: str | None = None


@dataclass(frozen=True)
class MakePair:
    """A manual pair (an override), active at once; the hard rules still hold."""

    programme_id: str
    mentor_id: str
    mentee_id: str
    replaces: str | None = None
    """The proposal it overrides, if any (it is rejected in the same transaction)."""


@dataclass(frozen=True)
class EndPair:
    """Stop an active pair early (``mentoring.pair.ended``, status ``ended``)."""

    pair_id: str
    reason: str


# -- goals, sessions, meetings, feedback -----------------------------------------------
@dataclass(frozen=True)
class SetGoal:
    """A new goal of a pair (``mentoring.goal.updated``)."""

    pair_id: str
    title: str
    competency: Competency
    by: str
    progress: int = 0


@dataclass(frozen=True)
class UpdateGoal:
    """Change a goal's progress, status or title (``mentoring.goal.updated``)."""

    goal_id: str
    by: str
    title: str | None = None
    progress: int | None = None
    status: GoalStatus | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ScheduleSession:
    """A bilateral session of one pair, or a group session of several."""

    kind: SessionKind
    pair_ids: tuple[str, ...]
    starts_at: datetime
    duration_minutes: int
    timezone: str = "UTC"
    title: str | None = None
    online_link: str | None = None
    agenda: str | None = None
    programme_id: str | None = None
    """Given for a group session (its pairs must belong to it)."""


@dataclass(frozen=True)
class RescheduleSession:
    session_id: str
    starts_at: datetime
    duration_minutes: int | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class CompleteSession:
    """The session took place: who came, and notes."""

    session_id: str
    attended: tuple[str, ...]
    notes: str | None = None


@dataclass(frozen=True)
class CancelSession:
    session_id: str
    reason: str | None = None


@dataclass(frozen=True)
class ScheduleMeeting:
    """A joint meeting of the whole programme (``mentoring.meeting.scheduled``)."""

    programme_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    online_link: str
    agenda: str | None = None


@dataclass(frozen=True)
class RescheduleMeeting:
    meeting_id: str
    starts_at: datetime
    ends_at: datetime
    timezone: str | None = None


@dataclass(frozen=True)
class CancelMeeting:
    meeting_id: str
    reason: str | None = None


@dataclass(frozen=True)
class GiveFeedback:
    """A pair member's rating of a session of theirs, or of the programme (no session)."""

    pair_id: str
    author_id: str
    rating: int
    session_id: str | None = None
    comment: str | None = None


# -- driven by the registry's events ---------------------------------------------------
@dataclass(frozen=True)
class KeepPeople:
    """Keep the newest copy of each person among the registry's changes."""

    changes: tuple[PersonChange, ...]


@dataclass(frozen=True)
class ForgetPerson:
    """The registry removed the person ``at``: their live pairs end."""

    person_id: str
    at: datetime


@dataclass(frozen=True)
class KeepClusters:
    """Keep the newest details of each cluster (registered / updated)."""

    changes: tuple[ClusterChange, ...]


@dataclass(frozen=True)
class ChangeClusterStatus:
    """A cluster was deactivated or reactivated; deactivation ends its mentees' pairs."""

    change: ClusterStatusChange
    reason: str | None = None


@dataclass(frozen=True)
class ForgetCluster:
    """The registry removed the cluster ``at``: like a deactivation, then a tombstone."""

    cluster_id: str
    name: str
    at: datetime


@dataclass(frozen=True)
class KeepLabel:
    """The registry awarded a cluster a label (kept with the cluster's copy)."""

    award: LabelAward


# -- the programme's portfolio -----------------------------------------------------------
@dataclass(frozen=True)
class PublishPortfolio:
    """Make the portfolio reachable without a token (``mentoring.portfolio.published``)."""

    programme_id: str
    by: str | None = None


@dataclass(frozen=True)
class UnpublishPortfolio:
    """Take the portfolio back (``mentoring.portfolio.unpublished``): 404 without a token."""

    programme_id: str
