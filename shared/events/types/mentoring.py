"""Events published by the mentoring service."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.catalogue import CATALOGUE


class MeetingScheduled(Schema):
    id = fields.String(required=True, metadata={"description": "the meeting's id"})
    programme_id = fields.String(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True, metadata={"description": "IANA time zone"})
    online_link = fields.String(required=True)
    person_ids = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Every participant: the programme's mentors and mentees."},
    )


CATALOGUE.register(
    "mentoring.meeting.scheduled",
    MeetingScheduled,
    doc="A group session or joint meeting of a programme was scheduled; the events "
    "service hosts it as an online event with every participant registered.",
)
