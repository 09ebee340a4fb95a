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


class EventWrite(Schema):
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
    capacity = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "Seats; leave out or null for no limit."},
    )
    city = text(120, allow_none=True)
    country = fields.String(allow_none=True, validate=COUNTRY_CODE)
    online_link = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=500)
    )
    registration_closes_at = fields.AwareDateTime(allow_none=True, **TIME)  # type: ignore[arg-type]
    description = text(5000, allow_none=True)


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
    status = fields.String(required=True, validate=choices(EventStatus))
    version = fields.Integer(required=True)
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


RegistrationPage = page_schema(RegistrationSchema, "RegistrationPage")


def registration_view(registration: Any, position: int | None) -> dict[str, Any]:
    """A registration as the API shows it: its fields and its place on the waitlist."""
    return {**vars(registration), "waitlist_position": position}
