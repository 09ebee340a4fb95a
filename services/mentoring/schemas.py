"""HTTP schemas of the mentoring service (marshmallow): what comes in, what goes out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.mentoring.domain.model import (
    MAX_SESSION_MINUTES,
    Competency,
    GoalStatus,
    Language,
    PairStatus,
    ProgrammeStatus,
    Role,
    SessionKind,
    SessionStatus,
)
from shared.http.fields import choices, not_blank, text
from shared.http.pagination import PageArgs, page_schema
from shared.zones import is_iana_zone

ID = validate.Length(min=1, max=36)
TIME = {
    "validate": validate.Range(
        min=datetime(1970, 1, 1, tzinfo=UTC),
        max=datetime(2200, 1, 1, tzinfo=UTC),
        error="Must be between 1970 and 2200.",
    ),
    "metadata": {"description": "RFC 3339 with an offset"},
}
DAY = validate.Range(
    min=date(1970, 1, 1), max=date(2199, 12, 31), error="Must be between 1970 and 2199."
)


def _iana(name: str) -> None:
    if not is_iana_zone(name):
        raise ValidationError("Not an IANA time zone.")


def _title(required: bool = True) -> fields.String:
    return fields.String(required=required, validate=[validate.Length(min=1, max=200), not_blank])


def _zone(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=64), _iana],
        metadata={"description": "IANA time zone, e.g. Africa/Tunis"},
        **kwargs,
    )


def _link(**kwargs: Any) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500), **kwargs)


def _int(**kwargs: Any) -> fields.Integer:
    """An integer input: JSON numbers without a fraction only (``50.5``, ``"50"`` and
    ``true`` answer 422 rather than being converted)."""
    return fields.Integer(strict=True, **kwargs)


def _time(**kwargs: Any) -> fields.AwareDateTime:
    return fields.AwareDateTime(**TIME, **kwargs)  # type: ignore[arg-type]


# -- programmes ----------------------------------------------------------------------
class ProgrammeWrite(Schema):
    """A new programme (a draft until opened)."""

    name = _title()
    edition = fields.String(allow_none=True, validate=validate.Length(max=50))
    organiser = fields.String(allow_none=True, validate=validate.Length(max=200))
    starts_on = fields.Date(required=True, validate=DAY)
    ends_on = fields.Date(required=True, validate=DAY)
    competencies = fields.List(
        fields.String(validate=choices(Competency)),
        required=True,
        validate=validate.Length(min=1, max=len(Competency)),
    )


class ProgrammePatch(ProgrammeWrite):
    """Any subset of the writable fields (`If-Match` guards the version)."""


class ProgrammeSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    edition = fields.String(allow_none=True)
    organiser = fields.String(allow_none=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    competencies = fields.List(fields.String(validate=choices(Competency)), required=True)
    status = fields.String(required=True, validate=choices(ProgrammeStatus))
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class ProgrammeListArgs(PageArgs):
    status = fields.String(validate=choices(ProgrammeStatus))


ProgrammePage = page_schema(ProgrammeSchema, "ProgrammePage")


# -- enrolments ----------------------------------------------------------------------
class CompetencyLevel(Schema):
    competency = fields.String(required=True, validate=choices(Competency))
    level = _int(
        load_default=3,
        validate=validate.Range(min=1, max=5),
        metadata={"description": "1 (basics) to 5 (expert); a mentee's level today"},
    )


class EnrolmentWrite(Schema):
    person_id = fields.String(required=True, validate=ID)
    role = fields.String(required=True, validate=choices(Role))
    languages = fields.List(
        fields.String(validate=choices(Language)),
        validate=validate.Length(max=len(Language)),
        metadata={"description": "Default: the person's language in the registry."},
    )
    competencies = fields.List(
        fields.Nested(CompetencyLevel),
        validate=validate.Length(max=len(Competency)),
        metadata={"description": "Offered (mentor) or needed (mentee), with levels."},
    )
    sectors = fields.List(
        fields.String(validate=[validate.Length(min=1, max=100), not_blank]),
        validate=validate.Length(max=20),
        metadata={"description": "Default: the sectors of the person's cluster."},
    )
    availability = text(500, allow_none=True)
    capacity = _int(
        allow_none=True,
        validate=validate.Range(min=1, max=50),
        metadata={"description": "Mentees a mentor takes (default 1); not for mentees."},
    )


class EnrolmentSchema(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    person_id = fields.String(required=True)
    role = fields.String(required=True, validate=choices(Role))
    languages = fields.List(fields.String(validate=choices(Language)), required=True)
    competencies = fields.List(fields.Nested(CompetencyLevel), required=True)
    sectors = fields.List(fields.String(), required=True)
    availability = fields.String(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class EnrolmentListArgs(PageArgs):
    role = fields.String(validate=choices(Role))


EnrolmentPage = page_schema(EnrolmentSchema, "EnrolmentPage")


def enrolment_view(enrolment: Any) -> dict[str, Any]:
    return {
        **vars(enrolment),
        "competencies": [{"competency": c, "level": level} for c, level in enrolment.competencies],
    }


# -- matching and pairs --------------------------------------------------------------
class PairSchema(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    mentor_id = fields.String(required=True)
    mentee_id = fields.String(required=True)
    status = fields.String(required=True, validate=choices(PairStatus))
    score = fields.Float(
        allow_none=True, metadata={"description": "0..1 from matching; null for a manual pair"}
    )
    reasons = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "What the score is made of: shared language, competency fit, "
            "sector affinity, cross-country"
        },
    )
    manual = fields.Boolean(required=True)
    end_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)
    ended_at = fields.AwareDateTime(allow_none=True)


class MatchingResult(Schema):
    proposals = fields.List(fields.Nested(PairSchema), required=True)


class PairWrite(Schema):
    mentor_id = fields.String(required=True, validate=ID)
    mentee_id = fields.String(required=True, validate=ID)


class OverrideWrite(Schema):
    mentor_id = fields.String(
        required=True, validate=ID, metadata={"description": "The mentor to pair instead."}
    )


class PairListArgs(PageArgs):
    status = fields.String(validate=choices(PairStatus))


PairPage = page_schema(PairSchema, "PairPage")


class Reason(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))


class RequiredReason(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), not_blank])


# -- goals ---------------------------------------------------------------------------
class GoalWrite(Schema):
    title = _title()
    competency = fields.String(required=True, validate=choices(Competency))
    progress = _int(load_default=0, validate=validate.Range(min=0, max=100))


class GoalPatch(Schema):
    title = _title(required=False)
    progress = _int(validate=validate.Range(min=0, max=100))
    status = fields.String(validate=choices(GoalStatus))


class GoalSchema(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    pair_id = fields.String(required=True)
    title = fields.String(required=True)
    competency = fields.String(required=True, validate=choices(Competency))
    progress = fields.Integer(required=True)
    status = fields.String(required=True, validate=choices(GoalStatus))
    version = fields.Integer(required=True)
    updated_by = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


GoalList = Schema.from_dict(
    {"items": fields.List(fields.Nested(GoalSchema), required=True)}, name="GoalList"
)


# -- sessions ------------------------------------------------------------------------
class SessionWrite(Schema):
    """A bilateral session of the pair."""

    kind = fields.String(
        load_default=SessionKind.BILATERAL.value,
        validate=validate.OneOf([SessionKind.BILATERAL.value]),
    )
    title = _title(required=False)
    starts_at = _time(required=True)
    duration_minutes = _int(required=True, validate=validate.Range(min=1, max=MAX_SESSION_MINUTES))
    timezone = _zone(load_default="UTC")
    online_link = _link(allow_none=True)
    agenda = text(5000, allow_none=True)


class GroupSessionWrite(SessionWrite):
    """A group session bringing several pairs of the programme together."""

    kind = fields.String(
        load_default=SessionKind.GROUP.value, validate=validate.OneOf([SessionKind.GROUP.value])
    )
    pair_ids = fields.List(
        fields.String(validate=ID), required=True, validate=validate.Length(min=2, max=100)
    )


class SessionReschedule(Schema):
    starts_at = _time(required=True)
    duration_minutes = _int(validate=validate.Range(min=1, max=MAX_SESSION_MINUTES))
    timezone = _zone()


class SessionComplete(Schema):
    attended = fields.List(
        fields.String(validate=ID),
        required=True,
        validate=validate.Length(max=2000),
        metadata={"description": "The participants who came."},
    )
    notes = text(10_000, allow_none=True)


class SessionSchema(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    kind = fields.String(required=True, validate=choices(SessionKind))
    title = fields.String(required=True)
    pair_ids = fields.List(fields.String(), required=True)
    person_ids = fields.List(fields.String(), required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    timezone = fields.String(required=True)
    online_link = fields.String(allow_none=True)
    agenda = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    status = fields.String(required=True, validate=choices(SessionStatus))
    attended = fields.List(fields.String(), required=True)
    cancel_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)


SessionPage = page_schema(SessionSchema, "SessionPage")


# -- joint meetings ------------------------------------------------------------------
class MeetingWrite(Schema):
    title = _title()
    starts_at = _time(required=True)
    ends_at = _time(required=True)
    timezone = _zone(required=True)
    online_link = _link(required=True)
    agenda = text(5000, allow_none=True)

    @validates_schema
    def _ends_after_it_starts(self, data: dict[str, Any], **_: Any) -> None:
        if "ends_at" in data and "starts_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be after starts_at.", "ends_at")


class MeetingReschedule(Schema):
    starts_at = _time(required=True)
    ends_at = _time(required=True)
    timezone = _zone()

    @validates_schema
    def _ends_after_it_starts(self, data: dict[str, Any], **_: Any) -> None:
        if "ends_at" in data and "starts_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be after starts_at.", "ends_at")


class MeetingSchema(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    title = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True)
    online_link = fields.String(required=True)
    agenda = fields.String(allow_none=True)
    person_ids = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=choices(SessionStatus))
    cancel_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)


MeetingPage = page_schema(MeetingSchema, "MeetingPage")


# -- feedback ------------------------------------------------------------------------
class FeedbackWrite(Schema):
    rating = _int(required=True, validate=validate.Range(min=1, max=5))
    comment = text(2000, allow_none=True)
    session_id = fields.String(
        allow_none=True,
        validate=ID,
        metadata={"description": "The session rated; null or absent: the programme"},
    )


class FeedbackSchema(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    pair_id = fields.String(required=True)
    session_id = fields.String(allow_none=True)
    subject = fields.String(required=True)
    author_id = fields.String(required=True)
    author_role = fields.String(required=True, validate=choices(Role))
    rating = fields.Integer(required=True)
    comment = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)


FeedbackList = Schema.from_dict(
    {"items": fields.List(fields.Nested(FeedbackSchema), required=True)}, name="FeedbackList"
)


# -- the report ----------------------------------------------------------------------
class ReportArgs(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class PairReport(Schema):
    pair_id = fields.String(required=True)
    mentor_id = fields.String(required=True)
    mentor_name = fields.String(allow_none=True)
    mentee_id = fields.String(required=True)
    mentee_name = fields.String(allow_none=True)
    status = fields.String(required=True, validate=choices(PairStatus))
    sessions_held = fields.Integer(required=True)
    attendance_rate = fields.Float(allow_none=True, metadata={"description": "0..1"})
    goals = fields.Integer(required=True)
    goal_progress = fields.Float(allow_none=True, metadata={"description": "mean, 0..100"})
    average_rating = fields.Float(allow_none=True, metadata={"description": "1..5"})


class ReportTotals(Schema):
    pairs = fields.Integer(required=True)
    active_pairs = fields.Integer(required=True)
    completed_pairs = fields.Integer(required=True)
    ended_pairs = fields.Integer(required=True)
    sessions = fields.Integer(required=True, metadata={"description": "held (completed)"})
    bilateral_sessions = fields.Integer(required=True)
    group_sessions = fields.Integer(required=True)
    sessions_scheduled = fields.Integer(required=True)
    goals = fields.Integer(required=True, metadata={"description": "not dropped"})
    joint_meetings = fields.Integer(required=True)
    attendance_rate = fields.Float(allow_none=True)
    goal_progress = fields.Float(allow_none=True)
    feedback = fields.Integer(required=True)
    average_rating = fields.Float(allow_none=True)


class ReportSchema(Schema):
    programme = fields.Nested(ProgrammeSchema, required=True)
    pairs = fields.List(fields.Nested(PairReport), required=True)
    totals = fields.Nested(ReportTotals, required=True)


REPORT_COLUMNS = tuple(PairReport._declared_fields)
"""The CSV report's columns, in order (a last row ``total`` carries the totals)."""
