"""Events published by the events service: events, business trips and registrations.

Registration events carry the event's essentials (title, times, place, link), so that
notifications can write to the person without asking the events service. Event data
gained ``agenda``, ``sectors`` and ``host_organisation`` as optional fields (an
additive change: same versions; older events simply lack them).

What the events service does with the events it consumes (including the registry's
cluster events that, on purpose, change no registration) is in docs/events-service.md.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.catalogue import Catalogue

KINDS = ("launch", "joint_meeting", "business_trip", "webinar", "workshop", "fair")
FORMATS = ("online", "in_person", "hybrid")
STATUSES = ("draft", "published", "completed", "cancelled")
REGISTRATION_STATUSES = ("confirmed", "waitlisted", "cancelled", "attended", "no_show")


class EventSummary(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True, metadata={"description": "IANA time zone"})
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    online_link = fields.String(allow_none=True)


class AgendaItem(Schema):
    starts_at = fields.AwareDateTime(required=True)
    title = fields.String(required=True)
    speaker = fields.String(allow_none=True)


class EventData(EventSummary):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    capacity = fields.Integer(allow_none=True, metadata={"description": "null: no limit"})
    registration_closes_at = fields.AwareDateTime(allow_none=True)
    agenda = fields.List(
        fields.Nested(AgendaItem),
        metadata={"description": "The programme, in time order (absent in older events)."},
    )
    sectors = fields.List(
        fields.String(),
        metadata={"description": "Business trips: the sectors targeted, lower case."},
    )
    host_organisation = fields.String(
        allow_none=True, metadata={"description": "Business trips: who hosts the delegation."}
    )


class EventUpdated(EventData):
    changed = fields.List(
        fields.String(), required=True, metadata={"description": "The names of the fields changed."}
    )


class Place(Schema):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    timezone = fields.String(required=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    online_link = fields.String(allow_none=True)


class EventRescheduled(EventUpdated):
    previous = fields.Nested(
        Place,
        required=True,
        metadata={"description": "The time and place before; the event's fields hold the new."},
    )
    person_ids = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Everyone registered (confirmed or waitlisted): who to tell."},
    )


class EventCancelled(EventData):
    reason = fields.String(allow_none=True)
    person_ids = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Everyone whose registration the cancellation ended."},
    )


class EventCompleted(EventData):
    attended = fields.List(fields.String(), required=True, metadata={"description": "person ids"})
    no_show = fields.List(fields.String(), required=True, metadata={"description": "person ids"})
    waitlist_ended = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "People still waitlisted: their registration was cancelled."},
    )


class RegistrationData(Schema):
    id = fields.String(required=True)
    event_id = fields.String(required=True)
    person_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(REGISTRATION_STATUSES))
    waitlist_position = fields.Integer(
        allow_none=True, metadata={"description": "1 = next in line; null unless waitlisted"}
    )
    event = fields.Nested(EventSummary, required=True)


class RegistrationCancelled(RegistrationData):
    reason = fields.String(allow_none=True)


def register(catalogue: Catalogue) -> None:
    """Add the events service's event types to ``catalogue``."""
    _r = catalogue.register
    _r("events.event.created", EventData, doc="An event or business trip was created as a draft.")
    _r(
        "events.event.published",
        EventData,
        doc="An event was published: registration is open until `registration_closes_at`.",
    )
    _r(
        "events.event.updated",
        EventUpdated,
        doc="An event's details changed (`changed` names the fields); not its time or place "
        "once published (see `events.event.rescheduled`). A raised capacity's new seats "
        "follow as `events.registration.promoted`.",
    )
    _r(
        "events.event.rescheduled",
        EventRescheduled,
        doc="A published event moved in time or place (`previous` holds the old values): "
        "`person_ids` are everyone still registered. The `.ics` SEQUENCE is higher.",
    )
    _r(
        "events.event.cancelled",
        EventCancelled,
        doc="An event was cancelled; every live registration ended (`person_ids`).",
    )
    _r(
        "events.event.completed",
        EventCompleted,
        doc="An event that has ended was closed: who attended, who did not come (`no_show`), "
        "whose place on the waitlist ended.",
    )
    _r(
        "events.registration.confirmed",
        RegistrationData,
        doc="A person registered and has a seat.",
    )
    _r(
        "events.registration.waitlisted",
        RegistrationData,
        doc="A person registered to a full event and is on its waitlist (`waitlist_position`).",
    )
    _r(
        "events.registration.cancelled",
        RegistrationCancelled,
        doc="A registration was cancelled (by the person, an operator, or their removal).",
    )
    _r(
        "events.registration.attended",
        RegistrationData,
        doc="A confirmed person came to the event (recorded once it has started).",
    )
    _r(
        "events.registration.promoted",
        RegistrationData,
        doc="A seat freed up (a cancellation, or a raised capacity) and the first person "
        "on the waitlist now has it.",
    )
