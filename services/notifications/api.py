"""HTTP routes of the notifications service under /api/v1 (thin: schema in, use case,
schema out).

A person with a ``self`` token (``sub`` = their person id) reads and marks their own
inbox and sets their own preferences (``/me/…``); asking for someone else's answers 404.
Operators hold ``notifications:read`` / ``notifications:write``: anyone's notifications,
webhook subscriptions and their deliveries, template previews.

The inboxes, the webhook subscriptions and their deliveries are read on the read path
of ``shared.reads``: the JSON is built from the selected columns (``adapters/reads.py``)
on a Core connection, and the schemas of ``@blueprint.response`` document it (their
fields are checked against the projections below, at import). Preferences (a matrix
of defaults and switches) and a delivery with its log stay on the use cases. Argument
schemas are instances built once, not once per request.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.engine import Connection

from services.notifications import operations as ops
from services.notifications import schemas as s
from services.notifications.adapters import reads
from services.notifications.adapters.outbound import resolve_host
from services.notifications.domain.commands import (
    CreateSubscription,
    DeleteSubscription,
    MarkAllRead,
    MarkRead,
    RetryDelivery,
    RotateSecret,
    SetPreferences,
    UpdateSubscription,
)
from services.notifications.domain.model import (
    LANGUAGES,
    Category,
    Channel,
    Notification,
    Preferences,
    Subscription,
)
from services.notifications.domain.ports import (
    NotificationsUnitOfWork,
)
from services.notifications.handlers import RENDERER
from services.notifications.samples import SAMPLES
from shared.auth import current_principal, requires
from shared.errors import InvalidInput, NotFound
from shared.events.catalogue import InvalidEventData, UnknownEventType
from shared.http.etag import etag, expected_version
from shared.http.pagination import PageArgs
from shared.http.reads import json_response
from shared.idempotency import idempotent
from shared.reads import read_connection
from shared.service import current_runtime

READ, WRITE, SELF = "notifications:read", "notifications:write", "self"
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}

blueprint = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1",
    description="Recipients, preferences, in-app inbox, email and webhooks",
)


def blueprints() -> list[Blueprint]:
    return [blueprint]


def _uow() -> NotificationsUnitOfWork:
    uow: NotificationsUnitOfWork = current_runtime().uow
    return uow


def _reading() -> AbstractContextManager[Connection]:
    return read_connection(current_runtime().database)


# the read path's projections are the response schemas' fields, in order
reads.NOTIFICATION.check(s.NotificationSchema())
reads.SUBSCRIPTION.check(s.SubscriptionSchema())
reads.DELIVERY.check(s.DeliverySchema())

# argument schemas, built once (webargs would build a schema class on every request)
INBOX_ARGS = s.InboxArgs()
RECIPIENT_ARGS = s.RecipientArgs()
PAGE_ARGS = PageArgs()
DELIVERY_ARGS = s.DeliveryArgs()


def _me() -> str:
    return current_principal().subject


def _visible_person(person_id: str) -> str:
    """An operator sees anyone; a ``self`` token only its own person (others: 404)."""
    if not current_principal().may_see_person(person_id, READ):
        raise NotFound(f"No recipient {person_id!r}.")
    return person_id


def _view(notification: Notification) -> dict[str, Any]:
    return {**vars(notification), "read": notification.read}


def _inbox(
    person_id: str, limit: int, cursor: str | None, unread: bool, channel: str | None
) -> Response:
    """A page of the person's notifications, newest first, and their unread count (404
    for a person the registry's copy does not hold, or holds as removed)."""
    with _reading() as connection:
        if reads.KNOWN_RECIPIENT.row(connection, id=person_id) is None:
            raise NotFound(f"No recipient {person_id!r}.")
        body = reads.NOTIFICATIONS.page(
            connection,
            limit,
            cursor,
            reads.NEWEST_NOTIFICATIONS,
            person_id=person_id,
            channel=channel,
            unread=unread or None,
        )
        body["unread"] = reads.unread(connection, person_id)
    return json_response(body)


def _tagged_preferences(preferences: Preferences) -> tuple[Any, int, dict[str, str]]:
    return (
        s.preferences_view(preferences),
        200,
        {"ETag": etag(preferences.person_id, preferences.version)},
    )


def _tagged(subscription: Subscription, status: int = 200, **headers: str) -> Any:
    return subscription, status, {"ETag": etag(subscription.id, subscription.version), **headers}


def _allowed_hosts() -> tuple[str, ...]:
    return current_runtime().settings.webhook_allowed_hosts


# -- a person's own inbox and preferences ------------------------------------------------
@blueprint.route("/me/notifications")
class MyNotifications(MethodView):
    @requires(SELF)
    @blueprint.arguments(INBOX_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.NotificationPage)
    def get(self, limit: int, cursor: str | None, unread: bool) -> Response:
        """Your in-app notifications, newest first, with how many are unread."""
        return _inbox(_me(), limit, cursor, unread, Channel.IN_APP.value)


@blueprint.route("/me/notifications/<string:notification_id>/read")
class MyNotificationRead(MethodView):
    @requires(SELF)
    @idempotent
    @blueprint.response(200, s.NotificationSchema)
    def post(self, notification_id: str) -> Any:
        """Mark one of your notifications read (someone else's answers 404)."""
        return _view(ops.mark_read(_uow(), MarkRead(_me(), notification_id)))


@blueprint.route("/me/notifications/read-all")
class MyNotificationsReadAll(MethodView):
    @requires(SELF)
    @idempotent
    @blueprint.response(200, s.MarkedAll)
    def post(self) -> Any:
        """Mark every one of your notifications read."""
        return {"marked": ops.mark_all_read(_uow(), MarkAllRead(_me())), "unread": 0}


@blueprint.route("/me/preferences")
class MyPreferences(MethodView):
    @requires(SELF)
    @blueprint.response(200, s.PreferencesSchema, headers=ETAG_HEADER)
    def get(self) -> Any:
        """Which channels are on, per category (everything is on until you turn it off)."""
        return _tagged_preferences(ops.get_preferences(_uow(), _me()))

    @requires(SELF)
    @blueprint.arguments(s.PreferencesWrite)
    @blueprint.response(200, s.PreferencesSchema, headers=ETAG_HEADER)
    def put(self, data: dict[str, Any]) -> Any:
        """Turn channels on or off per category (switches left out are kept);
        `If-Match` guards the version."""
        switches = {
            Channel(channel): {Category(c): on for c, on in categories.items()}
            for channel, categories in data.items()
        }
        command = SetPreferences(_me(), switches, expected_version(_me()))
        return _tagged_preferences(ops.set_preferences(_uow(), command))


# -- operators: anyone's ----------------------------------------------------------------
@blueprint.route("/recipients/<string:person_id>/notifications")
class RecipientNotifications(MethodView):
    @requires(READ, SELF)
    @blueprint.arguments(RECIPIENT_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.NotificationPage)
    def get(
        self,
        person_id: str,
        limit: int,
        cursor: str | None,
        unread: bool,
        channel: str | None = None,
    ) -> Response:
        """A person's notifications on both channels (emails with their delivery status)."""
        return _inbox(_visible_person(person_id), limit, cursor, unread, channel or None)


@blueprint.route("/recipients/<string:person_id>/preferences")
class RecipientPreferences(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.PreferencesSchema, headers=ETAG_HEADER)
    def get(self, person_id: str) -> Any:
        """A person's preferences."""
        return _tagged_preferences(ops.get_preferences(_uow(), _visible_person(person_id)))


# -- webhooks ---------------------------------------------------------------------------
@blueprint.route("/webhooks")
class Webhooks(MethodView):
    @requires(READ)
    @blueprint.arguments(PAGE_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.SubscriptionPage)
    def get(self, limit: int, cursor: str | None) -> Response:
        """The webhook subscriptions, oldest first."""
        with _reading() as connection:
            body = reads.SUBSCRIPTIONS.page(connection, limit, cursor, reads.OLDEST_SUBSCRIPTIONS)
        return json_response(body)

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.SubscriptionWrite)
    @blueprint.response(201, s.SubscriptionCreated, headers=ETAG_HEADER)
    def post(self, data: dict[str, Any]) -> Any:
        """Subscribe a URL to event types (patterns like `mentoring.#`). The answer
        holds the signing secret, shown this once."""
        command = CreateSubscription(data["url"], tuple(data["types"]), data.get("description"))
        subscription = ops.create_subscription(_uow(), command, resolve_host, _allowed_hosts())
        location = url_for("notifications.WebhookView", subscription_id=subscription.id)
        return _tagged(subscription, 201, Location=location)


@blueprint.route("/webhooks/<string:subscription_id>")
class WebhookView(MethodView):
    @requires(READ)
    @blueprint.response(200, s.SubscriptionSchema, headers=ETAG_HEADER)
    def get(self, subscription_id: str) -> Response:
        """One subscription (without its secret)."""
        with _reading() as connection:
            found = reads.SUBSCRIPTION_BY_ID.get(connection, id=subscription_id)
        if found is None:
            raise NotFound(f"No webhook subscription {subscription_id!r}.")
        return json_response(found, headers={"ETag": etag(found["id"], found["version"])})

    @requires(WRITE)
    @blueprint.arguments(s.SubscriptionPatch(partial=True))
    @blueprint.response(200, s.SubscriptionSchema, headers=ETAG_HEADER)
    def patch(self, changes: dict[str, Any], subscription_id: str) -> Any:
        """Change the URL, types, description, or enable it again (`active`: true);
        `If-Match` guards the version."""
        command = UpdateSubscription(subscription_id, changes, expected_version(subscription_id))
        return _tagged(ops.update_subscription(_uow(), command, resolve_host, _allowed_hosts()))

    @requires(WRITE)
    @blueprint.response(204)
    def delete(self, subscription_id: str) -> None:
        """Remove the subscription and its deliveries."""
        ops.delete_subscription(
            _uow(), DeleteSubscription(subscription_id, expected_version(subscription_id))
        )


@blueprint.route("/webhooks/<string:subscription_id>/rotate-secret")
class WebhookRotateSecret(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, s.SubscriptionCreated, headers=ETAG_HEADER)
    def post(self, subscription_id: str) -> Any:
        """A new signing secret (shown this once); for 24 hours deliveries carry a
        signature with each, the old and the new."""
        return _tagged(ops.rotate_secret(_uow(), RotateSecret(subscription_id)))


@blueprint.route("/webhooks/<string:subscription_id>/deliveries")
class WebhookDeliveries(MethodView):
    @requires(READ)
    @blueprint.arguments(DELIVERY_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.DeliveryPage)
    def get(
        self, subscription_id: str, limit: int, cursor: str | None, status: str | None = None
    ) -> Response:
        """The subscription's deliveries, newest first."""
        with _reading() as connection:
            if reads.SUBSCRIPTION_EXISTS.row(connection, id=subscription_id) is None:
                raise NotFound(f"No webhook subscription {subscription_id!r}.")
            body = reads.DELIVERIES.page(
                connection,
                limit,
                cursor,
                reads.NEWEST_DELIVERIES,
                subscription_id=subscription_id,
                status=status or None,
            )
        return json_response(body)


@blueprint.route("/webhooks/<string:subscription_id>/deliveries/<string:delivery_id>")
class WebhookDeliveryView(MethodView):
    @requires(READ)
    @blueprint.response(200, s.DeliveryDetail)
    def get(self, subscription_id: str, delivery_id: str) -> Any:
        """One delivery with every attempt (status, truncated response, duration)."""
        delivery, log = ops.get_delivery(_uow(), subscription_id, delivery_id)
        return {**vars(delivery), "log": log}


@blueprint.route("/webhooks/<string:subscription_id>/deliveries/<string:delivery_id>/retry")
class WebhookDeliveryRetry(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(202, s.DeliverySchema)
    def post(self, subscription_id: str, delivery_id: str) -> Any:
        """Send the delivery again now (409 while the subscription is disabled)."""
        return ops.retry_delivery(_uow(), RetryDelivery(subscription_id, delivery_id))


# -- templates --------------------------------------------------------------------------
@blueprint.route("/templates/<string:event_type>/<string:language>/preview")
class TemplatePreview(MethodView):
    @requires(WRITE)
    @blueprint.arguments(s.PreviewWrite)
    @blueprint.response(200, s.PreviewSchema)
    def post(self, data: dict[str, Any], event_type: str, language: str) -> Any:
        """Render a template with sample data (or the data given, checked against the
        catalogue) in en, fr or ar (another language: 422); a language without a
        template falls back to English."""
        if event_type not in SAMPLES:
            raise NotFound(f"No template for {event_type!r}.")
        if language not in LANGUAGES:
            message = f"Not a language of the platform: one of {', '.join(sorted(LANGUAGES))}."
            raise InvalidInput(message, errors={"language": [message]})
        sample = data.get("data")
        if sample is not None:
            try:
                sample = (
                    current_runtime()
                    .catalogue.make_event(event_type, subject=None, data=sample)
                    .data
                )
            except (InvalidEventData, UnknownEventType) as exc:
                errors = getattr(exc, "errors", {})
                raise InvalidInput(
                    "The data does not fit the event type's schema.", errors={"data": errors}
                ) from None
        rendered = ops.preview(
            RENDERER, event_type, language, sample or SAMPLES[event_type], data["name"]
        )
        return {"event_type": event_type, **vars(rendered)}
