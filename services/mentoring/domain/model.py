"""The mentoring programme's vocabulary (enumerations); entities follow with the routes."""

from __future__ import annotations

from enum import StrEnum


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
