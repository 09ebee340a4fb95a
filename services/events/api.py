"""HTTP routes of the events service under /api/v1 (thin: schema in, operation, schema out).

Operators and frontends hold ``events:read`` / ``events:write``. A person with a
``self`` token sees published events, registers themselves, reads or cancels only
their own registrations, and has their own view under ``/me`` (registrations, calendar,
a secret calendar feed). The feed itself, ``GET /feeds/calendar.ics?key=...``, is the
one data route outside ``/api/``: calendar apps cannot send a bearer token, so its
long random key is the credential (unknown or revoked: 404).

Lists and details that are plain projections of rows take the read path of
``shared.reads``: the JSON is built from the selected columns (``adapters/reads.py``) on
a Core connection, and the schemas of ``@blueprint.response`` document it (their fields
are checked against the projections below, at import). The CSV, the calendars and a
person's own registrations (ordered by the time of the request) stay on the use cases.
Argument schemas are instances built once, not once per request.
"""

from __future__ import annotations

import csv
import io
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.engine import Connection
from werkzeug.exceptions import PreconditionRequired

from services.events import operations as ops
from services.events import schemas as s
from services.events.adapters import reads
from services.events.calendar import event_calendar, events_calendar
from services.events.domain.commands import (
    Attend,
    CancelEvent,
    CancelRegistration,
    CloseCalendarFeed,
    CompleteEvent,
    CreateEvent,
    OpenCalendarFeed,
    PublishEvent,
    Register,
    UpdateEvent,
)
from services.events.domain.model import (
    AgendaItem,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    RegistrationStatus,
    sector_names,
)
from services.events.domain.ports import (
    EventsUnitOfWork,
    OwnKey,
    OwnRegistration,
    ParticipantQuery,
    Placed,
)
from shared.auth import current_principal, requires
from shared.db import utc
from shared.errors import Forbidden, NotFound
from shared.http.csv_export import csv_cell
from shared.http.etag import etag, expected_version
from shared.http.pagination import PageArgs, decode_cursor, invalid_cursor, page
from shared.http.reads import json_response
from shared.idempotency import idempotent
from shared.reads import read_connection
from shared.service import current_runtime

READ, WRITE, SELF = "events:read", "events:write", "self"
ETAG = {"ETag": {"schema": {"type": "string"}}}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": "The ETag of the event as last read (or `*`): a stale one is refused "
    "(412), a missing one too (428).",
}
CALENDAR_NAME = "Booster Track"

blueprint = Blueprint(
    "events",
    __name__,
    url_prefix="/api/v1",
    description="Events, business trips, registrations and waitlists",
)
feeds = Blueprint(
    "feeds",
    __name__,
    url_prefix="/feeds",
    description="A person's calendar feed: its secret key is the credential (no token)",
)


def blueprints() -> list[Blueprint]:
    return [blueprint, feeds]


def _uow() -> EventsUnitOfWork:
    uow: EventsUnitOfWork = current_runtime().uow
    return uow


def _reading() -> AbstractContextManager[Connection]:
    return read_connection(current_runtime().database)


# the read path's projections are the response schemas' fields, in order
reads.EVENT.check(s.EventSchema())
reads.REGISTRATION.check(s.RegistrationSchema())
reads.PARTICIPANT.check(s.ParticipantSchema())

# argument schemas, built once (webargs would build a schema class on every request)
EVENT_LIST_ARGS = s.EventListArgs()
REGISTRATION_LIST_ARGS = s.RegistrationListArgs()
PAGE_ARGS = PageArgs()


def _hidden(status: str) -> bool:
    """A draft is not shown to a person's own (``self``) token: it is not announced yet."""
    return status == EventStatus.DRAFT and current_principal().is_self_only(READ)


def _visible(event: Event) -> Event:
    """A draft is not shown to a person's own (``self``) token: it is not announced yet."""
    if _hidden(event.status):
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


E = TypeVar("E", bound=StrEnum)


def _optional(enum: type[E], value: str | None) -> E | None:
    """A filter's value as the domain's enum (the schema checked it), or None."""
    return enum(value) if value else None


def _tagged(event: Event, status: int = 200, **headers: str) -> tuple[Any, int, dict[str, str]]:
    """The event with its ETag (``"<id>.<version>"``), for ``If-Match`` on a change."""
    return event, status, {"ETag": etag(event.id, event.version), **headers}


def _event_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The body's fields in the domain's types (agenda items, sectors as a tuple)."""
    fields = dict(data)
    if "agenda" in fields:
        fields["agenda"] = tuple(AgendaItem(**item) for item in fields["agenda"])
    if "sectors" in fields:
        fields["sectors"] = tuple(fields["sectors"])
    return fields


def _own_cursor(cursor: str | None) -> OwnKey | None:
    """The (past, starts_at, registration id) a cursor of ``/me/registrations`` holds."""
    after = decode_cursor(cursor, (bool, str, str))
    if after is None:
        return None
    try:
        starts_at = datetime.fromisoformat(after[1])
        if starts_at.tzinfo is None:
            raise ValueError("naive")
        starts_at = starts_at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid_cursor() from None
    return after[0], starts_at, after[2]


def _own_key(own: OwnRegistration, at: datetime) -> list[Any]:
    return [own.event.ends_at <= at, own.event.starts_at.isoformat(), own.registration.id]


def _calendar(events: list[Event], filename: str) -> Response:
    return Response(
        events_calendar(events, CALENDAR_NAME),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-cache",
        },
    )


# -- events --------------------------------------------------------------------------
@blueprint.route("/events")
class Events(MethodView):
    @requires(READ, SELF)
    @blueprint.arguments(EVENT_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.EventPage)
    def get(self, limit: int, cursor: str | None, **filters: Any) -> Response:
        """Events by start time; filter by kind, status, start (`from`, `to`), a business
        trip's `sector` and the event's `country`."""
        sector = sector_names([filters["sector"]]) if filters.get("sector") else ()
        with _reading() as connection:
            body = reads.EVENTS.page(
                connection,
                limit,
                cursor,
                reads.EVENTS_BY_START,
                kind=filters.get("kind") or None,
                status=filters.get("status") or None,
                from_=utc(filters.get("from_")),
                to=utc(filters.get("to")),
                hide_drafts=current_principal().is_self_only(READ) or None,
                sector=sector[0] if sector else None,
                country=filters["country"].upper() if filters.get("country") else None,
            )
        return json_response(body)

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.EventWrite)
    @blueprint.response(201, s.EventSchema, headers=ETAG)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an event or business trip as a draft (`events.event.created`); a
        business trip may name the `sectors` it targets and its `host_organisation`."""
        fields = _event_fields(data)
        event = ops.create_event(
            _uow(),
            CreateEvent(
                **fields | {"kind": EventKind(data["kind"]), "format": EventFormat(data["format"])}
            ),
        )
        return _tagged(event, 201, Location=url_for("events.EventView", event_id=event.id))


@blueprint.route("/events/<string:event_id>")
class EventView(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.EventSchema, headers=ETAG)
    def get(self, event_id: str) -> Response:
        """One event, with its seats taken and left; the ETag names its version."""
        with _reading() as connection:
            event = reads.EVENT_BY_ID.get(connection, id=event_id)
        if event is None or _hidden(event["status"]):
            raise NotFound(f"No event with id {event_id!r}.")
        return json_response(event, headers={"ETag": etag(event["id"], event["version"])})

    @requires(WRITE)
    @blueprint.doc(parameters=[IF_MATCH])
    @blueprint.arguments(s.EventChanges)
    @blueprint.response(200, s.EventSchema, headers=ETAG)
    def patch(self, changes: dict[str, Any], event_id: str) -> Any:
        """Change a draft, or a published event that has not started; `If-Match` is
        required (428 without, 412 if stale). A published event's new time or place
        emits `events.event.rescheduled` (with everyone registered), other changes
        `events.event.updated`. A raised capacity gives its seats to the waitlist in
        order (`events.registration.promoted`); one below the seats taken is 409."""
        if request.headers.get("If-Match") is None:
            raise PreconditionRequired(
                "Send If-Match with the event's ETag (or *): changes apply to the version read."
            )
        command = UpdateEvent(event_id, _event_fields(changes), expected_version(event_id))
        return _tagged(ops.update_event(_uow(), command))


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
    @blueprint.response(200, s.EventSchema, headers=ETAG)
    def post(self, event_id: str) -> Any:
        """Open the draft for registration (`events.event.published`)."""
        return _tagged(ops.publish_event(_uow(), PublishEvent(event_id)))


@blueprint.route("/events/<string:event_id>/cancel")
class EventCancel(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.Reason)
    @blueprint.response(200, s.EventSchema, headers=ETAG)
    def post(self, data: dict[str, Any], event_id: str) -> Any:
        """Cancel the event and its registrations (`events.event.cancelled`)."""
        return _tagged(ops.cancel_event(_uow(), CancelEvent(event_id, data.get("reason"))))


@blueprint.route("/events/<string:event_id>/complete")
class EventComplete(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, s.EventSchema, headers=ETAG)
    def post(self, event_id: str) -> Any:
        """Close an event that has ended: unmarked seats become no-shows, the waitlist
        ends (`events.event.completed`)."""
        return _tagged(ops.complete_event(_uow(), CompleteEvent(event_id)))


# -- registrations -------------------------------------------------------------------
@blueprint.route("/events/<string:event_id>/registrations")
class Registrations(MethodView):
    @requires(READ)
    @blueprint.arguments(REGISTRATION_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.RegistrationPage)
    @blueprint.alt_response(200, schema={"type": "string"}, content_type="text/csv", success=True)
    def get(self, event_id: str, limit: int, cursor: str | None, **filters: Any) -> Any:
        """The participant list: registrations in the order they were made, with who
        registered (name, email, country, cluster, from the read copies of the
        registry); filter by `status` (`waitlisted` is the queue), `country` and
        `cluster_id`. `?format=csv` (operators): every matching registration as CSV,
        the same rows in the same order (`limit` and `cursor` do not apply)."""
        query = ParticipantQuery(
            status=_optional(RegistrationStatus, filters.get("status")),
            country=filters["country"].upper() if filters.get("country") else None,
            cluster_id=filters.get("cluster_id"),
        )
        if filters["format"] == "csv":
            return _participants_csv(event_id, query)
        with _reading() as connection:
            if reads.EVENT_EXISTS.row(connection, id=event_id) is None:
                raise NotFound(f"No event with id {event_id!r}.")
            body = reads.PARTICIPANTS.page(
                connection,
                limit,
                cursor,
                reads.BY_SEQUENCE,
                event_id=event_id,
                status=filters.get("status") or None,
                country=query.country,
                cluster_id=query.cluster_id,
            )
        return json_response(body)

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
    def get(self, event_id: str, registration_id: str) -> Response:
        """One registration, with its place on the waitlist."""
        with _reading() as connection:
            found = reads.REGISTRATION_BY_ID.get(connection, id=registration_id, event_id=event_id)
        if found is None or not _acts_for(found["person_id"], READ):
            raise NotFound(f"No registration {registration_id!r} to event {event_id!r}.")
        return json_response(found)


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


def _participants_csv(event_id: str, query: ParticipantQuery) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=s.CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for participant in ops.export_registrations(_uow(), event_id, query):
        writer.writerow({k: csv_cell(v) for k, v in s.participant_row(participant).items()})
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="registrations-{event_id}.csv"'},
    )


# -- a person's own view (a ``self`` token: its ``sub`` is the person) -------------------
@blueprint.route("/me/registrations")
class OwnRegistrations(MethodView):
    @requires(SELF)
    @blueprint.arguments(PAGE_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.OwnRegistrationPage)
    def get(self, limit: int, cursor: str | None) -> dict[str, Any]:
        """Your registrations, each with its event: upcoming events first (soonest
        first), then past ones (latest first)."""
        at = datetime.now(UTC)
        person_id = current_principal().subject
        items = ops.own_registrations(_uow(), person_id, at, limit + 1, _own_cursor(cursor))
        views = [
            {
                **s.registration_view(own.registration, own.waitlist_position),
                "event": own.event,
                "key": _own_key(own, at),  # the cursor's, not shown
            }
            for own in items
        ]
        return page(views, limit, key=lambda view: view["key"])


@blueprint.route("/me/calendar.ics")
class OwnCalendar(MethodView):
    @requires(SELF)
    @blueprint.response(200, content_type="text/calendar")
    def get(self) -> Response:
        """Your events as one calendar: those you hold a seat at (or attended)."""
        events = ops.own_calendar(_uow(), current_principal().subject)
        return _calendar(events, "booster-track.ics")


@blueprint.route("/me/calendar-feed")
class OwnCalendarFeed(MethodView):
    @requires(SELF)
    @blueprint.response(201, s.CalendarFeedSchema)
    def post(self) -> Any:
        """A secret URL to your calendar, for calendar apps that cannot send a token
        (`GET` it, no token needed). A new one replaces the one before, which stops
        working. Shown once: only a hash of its key is kept (so an `Idempotency-Key`
        is not stored either; a retry gives a new URL, and the last one works)."""
        secret, created_at = ops.open_calendar_feed(
            _uow(), OpenCalendarFeed(current_principal().subject)
        )
        url = url_for("feeds.CalendarFeed", key=secret, _external=True)
        return {"url": url, "created_at": created_at}, 201

    @requires(SELF)
    @blueprint.response(204)
    def delete(self) -> None:
        """Revoke your calendar feed: its URL answers 404 from now on."""
        ops.close_calendar_feed(_uow(), CloseCalendarFeed(current_principal().subject))


@feeds.route("/calendar.ics")
class CalendarFeed(MethodView):
    @feeds.doc(security=[])
    @feeds.arguments(s.FeedArgs, location="query", as_kwargs=True)
    @feeds.response(200, content_type="text/calendar")
    def get(self, key: str) -> Response:
        """A person's calendar feed (no token: the key is the credential); 404 for an
        unknown or revoked key."""
        return _calendar(ops.feed_calendar(_uow(), key), "booster-track.ics")
