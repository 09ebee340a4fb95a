"""Events published by the mentoring service."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.events.catalogue import Catalogue
from shared.zones import is_iana_zone


def _iana(name: str) -> None:
    if not is_iana_zone(name):
        raise ValidationError("Not an IANA time zone.")


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ValidationError("Must not be blank.")


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


def register(catalogue: Catalogue) -> None:
    """Add the mentoring service's event types to ``catalogue``."""
    catalogue.register(
        "mentoring.meeting.scheduled",
        MeetingScheduled,
        doc="A group session or joint meeting of a programme was scheduled; the events "
        "service hosts it as an online event with every participant registered.",
    )
