"""Events published by the notifications service: emails sent or given up, and webhook
subscriptions disabled after a long run of failures.

None carries a message's content or an address: a subscriber learns what happened to
which notification (and can ask the service's API for more with the right scope).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.catalogue import Catalogue

CHANNELS = ("email", "in_app")


class NotificationData(Schema):
    id = fields.String(required=True, metadata={"description": "the notification's id"})
    person_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    event_id = fields.String(required=True, metadata={"description": "the event it is about"})
    event_type = fields.String(required=True)
    attempts = fields.Integer(required=True, validate=validate.Range(min=1))


class NotificationFailed(NotificationData):
    permanent = fields.Boolean(
        required=True,
        metadata={"description": "refused for good (true), or every retry used up (false)"},
    )
    error = fields.String(required=True, metadata={"description": "the last error, truncated"})


class WebhookDisabled(Schema):
    id = fields.String(required=True, metadata={"description": "the subscription's id"})
    description = fields.String(allow_none=True)
    types = fields.List(fields.String(), required=True)
    failures = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata={"description": "in a row"}
    )
    failing_since = fields.AwareDateTime(required=True)
    last_error = fields.String(required=True)


def register(catalogue: Catalogue) -> None:
    """Add the notifications service's event types to ``catalogue``."""
    _r = catalogue.register
    _r(
        "notifications.notification.sent",
        NotificationData,
        doc="An email notification was accepted by the SMTP server.",
    )
    _r(
        "notifications.notification.failed",
        NotificationFailed,
        doc="An email notification was given up: refused for good, or every retry failed.",
    )
    _r(
        "notifications.webhook.disabled",
        WebhookDisabled,
        doc="A webhook subscription was disabled after a long run of failed deliveries: "
        "no new event is queued for it; its pending deliveries wait until it is enabled again.",
    )
