"""The mentoring programme's rules: programmes, enrolments, pairs, goals, sessions, joint
meetings and feedback, and the read copies of the registry's people and clusters.

Entities are frozen dataclasses; a state change returns the next state or raises
:class:`~shared.errors.InvalidTransition` (409) when the current state does not allow
it, :class:`~shared.errors.InvalidInput` (422) when the input breaks a rule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from shared.errors import InvalidInput, InvalidTransition
from shared.zones import is_iana_zone


class Competency(StrEnum):
    """Key cluster-management skills a programme works on."""

    VALUE_ADDED_SERVICES = "value_added_services"
    GOVERNANCE_STRATEGY = "governance_strategy"
    INTERNATIONALISATION = "internationalisation"
    FUNDING = "funding"
    DIGITAL_TOOLS = "digital_tools"
    MEMBER_ENGAGEMENT = "member_engagement"
    INNOVATION = "innovation"
    SKILLS_TRAINING = "skills_training"


class ProgrammeStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    RUNNING = "running"
    CLOSED = "closed"


class Role(StrEnum):
    """An enrolment's role."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class Language(StrEnum):
    EN = "en"
    FR = "fr"
    AR = "ar"


class PairStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    COMPLETED = "completed"
    ENDED = "ended"


FINISHED_PAIR = frozenset({PairStatus.COMPLETED, PairStatus.ENDED})
"""The statuses a pair ends in: completed with its programme, or ended early."""
LIVE_PAIR = (PairStatus.PROPOSED, PairStatus.ACTIVE)
"""A proposal waiting for a decision, or a pair at work."""


class SessionKind(StrEnum):
    BILATERAL = "bilateral"
    GROUP = "group"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class GoalStatus(StrEnum):
    OPEN = "open"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class FeedbackSubject(StrEnum):
    SESSION = "session"
    PROGRAMME = "programme"


MENA_COUNTRIES = frozenset({"DZ", "EG", "JO", "LB", "LY", "MA", "PS", "TN"})
"""Where a mentee's cluster is (when the registry's region is not known yet)."""
COMPETENCY_LEVELS = range(1, 6)
"""1 (basics) to 5 (expert): a mentor's level in what they offer, a mentee's today."""
MAX_SESSION_MINUTES = 8 * 60

PERSON_REMOVED = "The person was removed from the registry."
PROGRAMME_CLOSED = "The programme ended."
CANCELLED_BY_CLOSING = "The programme was closed."
"""Why closing a programme cancels its sessions and joint meetings still to come."""


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


def invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={name: [message]})


def check_timezone(name: str) -> str:
    if not is_iana_zone(name):
        raise invalid("timezone", f"{name!r} is not an IANA time zone.")
    return name


def tidy(text: str) -> str:
    """Inner runs of white space as one space, none at the ends."""
    return " ".join(text.split())


# -- read copies of the registry --------------------------------------------------------
@dataclass(frozen=True)
class PersonCopy:
    """A person as the registry last described them; ``removed``: a tombstone."""

    id: str
    name: str | None
    language: str | None
    cluster_id: str | None
    country: str | None
    removed: bool = False
    role: str | None = None
    """The registry's role (``cluster_manager``, ``governance_team``, ``expert``, ``other``)."""


@dataclass(frozen=True, slots=True)
class PersonChange:
    """A person as the registry described them ``at`` (registered or updated)."""

    id: str
    name: str
    language: str
    at: datetime
    cluster_id: str | None = None
    country: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class ClusterCopy:
    """A cluster as the registry last described it; ``removed``: a tombstone."""

    id: str
    name: str | None
    country: str | None
    region: str | None
    active: bool
    sectors: tuple[str, ...] = ()
    removed: bool = False
    # what a profile in the programme's portfolio shows
    acronym: str | None = None
    city: str | None = None
    kind: str | None = None
    founded: int | None = None
    members_count: int | None = None
    website: str | None = None
    description: str | None = None
    labels: tuple[LabelCopy, ...] = ()

    @property
    def in_mena(self) -> bool:
        if self.region is not None:
            return self.region == "mena"
        return (self.country or "").upper() in MENA_COUNTRIES


@dataclass(frozen=True, slots=True)
class ClusterChange:
    """A cluster's details ``at`` (registered or updated): name, country, region,
    sectors and status."""

    id: str
    name: str
    country: str
    region: str
    sectors: tuple[str, ...]
    active: bool
    at: datetime
    acronym: str | None = None
    city: str | None = None
    kind: str | None = None
    founded: int | None = None
    members_count: int | None = None
    website: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class LabelCopy:
    """A label the registry awarded a cluster (e.g. ESCA Cluster Management Excellence,
    gold), with its validity."""

    id: str
    scheme: str
    level: str
    awarded_on: date
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class LabelAward:
    """The registry awarded ``label`` to a cluster ``at`` (the cluster was active then)."""

    cluster_id: str
    cluster_name: str
    label: LabelCopy
    at: datetime


@dataclass(frozen=True, slots=True)
class ClusterStatusChange:
    """A cluster deactivated or reactivated ``at``."""

    id: str
    name: str
    country: str
    active: bool
    at: datetime


# -- the programme's portfolio ---------------------------------------------------------
@dataclass(frozen=True)
class Publication:
    """A programme's portfolio, published: anyone may fetch it without a token."""

    programme_id: str
    published_at: datetime
    published_by: str | None = None


# -- programmes ------------------------------------------------------------------------
@dataclass(frozen=True)
class Programme:
    """A mentoring programme: draft -> open (enrolment) -> running -> closed."""

    name: str
    starts_on: date
    ends_on: date
    competencies: tuple[Competency, ...]
    edition: str | None = None
    organiser: str | None = None
    status: ProgrammeStatus = ProgrammeStatus.DRAFT
    id: str = field(default_factory=new_id)
    version: int = 1
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise invalid("name", "A programme needs a name.")
        if self.ends_on < self.starts_on:
            raise invalid("ends_on", "A programme must end on or after the day it starts.")
        if not self.competencies:
            raise invalid("competencies", "A programme works on at least one competency.")
        if len(set(self.competencies)) != len(self.competencies):
            raise invalid("competencies", "A competency is listed twice.")

    def edit(self, **changes: object) -> Programme:
        if self.status is ProgrammeStatus.CLOSED:
            raise InvalidTransition("A closed programme cannot be changed.")
        return self._next(**changes)

    def open(self) -> Programme:
        return self._move(ProgrammeStatus.DRAFT, ProgrammeStatus.OPEN, "opened")

    def launch(self) -> Programme:
        return self._move(ProgrammeStatus.OPEN, ProgrammeStatus.RUNNING, "launched")

    def close(self) -> Programme:
        return self._move(ProgrammeStatus.RUNNING, ProgrammeStatus.CLOSED, "closed")

    def check_enrolment(self) -> None:
        if self.status is not ProgrammeStatus.OPEN:
            raise InvalidTransition(
                f"Enrolment is open only while the programme is open; it is {self.status}."
            )

    def check_pairing(self) -> None:
        """Matching and pairs: while enrolment is open or the programme runs."""
        if self.status not in (ProgrammeStatus.OPEN, ProgrammeStatus.RUNNING):
            raise InvalidTransition(
                f"Pairs are made while a programme is open or running; it is {self.status}."
            )

    def check_meetings(self, what: str) -> None:
        """Joint meetings: scheduled and moved while the programme is open or running."""
        if self.status not in (ProgrammeStatus.OPEN, ProgrammeStatus.RUNNING):
            raise InvalidTransition(
                f"{what} only while the programme is open or running; it is {self.status}."
            )

    def check_running(self, what: str) -> None:
        if self.status is not ProgrammeStatus.RUNNING:
            raise InvalidTransition(f"{what} only while the programme runs; it is {self.status}.")

    def check_in_dates(self, starts_at: datetime, ends_at: datetime, timezone: str) -> None:
        """A session or meeting takes place within the programme's dates (in its zone)."""
        if not self.holds(starts_at, ends_at, timezone):
            raise invalid(
                "starts_at",
                f"It must take place within the programme's dates "
                f"({self.starts_on} to {self.ends_on}).",
            )

    def holds(self, starts_at: datetime, ends_at: datetime, timezone: str) -> bool:
        """Whether a session or meeting so placed is within the programme's dates (from
        the first day's midnight to the last day's end, in ``timezone``)."""
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(timezone)
        first = datetime.combine(self.starts_on, time.min, zone)
        last = datetime.combine(self.ends_on + timedelta(days=1), time.min, zone)
        return first <= starts_at and ends_at <= last

    def _move(self, source: ProgrammeStatus, target: ProgrammeStatus, verb: str) -> Programme:
        if self.status is not source:
            raise InvalidTransition(
                f"Only a programme that is {source} can be {verb}; this one is {self.status}."
            )
        return self._next(status=target)

    def _next(self, **changes: object) -> Programme:
        return replace(self, **changes, version=self.version + 1, updated_at=now())  # type: ignore[arg-type]


# -- enrolments ------------------------------------------------------------------------
@dataclass(frozen=True)
class Enrolment:
    """A person in a programme, as mentor (offers competencies, takes ``capacity``
    mentees) or mentee (needs competencies); ``competencies`` maps each to a level."""

    programme_id: str
    person_id: str
    role: Role
    languages: tuple[Language, ...]
    competencies: tuple[tuple[Competency, int], ...]
    sectors: tuple[str, ...] = ()
    availability: str | None = None
    capacity: int | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        if not self.languages:
            raise invalid("languages", "At least one language is needed.")
        names = [competency for competency, _ in self.competencies]
        if len(set(names)) != len(names):
            raise invalid("competencies", "A competency is listed twice.")
        if any(level not in COMPETENCY_LEVELS for _, level in self.competencies):
            raise invalid("competencies", "A level is from 1 to 5.")
        if self.role is Role.MENTOR and (self.capacity is None or self.capacity < 1):
            raise invalid("capacity", "A mentor takes at least one mentee.")
        if self.role is Role.MENTEE and self.capacity is not None:
            raise invalid("capacity", "Only a mentor has a capacity.")

    @property
    def competency_names(self) -> tuple[Competency, ...]:
        return tuple(competency for competency, _ in self.competencies)


# -- pairs -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """A mentor and a mentee: proposed (by matching) -> active -> completed or ended.

    A rejected proposal ends without ever having been active (``confirmed_at`` None),
    so it counts for nothing and is never proposed again."""

    programme_id: str
    mentor_id: str
    mentee_id: str
    status: PairStatus = PairStatus.PROPOSED
    score: float | None = None
    reasons: tuple[str, ...] = ()
    manual: bool = False
    end_reason: str | None = None
    id: str = field(default_factory=new_id)
    version: int = 1
    created_at: datetime = field(default_factory=now)
    confirmed_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def person_ids(self) -> tuple[str, str]:
        return self.mentor_id, self.mentee_id

    @property
    def was_active(self) -> bool:
        return self.confirmed_at is not None

    def confirm(self, at: datetime) -> Pair:
        if self.status is not PairStatus.PROPOSED:
            raise InvalidTransition(
                f"Only a proposal can be confirmed; this pair is {self.status}."
            )
        return self._next(status=PairStatus.ACTIVE, confirmed_at=at)

    def reject(self, at: datetime, reason: str) -> Pair:
        if self.status is not PairStatus.PROPOSED:
            raise InvalidTransition(f"Only a proposal can be rejected; this pair is {self.status}.")
        return self._next(status=PairStatus.ENDED, ended_at=at, end_reason=reason)

    def end(self, at: datetime, reason: str) -> Pair:
        if self.status is not PairStatus.ACTIVE:
            raise InvalidTransition(
                f"Only an active pair can be ended; this pair is {self.status}."
            )
        return self._next(status=PairStatus.ENDED, ended_at=at, end_reason=reason)

    def complete(self, at: datetime) -> Pair:
        if self.status is not PairStatus.ACTIVE:
            raise InvalidTransition(f"Only an active pair can complete; this one is {self.status}.")
        return self._next(status=PairStatus.COMPLETED, ended_at=at, end_reason=PROGRAMME_CLOSED)

    def _next(self, **changes: object) -> Pair:
        return replace(self, **changes, version=self.version + 1)  # type: ignore[arg-type]


# -- goals -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Goal:
    """What a pair works towards, on one of the programme's competencies."""

    programme_id: str
    pair_id: str
    title: str
    competency: Competency
    progress: int = 0
    status: GoalStatus = GoalStatus.OPEN
    id: str = field(default_factory=new_id)
    version: int = 1
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    updated_by: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.progress <= 100:
            raise invalid("progress", "Progress is from 0 to 100.")
        if not self.title.strip():
            raise invalid("title", "A goal needs a title.")

    def update(
        self,
        by: str,
        *,
        title: str | None = None,
        progress: int | None = None,
        status: GoalStatus | None = None,
    ) -> Goal:
        """A change by ``by``; achieving a goal brings its progress to 100."""
        if self.status is GoalStatus.DROPPED and status is not GoalStatus.OPEN:
            raise InvalidTransition("A dropped goal cannot change unless it is reopened.")
        if status is GoalStatus.ACHIEVED and progress is None:
            progress = 100
        progress = self.progress if progress is None else progress
        status = self.status if status is None else status
        if status is GoalStatus.ACHIEVED and progress < 100:
            raise invalid("progress", "An achieved goal has progress 100.")
        if not 0 <= progress <= 100:
            raise invalid("progress", "Progress is from 0 to 100.")
        return replace(
            self,
            title=tidy(title) if title is not None else self.title,
            progress=progress,
            status=status,
            version=self.version + 1,
            updated_at=now(),
            updated_by=by,
        )


# -- sessions and meetings -------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    """A bilateral session (one pair) or a group session (several pairs)."""

    programme_id: str
    kind: SessionKind
    title: str
    pair_ids: tuple[str, ...]
    person_ids: tuple[str, ...]
    starts_at: datetime
    duration_minutes: int
    timezone: str
    online_link: str | None = None
    agenda: str | None = None
    notes: str | None = None
    status: SessionStatus = SessionStatus.SCHEDULED
    attended: tuple[str, ...] = ()
    cancel_reason: str | None = None
    id: str = field(default_factory=new_id)
    version: int = 1
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        check_timezone(self.timezone)
        if not 1 <= self.duration_minutes <= MAX_SESSION_MINUTES:
            raise invalid("duration_minutes", "A session lasts 1 minute to 8 hours.")
        if self.kind is SessionKind.BILATERAL and len(self.pair_ids) != 1:
            raise invalid("pair_ids", "A bilateral session belongs to exactly one pair.")
        if self.kind is SessionKind.GROUP and len(self.pair_ids) < 2:
            raise invalid("pair_ids", "A group session brings at least two pairs together.")
        if len(set(self.pair_ids)) != len(self.pair_ids):
            raise invalid("pair_ids", "A pair is listed twice.")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def reschedule(self, starts_at: datetime, duration_minutes: int, timezone: str) -> Session:
        self._check_scheduled("rescheduled")
        return self._next(starts_at=starts_at, duration_minutes=duration_minutes, timezone=timezone)

    def complete(self, at: datetime, attended: tuple[str, ...], notes: str | None) -> Session:
        self._check_scheduled("completed")
        if at < self.starts_at:
            raise InvalidTransition("A session can be completed once it has started.")
        strangers = sorted(set(attended) - set(self.person_ids))
        if strangers:
            raise invalid("attended", f"Not participants of this session: {', '.join(strangers)}.")
        ordered = tuple(p for p in self.person_ids if p in set(attended))
        return self._next(status=SessionStatus.COMPLETED, attended=ordered, notes=notes)

    def cancel(self, reason: str | None) -> Session:
        self._check_scheduled("cancelled")
        return self._next(status=SessionStatus.CANCELLED, cancel_reason=reason)

    def _check_scheduled(self, verb: str) -> None:
        if self.status is not SessionStatus.SCHEDULED:
            raise InvalidTransition(f"Only a scheduled session can be {verb}; it is {self.status}.")

    def _next(self, **changes: object) -> Session:
        return replace(self, **changes, version=self.version + 1, updated_at=now())  # type: ignore[arg-type]


@dataclass(frozen=True)
class Meeting:
    """A joint meeting of the whole programme (hosted as an online event)."""

    programme_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    online_link: str
    person_ids: tuple[str, ...]
    agenda: str | None = None
    status: SessionStatus = SessionStatus.SCHEDULED
    cancel_reason: str | None = None
    id: str = field(default_factory=new_id)
    version: int = 1
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        check_timezone(self.timezone)
        if self.ends_at <= self.starts_at:
            raise invalid("ends_at", "A meeting must end after it starts.")
        if not self.person_ids:
            raise InvalidTransition("A joint meeting needs participants: nobody is enrolled.")

    def reschedule(self, starts_at: datetime, ends_at: datetime, timezone: str) -> Meeting:
        self._check_scheduled("rescheduled")
        return self._next(starts_at=starts_at, ends_at=ends_at, timezone=timezone)

    def cancel(self, reason: str | None) -> Meeting:
        self._check_scheduled("cancelled")
        return self._next(status=SessionStatus.CANCELLED, cancel_reason=reason)

    def _check_scheduled(self, verb: str) -> None:
        if self.status is not SessionStatus.SCHEDULED:
            raise InvalidTransition(f"Only a scheduled meeting can be {verb}; it is {self.status}.")

    def _next(self, **changes: object) -> Meeting:
        return replace(self, **changes, version=self.version + 1, updated_at=now())  # type: ignore[arg-type]


# -- feedback --------------------------------------------------------------------------
@dataclass(frozen=True)
class Feedback:
    """A mentor's or mentee's rating of a session, or of the programme (session None)."""

    programme_id: str
    pair_id: str
    author_id: str
    author_role: Role
    rating: int
    session_id: str | None = None
    comment: str | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        if not 1 <= self.rating <= 5:
            raise invalid("rating", "A rating is from 1 to 5.")

    @property
    def subject(self) -> FeedbackSubject:
        return FeedbackSubject.PROGRAMME if self.session_id is None else FeedbackSubject.SESSION
