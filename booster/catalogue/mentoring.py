"""Events published by the mentoring service: programmes, enrolments, pairs, sessions,
joint meetings, goals, feedback and the programme's published portfolio.

Each carries what a subscriber needs to act without calling back: names and person ids
of the people concerned, times with their time zone, links. Feedback comments are not
published (they stay with the programme's managers).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.events.catalogue import Catalogue
from shared.zones import is_iana_zone

COMPETENCIES = (
    "value_added_services",
    "governance_strategy",
    "internationalisation",
    "funding",
    "digital_tools",
    "member_engagement",
    "innovation",
    "skills_training",
)
PROGRAMME_STATUSES = ("draft", "open", "running", "closed")
ROLES = ("mentor", "mentee")
LANGUAGES = ("en", "fr", "ar")
ENDED_PAIR_STATUSES = ("completed", "ended")
SESSION_KINDS = ("bilateral", "group")
SESSION_STATUSES = ("scheduled", "completed", "cancelled")
GOAL_STATUSES = ("open", "achieved", "dropped")
FEEDBACK_SUBJECTS = ("session", "programme")


def _iana(name: str) -> None:
    if not is_iana_zone(name):
        raise ValidationError("Not an IANA time zone.")


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ValidationError("Must not be blank.")


def _ids(description: str, *, minimum: int = 0) -> fields.List[Any]:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=36)),
        required=True,
        validate=validate.Length(min=minimum, max=2000),
        metadata={"description": description},
    )


class _Timed(Schema):
    """Start and end with the IANA zone they were set in; the end comes after the start."""

    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(
        required=True, validate=_iana, metadata={"description": "IANA time zone"}
    )

    @validates_schema
    def _ends_after_it_starts(self, data: dict[str, Any], **_: Any) -> None:
        if "ends_at" in data and "starts_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be after starts_at.", "ends_at")


class ProgrammeData(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    edition = fields.String(allow_none=True, metadata={"description": "e.g. 2021"})
    organiser = fields.String(allow_none=True, metadata={"description": "e.g. ACCIÓ"})
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    competencies = fields.List(fields.String(validate=validate.OneOf(COMPETENCIES)), required=True)
    status = fields.String(required=True, validate=validate.OneOf(PROGRAMME_STATUSES))


class Participant(Schema):
    """A person as the mentoring service knows them (from the registry's events)."""

    person_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    language = fields.String(allow_none=True, validate=validate.OneOf(LANGUAGES))
    cluster_id = fields.String(allow_none=True)
    country = fields.String(allow_none=True, metadata={"description": "ISO 3166-1 alpha-2"})


class EnrolmentAccepted(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    programme_name = fields.String(required=True)
    person = fields.Nested(Participant, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    languages = fields.List(fields.String(validate=validate.OneOf(LANGUAGES)), required=True)
    competencies = fields.List(fields.String(validate=validate.OneOf(COMPETENCIES)), required=True)
    sectors = fields.List(fields.String(), required=True)
    capacity = fields.Integer(
        allow_none=True, metadata={"description": "mentees a mentor takes; null for mentees"}
    )


class PairData(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    programme_name = fields.String(required=True)
    mentor = fields.Nested(Participant, required=True)
    mentee = fields.Nested(Participant, required=True)


class PairMatched(PairData):
    score = fields.Float(allow_none=True, metadata={"description": "0..1; null for a manual pair"})
    reasons = fields.List(
        fields.String(), required=True, metadata={"description": "why they fit, in words"}
    )


class PairEnded(PairData):
    status = fields.String(required=True, validate=validate.OneOf(ENDED_PAIR_STATUSES))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class SessionData(_Timed):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(SESSION_KINDS))
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    pair_ids = _ids("The pairs it brings together (one for a bilateral session).", minimum=1)
    person_ids = _ids("Every participant: the mentors and mentees of those pairs.", minimum=1)
    online_link = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=500)
    )
    agenda = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(SESSION_STATUSES))


class SessionRescheduled(SessionData):
    previous_starts_at = fields.AwareDateTime(required=True)
    previous_ends_at = fields.AwareDateTime(required=True)


class SessionCompleted(SessionData):
    attended = _ids("The participants who came.")


class SessionCancelled(SessionData):
    reason = fields.String(allow_none=True)


class MeetingScheduled(Schema):
    id = fields.String(required=True, metadata={"description": "the meeting's id"})
    programme_id = fields.String(required=True)
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(
        required=True, validate=_iana, metadata={"description": "IANA time zone"}
    )
    online_link = fields.Url(
        required=True, schemes={"http", "https"}, validate=validate.Length(max=500)
    )
    person_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=36)),
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "Every participant: the programme's mentors and mentees."},
    )

    @validates_schema
    def _ends_after_it_starts(self, data: dict[str, Any], **_: Any) -> None:
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be after starts_at.", "ends_at")


class MeetingRescheduled(MeetingScheduled):
    previous_starts_at = fields.AwareDateTime(required=True)
    previous_ends_at = fields.AwareDateTime(required=True)


class MeetingCancelled(MeetingScheduled):
    reason = fields.String(allow_none=True)


class GoalUpdated(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    pair_id = fields.String(required=True)
    title = fields.String(required=True)
    competency = fields.String(required=True, validate=validate.OneOf(COMPETENCIES))
    progress = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    status = fields.String(required=True, validate=validate.OneOf(GOAL_STATUSES))
    person_ids = _ids("The pair's mentor and mentee.", minimum=2)
    updated_by = fields.String(required=True, metadata={"description": "who changed it"})


class FeedbackSubmitted(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    pair_id = fields.String(required=True)
    session_id = fields.String(allow_none=True, metadata={"description": "null: end of programme"})
    subject = fields.String(required=True, validate=validate.OneOf(FEEDBACK_SUBJECTS))
    author_id = fields.String(required=True)
    author_role = fields.String(required=True, validate=validate.OneOf(ROLES))
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))


class PortfolioData(Schema):
    programme_id = fields.String(required=True)
    programme_name = fields.String(required=True)
    edition = fields.String(allow_none=True)
    organiser = fields.String(allow_none=True)


class PortfolioPublished(PortfolioData):
    url = fields.String(
        required=True,
        metadata={
            "description": "path on the mentoring service where the portfolio is served "
            "without a token (HTML; `?lang=fr|ar`, `?format=pdf`)"
        },
    )
    pdf_url = fields.String(required=True, metadata={"description": "the same, as a PDF"})
    languages = fields.List(fields.String(validate=validate.OneOf(LANGUAGES)), required=True)
    published_at = fields.AwareDateTime(required=True)


class PortfolioUnpublished(PortfolioData):
    unpublished_at = fields.AwareDateTime(required=True)


def register(catalogue: Catalogue) -> None:
    """Add the mentoring service's event types to ``catalogue``."""
    _r = catalogue.register
    _r("mentoring.programme.created", ProgrammeData, doc="A programme was created as a draft.")
    _r("mentoring.programme.opened", ProgrammeData, doc="A programme opened its enrolment.")
    _r(
        "mentoring.programme.launched",
        ProgrammeData,
        doc="A programme started running: enrolment closed, pairs at work.",
    )
    _r(
        "mentoring.programme.closed",
        ProgrammeData,
        doc="A programme ended; its active pairs completed.",
    )
    _r(
        "mentoring.enrolment.accepted",
        EnrolmentAccepted,
        doc="A person was enrolled in a programme as a mentor or a mentee.",
    )
    _r(
        "mentoring.pair.matched",
        PairMatched,
        doc="A mentor and a mentee were paired (a confirmed proposal or a manual pair); "
        "both are to be told, in their language.",
    )
    _r(
        "mentoring.pair.ended",
        PairEnded,
        doc="A pair stopped: `completed` with its programme, or `ended` early with a "
        "reason (e.g. the mentee's cluster was deactivated).",
    )
    _r(
        "mentoring.session.scheduled",
        SessionData,
        doc="A bilateral or group session was scheduled for its pairs.",
    )
    _r(
        "mentoring.session.rescheduled",
        SessionRescheduled,
        doc="A session moved (`previous_starts_at`, `previous_ends_at` say from when).",
    )
    _r(
        "mentoring.session.completed",
        SessionCompleted,
        doc="A session took place (`attended` lists who came).",
    )
    _r("mentoring.session.cancelled", SessionCancelled, doc="A session was cancelled.")
    _r(
        "mentoring.meeting.scheduled",
        MeetingScheduled,
        doc="A joint meeting of a programme was scheduled; the events service hosts it as "
        "an online event with every participant registered.",
    )
    _r(
        "mentoring.meeting.rescheduled",
        MeetingRescheduled,
        doc="A joint meeting moved (`previous_starts_at`, `previous_ends_at` say from when).",
    )
    _r(
        "mentoring.meeting.cancelled",
        MeetingCancelled,
        doc="A joint meeting was cancelled.",
    )
    _r(
        "mentoring.goal.updated",
        GoalUpdated,
        doc="A pair's goal was set or changed (progress 0-100, status).",
    )
    _r(
        "mentoring.feedback.submitted",
        FeedbackSubmitted,
        doc="A mentor or mentee rated a session or the programme (1-5; the comment stays "
        "in the mentoring service).",
    )
    _r(
        "mentoring.portfolio.published",
        PortfolioPublished,
        doc="A programme's portfolio (a profile of every participating cluster, who is "
        "paired with whom) was published: anyone may fetch it at `url`, without a token.",
    )
    _r(
        "mentoring.portfolio.unpublished",
        PortfolioUnpublished,
        doc="A programme's portfolio was taken back: its `url` answers 404 again.",
    )
