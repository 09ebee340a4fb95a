"""HTTP routes of the events service under /api/v1 (thin: schema in, operation, schema out).

Operators and frontends hold ``events:read`` / ``events:write``. A person with a
``self`` token sees published events, registers themselves, and reads or cancels
only their own registrations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.events import operations as ops
from services.events import schemas as s
from services.events.calendar import event_calendar
from services.events.domain.commands import (
    Attend,
    CancelEvent,
    CancelRegistration,
    CompleteEvent,
    CreateEvent,
    PublishEvent,
    Register,
)
from services.events.domain.model import (
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    RegistrationStatus,
)
from services.events.domain.ports import EventQuery, EventsUnitOfWork, Placed
from shared.auth import current_principal, requires
from shared.db import utc
from shared.errors import Forbidden, NotFound
from shared.http.pagination import decode_cursor, invalid_cursor, page
from shared.idempotency import idempotent
from shared.service import current_runtime

READ, WRITE, SELF = "events:read", "events:write", "self"
MAX_SEQUENCE = 2**31 - 1
"""The largest registration sequence (an SQL INTEGER); a cursor beyond it is forged."""

blueprint = Blueprint(
    "events",
    __name__,
    url_prefix="/api/v1",
    description="Events, business trips, registrations and waitlists",
)


def blueprints() -> list[Blueprint]:
    return [blueprint]


def _uow() -> EventsUnitOfWork:
    uow: EventsUnitOfWork = current_runtime().uow
    return uow


def _visible(event: Event) -> Event:
    """A draft is not shown to a person's own (``self``) token: it is not announced yet."""
    if event.status is EventStatus.DRAFT and current_principal().is_self_only(READ):
        raise NotFound(f"No event with id {event.id!r}.")
    return event


def _acts_for(person_id: str, scope: str) -> bool:
    """With ``scope`` a caller acts for anyone; a ``self`` token only for its person."""
    principal = current_principal()
    return principal.allows(scope) or principal.subject == person_id


def _own_registration(event_id: str, registration_id: str, scope: str) -> Placed:
    """The registration, if the caller may see it: a ``self`` token is told that other
    people's registrations do not exist (404), as it is for unknown ids."""
    registration, place = ops.get_registration(_uow(), event_id, registration_id)
    if not _acts_for(registration.person_id, scope):
        raise NotFound(f"No registration {registration_id!r} to event {event_id!r}.")
    return registration, place


def _event_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The (starts_at, id) a cursor of the event list holds; else a 422."""
    after = decode_cursor(cursor, (str, str))
    if after is None:
        return None
    try:
        starts_at = datetime.fromisoformat(after[0])
        if starts_at.tzinfo is None:
            raise ValueError("naive")
        starts_at = starts_at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid_cursor() from None
    return starts_at, after[1]


def _registration_cursor(cursor: str | None) -> int | None:
    """The sequence a cursor of a registration list holds (1 up); else a 422."""
    after = decode_cursor(cursor, (int,))
    if after is None:
        return None
    if not 1 <= after[0] <= MAX_SEQUENCE:
        raise invalid_cursor()
    return int(after[0])


E = TypeVar("E", bound=StrEnum)


def _optional(enum: type[E], value: str | None) -> E | None:
    """A filter's value as the domain's enum (the schema checked it), or None."""
    return enum(value) if value else None


# -- events --------------------------------------------------------------------------
@blueprint.route("/events")
class Events(MethodView):
    @requires(READ, SELF)
    @blueprint.arguments(s.EventListArgs, location="query", as_kwargs=True)
    @blueprint.response(200, s.EventPage)
    def get(self, limit: int, cursor: str | None, **filters: Any) -> dict[str, Any]:
        """Events by start time; filter by kind, status, and start (`from`, `to`)."""
        query = EventQuery(
            kind=_optional(EventKind, filters.get("kind")),
            status=_optional(EventStatus, filters.get("status")),
            starts_from=utc(filters.get("from_")),
            starts_before=utc(filters.get("to")),
            hide_drafts=current_principal().is_self_only(READ),
        )
        items = ops.list_events(_uow(), query, limit + 1, _event_cursor(cursor))
        return page(items, limit, key=lambda event: [event.starts_at.isoformat(), event.id])

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.EventWrite)
    @blueprint.response(201, s.EventSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an event or business trip as a draft (`events.event.created`)."""
        event = ops.create_event(
            _uow(),
            CreateEvent(
                kind=EventKind(data["kind"]),
                title=data["title"],
                format=EventFormat(data["format"]),
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                timezone=data["timezone"],
                capacity=data.get("capacity"),
                city=data.get("city"),
                country=data.get("country"),
                online_link=data.get("online_link"),
                registration_closes_at=data.get("registration_closes_at"),
                description=data.get("description"),
            ),
        )
        return event, 201, {"Location": url_for("events.EventView", event_id=event.id)}


@blueprint.route("/events/<string:event_id>")
class EventView(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.EventSchema)
    def get(self, event_id: str) -> Any:
        """One event, with its seats taken and left."""
        return _visible(ops.get_event(_uow(), event_id))


@blueprint.route("/events/<string:event_id>.ics")
class EventCalendar(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, content_type="text/calendar")
    def get(self, event_id: str) -> Response:
        """The event as an iCalendar file, in its venue's time zone."""
        event = _visible(ops.get_event(_uow(), event_id))
        return Response(
            event_calendar(event),
            mimetype="text/calendar",
            headers={
                "Content-Disposition": f'attachment; filename="{event.id}.ics"',
            },
        )


@blueprint.route("/events/<string:event_id>/publish")
class EventPublish(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, s.EventSchema)
    def post(self, event_id: str) -> Any:
        """Open the draft for registration (`events.event.published`)."""
        return ops.publish_event(_uow(), PublishEvent(event_id))


@blueprint.route("/events/<string:event_id>/cancel")
class EventCancel(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.Reason)
    @blueprint.response(200, s.EventSchema)
    def post(self, data: dict[str, Any], event_id: str) -> Any:
        """Cancel the event and its registrations (`events.event.cancelled`)."""
        return ops.cancel_event(_uow(), CancelEvent(event_id, data.get("reason")))


@blueprint.route("/events/<string:event_id>/complete")
class EventComplete(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, s.EventSchema)
    def post(self, event_id: str) -> Any:
        """Close an event that has ended: unmarked seats become no-shows, the waitlist
        ends (`events.event.completed`)."""
        return ops.complete_event(_uow(), CompleteEvent(event_id))


# -- registrations -------------------------------------------------------------------
@blueprint.route("/events/<string:event_id>/registrations")
class Registrations(MethodView):
    @requires(READ)
    @blueprint.arguments(s.RegistrationListArgs, location="query", as_kwargs=True)
    @blueprint.response(200, s.RegistrationPage)
    def get(
        self, event_id: str, limit: int, cursor: str | None, status: str | None = None
    ) -> dict[str, Any]:
        """Registrations in the order they were made; `status=waitlisted` is the queue."""
        items = ops.list_registrations(
            _uow(),
            event_id,
            _optional(RegistrationStatus, status),
            limit + 1,
            _registration_cursor(cursor),
        )
        views = [s.registration_view(registration, place) for registration, place in items]
        return page(views, limit, key=lambda view: [view["sequence"]])

    @requires(WRITE, SELF)
    @idempotent
    @blueprint.arguments(s.RegistrationWrite)
    @blueprint.response(201, s.RegistrationSchema)
    def post(self, data: dict[str, Any], event_id: str) -> Any:
        """Register a person: `confirmed` while seats last, then `waitlisted`
        (`events.registration.confirmed` / `.waitlisted`)."""
        if not _acts_for(data["person_id"], WRITE):
            raise Forbidden("A self token may register only its own person.")
        if current_principal().is_self_only(READ):
            _visible(ops.get_event(_uow(), event_id))  # a draft is not there for them
        registration, place = ops.register(_uow(), Register(event_id, data["person_id"]))
        location = url_for(
            "events.RegistrationView", event_id=event_id, registration_id=registration.id
        )
        return s.registration_view(registration, place), 201, {"Location": location}


@blueprint.route("/events/<string:event_id>/registrations/<string:registration_id>")
class RegistrationView(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.RegistrationSchema)
    def get(self, event_id: str, registration_id: str) -> Any:
        """One registration, with its place on the waitlist."""
        return s.registration_view(*_own_registration(event_id, registration_id, READ))


@blueprint.route("/events/<string:event_id>/registrations/<string:registration_id>/cancel")
class RegistrationCancel(MethodView):
    @requires(WRITE, SELF)
    @idempotent
    @blueprint.arguments(s.Reason)
    @blueprint.response(200, s.RegistrationSchema)
    def post(self, data: dict[str, Any], event_id: str, registration_id: str) -> Any:
        """Cancel a registration (`events.registration.cancelled`); a freed seat goes to
        the first on the waitlist (`events.registration.promoted`)."""
        _own_registration(event_id, registration_id, WRITE)
        cancelled = ops.cancel_registration(
            _uow(), CancelRegistration(event_id, registration_id, data.get("reason"))
        )
        return s.registration_view(cancelled, None)


@blueprint.route("/events/<string:event_id>/registrations/<string:registration_id>/attend")
class RegistrationAttend(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, s.RegistrationSchema)
    def post(self, event_id: str, registration_id: str) -> Any:
        """Record that a confirmed person came, once the event has started
        (`events.registration.attended`)."""
        attended = ops.attend(_uow(), Attend(event_id, registration_id))
        return s.registration_view(attended, None)
