"""HTTP schemas of the notifications service (marshmallow): what comes in, what goes out."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from services.notifications.domain.model import (
    Category,
    Channel,
    DeliveryStatus,
    WebhookStatus,
)
from shared.http.fields import choices, text
from shared.http.pagination import PageArgs, page_schema


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false`` only (no ``"no"``, ``1`` or ``"true"``: 422)."""

    default_error_messages = {"invalid": "Not a boolean: only true or false."}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


# -- the inbox -------------------------------------------------------------------------
class NotificationSchema(Schema):
    id = fields.String(required=True)
    event_id = fields.String(required=True, metadata={"description": "the event it is about"})
    event_type = fields.String(required=True)
    channel = fields.String(required=True, validate=choices(Channel))
    language = fields.String(required=True)
    subject = fields.String(required=True)
    text = fields.String(required=True, metadata={"description": "the message, plain text"})
    read = fields.Boolean(required=True, metadata={"description": "in-app only; emails: false"})
    status = fields.String(required=True, validate=choices(DeliveryStatus))
    attempts = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    read_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True, metadata={"description": "emails only"})


class NotificationPage(Schema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
    unread = fields.Integer(required=True, metadata={"description": "unread in-app ones"})


class InboxArgs(PageArgs):
    unread = fields.Boolean(
        load_default=False, metadata={"description": "only unread in-app notifications"}
    )


class RecipientArgs(InboxArgs):
    channel = fields.String(
        validate=choices(Channel),
        metadata={"description": "only this channel (default: both)"},
    )


class MarkedAll(Schema):
    marked = fields.Integer(required=True, metadata={"description": "how many were unread"})
    unread = fields.Integer(required=True)


# -- preferences -----------------------------------------------------------------------
def _switches(required: bool) -> type[Schema]:
    return Schema.from_dict(
        {
            category.value: StrictBoolean(required=required, metadata={"description": "on?"})
            for category in Category
        },
        name="SwitchesFull" if required else "Switches",
    )


Switches = _switches(False)
SwitchesFull = _switches(True)


class PreferencesWrite(Schema):
    """Channels to turn on or off per category; switches left out are kept."""

    email = fields.Nested(Switches)
    in_app = fields.Nested(Switches)


class PreferencesSchema(Schema):
    person_id = fields.String(required=True)
    email = fields.Nested(SwitchesFull, required=True)
    in_app = fields.Nested(SwitchesFull, required=True)
    version = fields.Integer(required=True, metadata={"description": "0: never changed"})
    updated_at = fields.AwareDateTime(allow_none=True)


def preferences_view(preferences: Any) -> dict[str, Any]:
    return {
        "person_id": preferences.person_id,
        **preferences.matrix(),
        "version": preferences.version,
        "updated_at": preferences.updated_at,
    }


# -- webhooks --------------------------------------------------------------------------
PATTERN = fields.String(
    validate=validate.Length(min=1, max=100),
    metadata={
        "description": "an event type or a pattern: `*` one word, `#` any, e.g. `mentoring.#`"
    },
)


class SubscriptionWrite(Schema):
    url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={"description": "http(s) to a public address; redirects are not followed"},
    )
    types = fields.List(PATTERN, required=True, validate=validate.Length(min=1, max=50))
    description = text(500, allow_none=True)


class SubscriptionPatch(SubscriptionWrite):
    active = StrictBoolean(metadata={"description": "true enables a disabled subscription"})


class SubscriptionSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    types = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True)
    active = fields.Boolean(required=True)
    failures = fields.Integer(required=True, metadata={"description": "failed attempts in a row"})
    failing_since = fields.AwareDateTime(allow_none=True)
    disabled_at = fields.AwareDateTime(allow_none=True)
    previous_secret_expires_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "until then, the old secret signs too"}
    )
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class SubscriptionCreated(SubscriptionSchema):
    secret = fields.String(
        required=True, metadata={"description": "`whsec_…`, shown this once: keep it"}
    )


SubscriptionPage = page_schema(SubscriptionSchema, "SubscriptionPage")


class DeliveryArgs(PageArgs):
    status = fields.String(validate=choices(WebhookStatus))


class DeliverySchema(Schema):
    id = fields.String(required=True)
    subscription_id = fields.String(required=True)
    event_id = fields.String(required=True, metadata={"description": "also its `webhook-id`"})
    event_type = fields.String(required=True)
    status = fields.String(required=True, validate=choices(WebhookStatus))
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    delivered_at = fields.AwareDateTime(allow_none=True)


DeliveryPage = page_schema(DeliverySchema, "DeliveryPage")


class AttemptSchema(Schema):
    number = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    ok = fields.Boolean(required=True)
    status_code = fields.Integer(allow_none=True)
    detail = fields.String(required=True, metadata={"description": "the response, truncated"})
    duration_ms = fields.Integer(required=True)


class DeliveryDetail(DeliverySchema):
    log = fields.List(fields.Nested(AttemptSchema), required=True)


# -- templates -------------------------------------------------------------------------
class PreviewWrite(Schema):
    data = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "the event's data (checked against the catalogue); "
            "leave out for the sample"
        },
    )
    name = fields.String(
        load_default="Salma Idrissi",
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the sample recipient's name"},
    )


class PreviewSchema(Schema):
    event_type = fields.String(required=True)
    language = fields.String(
        required=True, metadata={"description": "the one used (English if none in the asked one)"}
    )
    subject = fields.String(required=True)
    text = fields.String(required=True)
    html = fields.String(required=True)
