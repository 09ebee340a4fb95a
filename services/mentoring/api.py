"""HTTP routes of the mentoring service under /api/v1 (thin: schema in, operation, schema out).

Programme managers hold ``mentoring:read`` / ``mentoring:write``. A participant's own
token (``self``, ``sub`` = their person id) reads their own pairs, sessions and goals,
updates their own goals and gives their own feedback; anything else answers 404 (as an
unknown id does), and operator routes 403.

Programmes, a programme's enrolments, pairs and joint meetings are read on the read path
of ``shared.reads``: the JSON is built from the selected columns (``adapters/reads.py``)
on a Core connection, and the schemas of ``@blueprint.response`` document it (their
fields are checked against the projections below, at import). What a ``self`` token
sees (its pairs, sessions, goals and feedback: the domain's rules), the report and the
portfolio stay on the use cases.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.engine import Connection

from services.mentoring import operations as ops
from services.mentoring import schemas as s
from services.mentoring.adapters import reads
from services.mentoring.domain import commands as c
from services.mentoring.domain.model import (
    Competency,
    GoalStatus,
    Language,
    Pair,
    PairStatus,
    Role,
    Session,
    SessionKind,
)
from services.mentoring.domain.ports import MentoringUnitOfWork, PairQuery, TimeKey
from services.mentoring.portfolio import views as portfolio_views
from shared.auth import current_principal, requires
from shared.errors import NotFound
from shared.http.csv_export import csv_cell
from shared.http.etag import etag, expected_version
from shared.http.pagination import PageArgs, decode_cursor, invalid_cursor, page
from shared.http.reads import json_response
from shared.idempotency import idempotent
from shared.reads import Listing, Order, read_connection
from shared.service import current_runtime

READ, WRITE, SELF = "mentoring:read", "mentoring:write", "self"
ETAG = {"ETag": {"schema": {"type": "string"}}}

blueprint = Blueprint(
    "mentoring",
    __name__,
    url_prefix="/api/v1",
    description="Programmes, enrolments, matching, pairs, goals, sessions, meetings, feedback",
)


def blueprints() -> list[Blueprint]:
    return [blueprint, *portfolio_views.blueprints()]


def _uow() -> MentoringUnitOfWork:
    uow: MentoringUnitOfWork = current_runtime().uow
    return uow


def _reading() -> AbstractContextManager[Connection]:
    return read_connection(current_runtime().database)


# the read path's projections are the response schemas' fields, in order
reads.PROGRAMME.check(s.ProgrammeSchema())
reads.ENROLMENT.check(s.EnrolmentSchema())
reads.PAIR.check(s.PairSchema())
reads.MEETING.check(s.MeetingSchema())

# argument schemas, built once (webargs would build a schema class on every request)
PROGRAMME_LIST_ARGS = s.ProgrammeListArgs()
ENROLMENT_LIST_ARGS = s.EnrolmentListArgs()
PAIR_LIST_ARGS = s.PairListArgs()
PAGE_ARGS = PageArgs()


def _programme_page(
    programme_id: str,
    listing: Listing,
    order: Order,
    limit: int,
    cursor: str | None,
    **filters: Any,
) -> Response:
    """A page of one of a programme's lists; 404 for an unknown programme."""
    with _reading() as connection:
        if reads.PROGRAMME_EXISTS.row(connection, id=programme_id) is None:
            raise NotFound(f"No programme with id {programme_id!r}.")
        body = listing.page(connection, limit, cursor, order, programme_id=programme_id, **filters)
    return json_response(body)


def _tagged(entity: Any, status: int = 200, **headers: str) -> tuple[Any, int, dict[str, str]]:
    return entity, status, {"ETag": etag(entity.id, entity.version), **headers}


def _time_cursor(cursor: str | None) -> TimeKey | None:
    """The (time, id) a list's cursor holds; else a 422."""
    after = decode_cursor(cursor, (str, str))
    if after is None:
        return None
    try:
        moment = datetime.fromisoformat(after[0])
        if moment.tzinfo is None:
            raise ValueError("naive")
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid_cursor() from None
    return moment, after[1]


def _page(items: list[Any], limit: int, time: Callable[[Any], datetime]) -> dict[str, Any]:
    return page(items, limit, key=lambda item: [time(item).isoformat(), item.id])


def _self_only() -> bool:
    return current_principal().is_self_only(READ)


def _own_pair(pair_id: str) -> Pair:
    """The pair, if the caller may see it: a ``self`` token sees only confirmed pairs it
    is the mentor or mentee of; others answer 404, as unknown ids do."""
    pair = ops.get_pair(_uow(), pair_id)
    if _self_only() and (current_principal().subject not in pair.person_ids or not pair.was_active):
        raise NotFound(f"No pair with id {pair_id!r}.")
    return pair


def _own_write(pair_id: str) -> Pair:
    """As :func:`_own_pair`, for writes a ``self`` token may make on its own pair."""
    principal = current_principal()
    pair = ops.get_pair(_uow(), pair_id)
    if not principal.allows(WRITE) and (
        principal.subject not in pair.person_ids or not pair.was_active
    ):
        raise NotFound(f"No pair with id {pair_id!r}.")
    return pair


def _own_session(session_id: str) -> Session:
    session = ops.get_session(_uow(), session_id)
    if _self_only() and current_principal().subject not in session.person_ids:
        raise NotFound(f"No session with id {session_id!r}.")
    return session


# -- programmes ----------------------------------------------------------------------
@blueprint.route("/programmes")
class Programmes(MethodView):
    @requires(READ)
    @blueprint.arguments(PROGRAMME_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.ProgrammePage)
    def get(self, limit: int, cursor: str | None, status: str | None = None) -> Response:
        """Programmes in the order they were created; filter by status."""
        with _reading() as connection:
            body = reads.PROGRAMMES.page(
                connection, limit, cursor, reads.PROGRAMMES_BY_CREATION, status=status or None
            )
        return json_response(body)

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.ProgrammeWrite)
    @blueprint.response(201, s.ProgrammeSchema, headers=ETAG)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a programme as a draft (`mentoring.programme.created`)."""
        programme = ops.create_programme(
            _uow(),
            c.CreateProgramme(
                name=data["name"],
                edition=data.get("edition"),
                organiser=data.get("organiser"),
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                competencies=tuple(Competency(v) for v in data["competencies"]),
            ),
        )
        location = url_for("mentoring.ProgrammeView", programme_id=programme.id)
        return _tagged(programme, 201, Location=location)


@blueprint.route("/programmes/<string:programme_id>")
class ProgrammeView(MethodView):
    @requires(READ)
    @blueprint.response(200, s.ProgrammeSchema, headers=ETAG)
    def get(self, programme_id: str) -> Response:
        """One programme; the ETag names its version."""
        with _reading() as connection:
            found = reads.PROGRAMME_BY_ID.get(connection, id=programme_id)
        if found is None:
            raise NotFound(f"No programme with id {programme_id!r}.")
        return json_response(found, headers={"ETag": etag(found["id"], found["version"])})

    @requires(WRITE)
    @blueprint.arguments(s.ProgrammePatch(partial=True))
    @blueprint.response(200, s.ProgrammeSchema, headers=ETAG)
    def patch(self, changes: dict[str, Any], programme_id: str) -> Any:
        """Change some fields (not once closed); `If-Match` guards the version."""
        if "competencies" in changes:
            changes["competencies"] = [Competency(v) for v in changes["competencies"]]
        command = c.EditProgramme(programme_id, changes, expected_version(programme_id))
        return _tagged(ops.edit_programme(_uow(), command))


def _mover(verb: str, doc: str) -> type[MethodView]:
    class Move(MethodView):
        @requires(WRITE)
        @idempotent
        @blueprint.response(200, s.ProgrammeSchema, headers=ETAG)
        def post(self, programme_id: str) -> Any:
            command = c.MoveProgramme(programme_id, verb, expected_version(programme_id))
            return _tagged(ops.move_programme(_uow(), command))

    Move.post.__doc__ = doc
    Move.__name__ = f"Programme{verb.capitalize()}"
    return Move


for _verb, _doc in (
    ("open", "Open enrolment (draft -> open; `mentoring.programme.opened`)."),
    ("launch", "Start the programme (open -> running; `mentoring.programme.launched`)."),
    (
        "close",
        "End the programme (running -> closed; `mentoring.programme.closed`): active "
        "pairs complete (`mentoring.pair.ended`, status `completed`).",
    ),
):
    blueprint.route(f"/programmes/<string:programme_id>/{_verb}")(_mover(_verb, _doc))


# -- enrolments ----------------------------------------------------------------------
@blueprint.route("/programmes/<string:programme_id>/enrolments")
class Enrolments(MethodView):
    @requires(READ)
    @blueprint.arguments(ENROLMENT_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.EnrolmentPage)
    def get(
        self, programme_id: str, limit: int, cursor: str | None, role: str | None = None
    ) -> Response:
        """Enrolments in the order they were made; filter by role."""
        return _programme_page(
            programme_id,
            reads.ENROLMENTS,
            reads.ENROLMENTS_BY_CREATION,
            limit,
            cursor,
            role=role or None,
        )

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.EnrolmentWrite)
    @blueprint.response(201, s.EnrolmentSchema)
    def post(self, data: dict[str, Any], programme_id: str) -> Any:
        """Enrol a person known from the registry as mentor or mentee while the programme
        is open (`mentoring.enrolment.accepted`). A mentee's cluster must be active and
        in a MENA country; one enrolment per person and programme (409)."""
        enrolment = ops.enrol(
            _uow(),
            c.Enrol(
                programme_id=programme_id,
                person_id=data["person_id"],
                role=Role(data["role"]),
                languages=tuple(Language(v) for v in data.get("languages", ())),
                competencies=tuple(
                    (Competency(item["competency"]), item["level"])
                    for item in data.get("competencies", ())
                ),
                sectors=tuple(data.get("sectors", ())),
                availability=data.get("availability"),
                capacity=data.get("capacity"),
            ),
        )
        return s.enrolment_view(enrolment), 201


# -- matching and pairs --------------------------------------------------------------
@blueprint.route("/programmes/<string:programme_id>/matching")
class Matching(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, s.MatchingResult)
    def post(self, programme_id: str) -> Any:
        """Propose the optimal pairs for everyone not paired yet; each proposal carries
        its score and reasons. Stored as `proposed` pairs (earlier pending proposals are
        replaced); confirm, reject or override each. Deterministic."""
        return {"proposals": ops.run_matching(_uow(), c.RunMatching(programme_id))}


@blueprint.route("/programmes/<string:programme_id>/pairs")
class ProgrammePairs(MethodView):
    @requires(READ)
    @blueprint.arguments(PAIR_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.PairPage)
    def get(
        self, programme_id: str, limit: int, cursor: str | None, status: str | None = None
    ) -> Response:
        """The programme's pairs and proposals; filter by status."""
        return _programme_page(
            programme_id, reads.PAIRS, reads.PAIRS_BY_CREATION, limit, cursor, status=status or None
        )

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.PairWrite)
    @blueprint.response(201, s.PairSchema)
    def post(self, data: dict[str, Any], programme_id: str) -> Any:
        """A manual pair, active at once (`mentoring.pair.matched`): a shared language,
        different clusters (422) and a free seat with the mentor (409) are still
        required. A pending proposal for the mentee is rejected as overridden."""
        pair = ops.make_pair(_uow(), c.MakePair(programme_id, data["mentor_id"], data["mentee_id"]))
        return pair, 201, {"Location": url_for("mentoring.PairView", pair_id=pair.id)}


@blueprint.route("/me/pairs")
class MyPairs(MethodView):
    @requires(READ, SELF)
    @blueprint.arguments(PAIR_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.PairPage)
    def get(self, limit: int, cursor: str | None, status: str | None = None) -> dict[str, Any]:
        """The caller's own pairs (the token's subject as mentor or mentee), proposals
        left out."""
        query = PairQuery(
            person_id=current_principal().subject, status=PairStatus(status) if status else None
        )
        items = [
            p
            for p in ops.list_pairs(_uow(), query, limit + 1, _time_cursor(cursor))
            if p.was_active
        ]
        return _page(items, limit, lambda p: p.created_at)


@blueprint.route("/pairs/<string:pair_id>")
class PairView(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.PairSchema)
    def get(self, pair_id: str) -> Any:
        """One pair (a participant's own token: only their own)."""
        return _own_pair(pair_id)


@blueprint.route("/pairs/<string:pair_id>/confirm")
class PairConfirm(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, s.PairSchema)
    def post(self, pair_id: str) -> Any:
        """Accept a proposal: the pair is active (`mentoring.pair.matched`); 409 if the
        mentor's seats or the mentee were taken since."""
        return ops.confirm_pair(_uow(), c.ConfirmPair(pair_id))


@blueprint.route("/pairs/<string:pair_id>/reject")
class PairReject(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.Reason)
    @blueprint.response(200, s.PairSchema)
    def post(self, data: dict[str, Any], pair_id: str) -> Any:
        """Turn a proposal down; the combination is not proposed again."""
        return ops.reject_pair(_uow(), c.RejectPair(pair_id, data.get("reason")))


@blueprint.route("/pairs/<string:pair_id>/override")
class PairOverride(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.OverrideWrite)
    @blueprint.response(201, s.PairSchema)
    def post(self, data: dict[str, Any], pair_id: str) -> Any:
        """Replace a proposal's mentor: a manual pair within the hard rules (409/422)."""
        proposal = ops.get_pair(_uow(), pair_id)
        pair = ops.make_pair(
            _uow(),
            c.MakePair(proposal.programme_id, data["mentor_id"], proposal.mentee_id, pair_id),
        )
        return pair, 201, {"Location": url_for("mentoring.PairView", pair_id=pair.id)}


@blueprint.route("/pairs/<string:pair_id>/end")
class PairEnd(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.RequiredReason)
    @blueprint.response(200, s.PairSchema)
    def post(self, data: dict[str, Any], pair_id: str) -> Any:
        """Stop an active pair early (`mentoring.pair.ended`, status `ended`)."""
        return ops.end_pair(_uow(), c.EndPair(pair_id, data["reason"]))


# -- goals ---------------------------------------------------------------------------
@blueprint.route("/pairs/<string:pair_id>/goals")
class PairGoals(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.GoalList)
    def get(self, pair_id: str) -> Any:
        """The pair's goals."""
        _own_pair(pair_id)
        return {"items": ops.list_goals(_uow(), pair_id)}

    @requires(WRITE, SELF)
    @idempotent
    @blueprint.arguments(s.GoalWrite)
    @blueprint.response(201, s.GoalSchema, headers=ETAG)
    def post(self, data: dict[str, Any], pair_id: str) -> Any:
        """Set a goal of an active pair on one of the programme's competencies
        (`mentoring.goal.updated`)."""
        _own_write(pair_id)
        goal = ops.set_goal(
            _uow(),
            c.SetGoal(
                pair_id,
                data["title"],
                Competency(data["competency"]),
                current_principal().subject,
                data["progress"],
            ),
        )
        return _tagged(goal, 201, Location=url_for("mentoring.GoalView", goal_id=goal.id))


@blueprint.route("/goals/<string:goal_id>")
class GoalView(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.GoalSchema, headers=ETAG)
    def get(self, goal_id: str) -> Any:
        """One goal; the ETag names its version."""
        goal, pair = ops.get_goal(_uow(), goal_id)
        _visible_goal(pair, goal_id, READ)
        return _tagged(goal)

    @requires(WRITE, SELF)
    @blueprint.arguments(s.GoalPatch)
    @blueprint.response(200, s.GoalSchema, headers=ETAG)
    def patch(self, data: dict[str, Any], goal_id: str) -> Any:
        """Update progress (0-100), status or title (`mentoring.goal.updated`);
        `If-Match` guards the version."""
        _, pair = ops.get_goal(_uow(), goal_id)
        _visible_goal(pair, goal_id, WRITE)
        status = data.get("status")
        command = c.UpdateGoal(
            goal_id,
            current_principal().subject,
            title=data.get("title"),
            progress=data.get("progress"),
            status=GoalStatus(status) if status else None,
            expected_version=expected_version(goal_id),
        )
        return _tagged(ops.update_goal(_uow(), command))


def _visible_goal(pair: Pair, goal_id: str, scope: str) -> None:
    principal = current_principal()
    if not principal.allows(scope) and principal.subject not in pair.person_ids:
        raise NotFound(f"No goal with id {goal_id!r}.")


# -- sessions ------------------------------------------------------------------------
def _schedule(data: dict[str, Any], pair_ids: tuple[str, ...], programme_id: str | None) -> Any:
    session = ops.schedule_session(
        _uow(),
        c.ScheduleSession(
            kind=SessionKind(data["kind"]),
            pair_ids=pair_ids,
            starts_at=data["starts_at"],
            duration_minutes=data["duration_minutes"],
            timezone=data["timezone"],
            title=data.get("title"),
            online_link=data.get("online_link"),
            agenda=data.get("agenda"),
            programme_id=programme_id,
        ),
    )
    return session, 201, {"Location": url_for("mentoring.SessionView", session_id=session.id)}


@blueprint.route("/pairs/<string:pair_id>/sessions")
class PairSessions(MethodView):
    @requires(READ, SELF)
    @blueprint.arguments(PAGE_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.SessionPage)
    def get(self, pair_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        """The sessions the pair takes part in (bilateral and group), by start time."""
        _own_pair(pair_id)
        items = ops.list_sessions(
            _uow(), pair_id=pair_id, limit=limit + 1, after=_time_cursor(cursor)
        )
        return _page(items, limit, lambda x: x.starts_at)

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.SessionWrite)
    @blueprint.response(201, s.SessionSchema)
    def post(self, data: dict[str, Any], pair_id: str) -> Any:
        """Schedule a bilateral session of an active pair, within the programme's dates
        (`mentoring.session.scheduled`)."""
        return _schedule(data, (pair_id,), None)


@blueprint.route("/programmes/<string:programme_id>/sessions")
class ProgrammeSessions(MethodView):
    @requires(READ)
    @blueprint.arguments(PAGE_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.SessionPage)
    def get(self, programme_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        """Every session of the programme, by start time."""
        items = ops.list_sessions(
            _uow(), programme_id=programme_id, limit=limit + 1, after=_time_cursor(cursor)
        )
        return _page(items, limit, lambda x: x.starts_at)

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.GroupSessionWrite)
    @blueprint.response(201, s.SessionSchema)
    def post(self, data: dict[str, Any], programme_id: str) -> Any:
        """Schedule a group session of several active pairs (`mentoring.session.scheduled`)."""
        return _schedule(data, tuple(data["pair_ids"]), programme_id)


@blueprint.route("/sessions/<string:session_id>")
class SessionView(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.SessionSchema)
    def get(self, session_id: str) -> Any:
        """One session (a participant's own token: only theirs)."""
        return _own_session(session_id)


@blueprint.route("/sessions/<string:session_id>/reschedule")
class SessionReschedule(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.SessionReschedule)
    @blueprint.response(200, s.SessionSchema)
    def post(self, data: dict[str, Any], session_id: str) -> Any:
        """Move a scheduled session (`mentoring.session.rescheduled`)."""
        return ops.reschedule_session(
            _uow(),
            c.RescheduleSession(
                session_id, data["starts_at"], data.get("duration_minutes"), data.get("timezone")
            ),
        )


@blueprint.route("/sessions/<string:session_id>/complete")
class SessionComplete(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.SessionComplete)
    @blueprint.response(200, s.SessionSchema)
    def post(self, data: dict[str, Any], session_id: str) -> Any:
        """Record that it took place, who came and notes, once it has started
        (`mentoring.session.completed`)."""
        return ops.complete_session(
            _uow(), c.CompleteSession(session_id, tuple(data["attended"]), data.get("notes"))
        )


@blueprint.route("/sessions/<string:session_id>/cancel")
class SessionCancel(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.Reason)
    @blueprint.response(200, s.SessionSchema)
    def post(self, data: dict[str, Any], session_id: str) -> Any:
        """Cancel a scheduled session (`mentoring.session.cancelled`)."""
        return ops.cancel_session(_uow(), c.CancelSession(session_id, data.get("reason")))


# -- joint meetings ------------------------------------------------------------------
@blueprint.route("/programmes/<string:programme_id>/meetings")
class Meetings(MethodView):
    @requires(READ)
    @blueprint.arguments(PAGE_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.MeetingPage)
    def get(self, programme_id: str, limit: int, cursor: str | None) -> Response:
        """The programme's joint meetings, by start time."""
        return _programme_page(programme_id, reads.MEETINGS, reads.MEETINGS_BY_START, limit, cursor)

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.MeetingWrite)
    @blueprint.response(201, s.MeetingSchema)
    def post(self, data: dict[str, Any], programme_id: str) -> Any:
        """Schedule a joint meeting of every participant (`mentoring.meeting.scheduled`
        with their person ids: the events service hosts it as an online event)."""
        meeting = ops.schedule_meeting(
            _uow(),
            c.ScheduleMeeting(
                programme_id,
                data["title"],
                data["starts_at"],
                data["ends_at"],
                data["timezone"],
                data["online_link"],
                data.get("agenda"),
            ),
        )
        return meeting, 201, {"Location": url_for("mentoring.MeetingView", meeting_id=meeting.id)}


@blueprint.route("/meetings/<string:meeting_id>")
class MeetingView(MethodView):
    @requires(READ)
    @blueprint.response(200, s.MeetingSchema)
    def get(self, meeting_id: str) -> Response:
        """One joint meeting."""
        with _reading() as connection:
            found = reads.MEETING_BY_ID.get(connection, id=meeting_id)
        if found is None:
            raise NotFound(f"No meeting with id {meeting_id!r}.")
        return json_response(found)


@blueprint.route("/meetings/<string:meeting_id>/reschedule")
class MeetingReschedule(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.MeetingReschedule)
    @blueprint.response(200, s.MeetingSchema)
    def post(self, data: dict[str, Any], meeting_id: str) -> Any:
        """Move a joint meeting (`mentoring.meeting.rescheduled`)."""
        return ops.reschedule_meeting(
            _uow(),
            c.RescheduleMeeting(
                meeting_id, data["starts_at"], data["ends_at"], data.get("timezone")
            ),
        )


@blueprint.route("/meetings/<string:meeting_id>/cancel")
class MeetingCancel(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.Reason)
    @blueprint.response(200, s.MeetingSchema)
    def post(self, data: dict[str, Any], meeting_id: str) -> Any:
        """Cancel a joint meeting (`mentoring.meeting.cancelled`)."""
        return ops.cancel_meeting(_uow(), c.CancelMeeting(meeting_id, data.get("reason")))


# -- feedback ------------------------------------------------------------------------
@blueprint.route("/pairs/<string:pair_id>/feedback")
class PairFeedback(MethodView):
    @requires(READ, SELF)
    @blueprint.response(200, s.FeedbackList)
    def get(self, pair_id: str) -> Any:
        """The pair's feedback with comments (a participant's own token: their own)."""
        _own_pair(pair_id)
        items = ops.list_feedback(_uow(), pair_id)
        if _self_only():
            items = [f for f in items if f.author_id == current_principal().subject]
        return {"items": items}

    @requires(WRITE, SELF)
    @idempotent
    @blueprint.arguments(s.FeedbackWrite)
    @blueprint.response(201, s.FeedbackSchema)
    def post(self, data: dict[str, Any], pair_id: str) -> Any:
        """Rate a completed session of the pair, or the programme (no `session_id`),
        1 to 5 with a comment: by the pair's mentor or mentee themselves (the token's
        subject), once each (`mentoring.feedback.submitted`)."""
        _own_write(pair_id)
        feedback = ops.give_feedback(
            _uow(),
            c.GiveFeedback(
                pair_id,
                current_principal().subject,
                data["rating"],
                data.get("session_id"),
                data.get("comment"),
            ),
        )
        return feedback, 201


# -- the report ----------------------------------------------------------------------
@blueprint.route("/programmes/<string:programme_id>/report")
class Report(MethodView):
    @requires(READ)
    @blueprint.arguments(s.ReportArgs, location="query", as_kwargs=True)
    @blueprint.response(200, s.ReportSchema)
    @blueprint.alt_response(200, schema={"type": "string"}, content_type="text/csv", success=True)
    def get(self, programme_id: str, format: str) -> Any:
        """Per pair: sessions held, attendance rate, goal progress, average rating; and
        the programme's totals. `?format=csv`: one row per pair, then a `total` row."""
        result = ops.report(_uow(), programme_id)
        if format == "csv":
            return Response(
                _csv(result),
                mimetype="text/csv",
                headers={
                    "Content-Disposition": f'attachment; filename="report-{programme_id}.csv"'
                },
            )
        return result


def _csv(result: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=s.REPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in result["pairs"]:
        writer.writerow({k: csv_cell(v) for k, v in row.items() if k in s.REPORT_COLUMNS})
    totals = result["totals"]
    writer.writerow(
        {
            "pair_id": "total",
            "sessions_held": totals["sessions"],
            "attendance_rate": csv_cell(totals["attendance_rate"]),
            "goals": totals["goals"],
            "goal_progress": csv_cell(totals["goal_progress"]),
            "average_rating": csv_cell(totals["average_rating"]),
        }
    )
    return out.getvalue()
