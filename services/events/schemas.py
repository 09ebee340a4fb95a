"""HTTP schemas of the events service (marshmallow): what comes in, what goes out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

from services.events.domain.model import (
    EventFormat,
    EventKind,
    EventStatus,
    RegistrationStatus,
)
from shared.http.fields import COUNTRY_CODE, choices, not_blank, text
from shared.http.pagination import PageArgs, page_schema

TIME = {
    "validate": validate.Range(
        min=datetime(1970, 1, 1, tzinfo=UTC),
        max=datetime(2200, 1, 1, tzinfo=UTC),
        error="Must be between 1970 and 2200.",
    ),
    "metadata": {"description": "RFC 3339 with an offset"},
}


MAX_AGENDA = 100
MAX_SECTORS = 20


class AgendaItemSchema(Schema):
    """One item of the programme."""

    starts_at = fields.AwareDateTime(required=True, **TIME)  # type: ignore[arg-type]
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    speaker = fields.String(allow_none=True, validate=validate.Length(max=200))


def _agenda() -> fields.List:
    return fields.List(
        fields.Nested(AgendaItemSchema),
        validate=validate.Length(max=MAX_AGENDA),
        metadata={"description": "Items start while the event runs; kept in time order."},
    )


def _sectors() -> fields.List:
    return fields.List(
        fields.String(validate=[validate.Length(min=1, max=80), not_blank]),
        validate=validate.Length(max=MAX_SECTORS),
        metadata={"description": "Business trips only: sectors targeted (kept in lower case)."},
    )


class EventChanges(Schema):
    """What ``PATCH /events/{id}`` may change (every field optional)."""

    title = fields.String(validate=[validate.Length(min=1, max=200), not_blank])
    starts_at = fields.AwareDateTime(**TIME)  # type: ignore[arg-type]
    ends_at = fields.AwareDateTime(**TIME)  # type: ignore[arg-type]
    timezone = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "IANA time zone of the venue, e.g. Africa/Casablanca"},
    )
    capacity = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "Seats; null for no limit."},
    )
    city = text(120, allow_none=True)
    country = fields.String(allow_none=True, validate=COUNTRY_CODE)
    online_link = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=500)
    )
    registration_closes_at = fields.AwareDateTime(allow_none=True, **TIME)  # type: ignore[arg-type]
    description = text(5000, allow_none=True)
    agenda = _agenda()
    sectors = _sectors()
    host_organisation = fields.String(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Business trips only: who hosts the delegation."},
    )


class EventWrite(EventChanges):
    """A new event or business trip (a draft until published)."""

    kind = fields.String(required=True, validate=choices(EventKind))
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    format = fields.String(required=True, validate=choices(EventFormat))
    starts_at = fields.AwareDateTime(required=True, **TIME)  # type: ignore[arg-type]
    ends_at = fields.AwareDateTime(required=True, **TIME)  # type: ignore[arg-type]
    timezone = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "IANA time zone of the venue, e.g. Africa/Casablanca"},
    )


class EventSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=choices(EventKind))
    title = fields.String(required=True)
    format = fields.String(required=True, validate=choices(EventFormat))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True)
    capacity = fields.Integer(allow_none=True)
    seats_left = fields.Integer(allow_none=True, metadata={"description": "null: no limit"})
    confirmed = fields.Integer(required=True, metadata={"description": "Seats taken."})
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    online_link = fields.String(allow_none=True)
    registration_closes_at = fields.AwareDateTime(allow_none=True)
    description = fields.String(allow_none=True)
    agenda = fields.List(fields.Nested(AgendaItemSchema), required=True)
    sectors = fields.List(fields.String(), required=True)
    host_organisation = fields.String(allow_none=True)
    status = fields.String(required=True, validate=choices(EventStatus))
    version = fields.Integer(
        required=True, metadata={"description": "Rises with every change (the ETag names it)."}
    )
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class EventListArgs(PageArgs):
    kind = fields.String(validate=choices(EventKind))
    status = fields.String(validate=choices(EventStatus))
    from_ = fields.AwareDateTime(
        data_key="from",
        validate=TIME["validate"],
        metadata={"description": "Events starting at or after this time."},
    )
    to = fields.AwareDateTime(
        validate=TIME["validate"], metadata={"description": "Events starting before this time."}
    )
    sector = fields.String(
        validate=[validate.Length(min=1, max=80), not_blank],
        metadata={"description": "Business trips targeting this sector (any case)."},
    )
    country = fields.String(
        validate=COUNTRY_CODE, metadata={"description": "Events in this country (ISO alpha-2)."}
    )


EventPage = page_schema(EventSchema, "EventPage")


class Reason(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))


class RegistrationWrite(Schema):
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class RegistrationSchema(Schema):
    id = fields.String(required=True)
    event_id = fields.String(required=True)
    person_id = fields.String(required=True)
    status = fields.String(required=True, validate=choices(RegistrationStatus))
    waitlist_position = fields.Integer(
        allow_none=True, metadata={"description": "1 = next in line; null unless waitlisted"}
    )
    created_at = fields.AwareDateTime(required=True)
    promoted_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class RegistrationListArgs(PageArgs):
    status = fields.String(validate=choices(RegistrationStatus))
    country = fields.String(
        validate=COUNTRY_CODE,
        metadata={"description": "The person's country, else their cluster's (ISO alpha-2)."},
    )
    cluster_id = fields.String(validate=validate.Length(min=1, max=36))
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv: every matching registration as CSV (no paging)."},
    )


class PersonSchema(Schema):
    """Who registered, from the service's read copies of the registry (null: unknown)."""

    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    cluster_id = fields.String(allow_none=True)
    cluster_name = fields.String(allow_none=True)


class ParticipantSchema(RegistrationSchema):
    person = fields.Nested(PersonSchema, required=True)


RegistrationPage = page_schema(ParticipantSchema, "RegistrationPage")
CSV_COLUMNS = (
    "name",
    "email",
    "country",
    "cluster",
    "status",
    "waitlist_position",
    "registered_at",
)
"""The participant list as CSV: one row per registration, in the JSON list's order."""


class EventSummarySchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=choices(EventKind))
    title = fields.String(required=True)
    format = fields.String(required=True, validate=choices(EventFormat))
    status = fields.String(required=True, validate=choices(EventStatus))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    online_link = fields.String(allow_none=True)


class OwnRegistrationSchema(RegistrationSchema):
    event = fields.Nested(EventSummarySchema, required=True)


OwnRegistrationPage = page_schema(OwnRegistrationSchema, "OwnRegistrationPage")


class CalendarFeedSchema(Schema):
    url = fields.String(
        required=True,
        metadata={"description": "The feed: no token needed, so keep it secret."},
    )
    created_at = fields.AwareDateTime(required=True)


class FeedArgs(Schema):
    key = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The feed's secret, as in the URL POST /me/calendar-feed gave."},
    )


def registration_view(registration: Any, position: int | None) -> dict[str, Any]:
    """A registration as the API shows it: its fields and its place on the waitlist."""
    return {**vars(registration), "waitlist_position": position}


def participant_view(participant: Any) -> dict[str, Any]:
    """A registration in the participant list: the registration and who it is."""
    return {
        **registration_view(participant.registration, participant.waitlist_position),
        "person": {
            "name": participant.name,
            "email": participant.email,
            "country": participant.country,
            "cluster_id": participant.cluster_id,
            "cluster_name": participant.cluster_name,
        },
    }


def participant_row(participant: Any) -> dict[str, Any]:
    """A registration as a row of the CSV (:data:`CSV_COLUMNS`)."""
    registration = participant.registration
    return {
        "name": participant.name,
        "email": participant.email,
        "country": participant.country,
        "cluster": participant.cluster_name or participant.cluster_id,
        "status": registration.status.value,
        "waitlist_position": participant.waitlist_position,
        "registered_at": registration.created_at.isoformat(),
    }
