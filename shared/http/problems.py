"""Errors as ``application/problem+json`` (RFC 9457), in one table for every service.

Validation errors list each field: ``{"pointer": "#/name", "detail": "..."}`` for the
JSON body (RFC 9457's own example), ``{"parameter": "limit", ...}`` for the query
string, ``{"header": "If-Match", ...}`` for headers. No response carries a traceback.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, json
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from shared.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PlatformError,
    PreconditionFailed,
    Unauthorized,
)
from shared.logging import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger(__name__)

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    414: "URI too long",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
}
STATUSES: dict[type, tuple[int, str]] = {
    PlatformError: (400, "Bad request"),
    Unauthorized: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
    InvalidTransition: (409, "Invalid state transition"),
    PreconditionFailed: (412, "Precondition failed"),
    InvalidInput: (422, "Unprocessable content"),
}
"""How each domain error is shown: status and title (the closest class in the MRO wins)."""
_LOCATION_KEYS = {"json": "pointer", "form": "pointer", "query": "parameter", "headers": "header"}


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages: Mapping[str, Any]) -> list[dict[str, str]]:
    """Flatten webargs/marshmallow messages ``{location: {field: [msg]}}`` into a list."""
    errors: list[dict[str, str]] = []
    for location, fields in messages.items():
        key = _LOCATION_KEYS.get(location, "pointer")
        for path, detail in _walk(fields, ()):
            if path and path[-1] == "_schema":  # marshmallow's schema-level errors
                path = path[:-1]
            if key == "pointer":
                where = "#" + "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)
            else:
                where = ".".join(path)
            errors.append({key: where, "detail": detail})
    return errors


def _walk(node: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    if isinstance(node, Mapping):
        found = []
        for name, child in node.items():
            found.extend(_walk(child, (*path, str(name))))
        return found
    if isinstance(node, list | tuple):
        if all(isinstance(item, str) for item in node):
            return [(path, item) for item in node]
        found = []
        for item in node:
            found.extend(_walk(item, path))
        return found
    return [(path, str(node))]


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug/flask-smorest HTTP errors (including webargs' 422) as problem+json."""
    status = error.code or 500
    if status < 500 and isinstance(error.response, Response):
        if error.response.mimetype == PROBLEM_JSON:
            return error.response  # prepared by the raiser, e.g. a 429 with Retry-After
    if status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error(
                "unhandled error",
                error=repr(original)[:MAX_LOGGED_ERROR],
                traceback=bounded_traceback(original),
            )
        return problem(status, "The server could not complete the request.")
    data = getattr(error, "data", None) or {}
    extra: dict[str, Any] = {}
    messages = data.get("errors") or data.get("messages")
    detail = data.get("message") or error.description
    if isinstance(messages, Mapping):
        extra["errors"] = field_errors(messages)
        if status == 422:
            detail = "The request has invalid fields."
    headers = dict(data.get("headers") or {})
    if status == 405 and error.get_headers():
        headers.update({k: v for k, v in error.get_headers() if k == "Allow"})
    return problem(status, detail, title=TITLES.get(status, error.name), headers=headers, **extra)


class InvalidRequestPart(InvalidInput):
    """Input refused in a part of the request other than the JSON body: ``location``
    is ``query`` or ``headers``, so field errors point at a parameter or a header."""

    def __init__(self, detail: str, *, errors: Mapping[str, Any], location: str) -> None:
        super().__init__(detail, errors=errors)
        self.location = location


def status_of(error: PlatformError) -> tuple[int, str]:
    """The status and title of a domain error, from :data:`STATUSES`."""
    for cls in type(error).__mro__:
        if (found := STATUSES.get(cls)) is not None:
            return found
    return STATUSES[PlatformError]


def handle_platform_error(error: PlatformError) -> Response:
    status, title = status_of(error)
    extra: dict[str, Any] = {}
    if error.errors:
        location = getattr(error, "location", "json")
        extra["errors"] = field_errors({location: error.errors})
    return problem(
        status,
        error.detail or title,
        title=title,
        headers=getattr(error, "headers", None),
        **extra,
    )


MAX_LOGGED_ERROR = 500
MAX_TRACEBACK_FRAMES = 30
"""A traceback is logged with its innermost frames only: one request can never write
more than a few KB (a RecursionError's thousand frames would be ~100 KB)."""


def bounded_traceback(error: BaseException) -> str:
    """The innermost :data:`MAX_TRACEBACK_FRAMES` frames of ``error``'s traceback."""
    lines = traceback.format_exception(error, limit=-MAX_TRACEBACK_FRAMES, chain=False)
    return "".join(lines)[-16_000:]


def handle_unexpected(error: Exception) -> Response:
    """Anything unexpected: logged with its traceback, answered with a bare 500."""
    return handle_http_exception(InternalServerError(original_exception=error))


def handle_integrity_error(error: IntegrityError) -> Response:
    """A constraint the domain's own checks did not catch (a race): a conflict."""
    log.warning("integrity error", error=str(error.orig).splitlines()[0] if error.orig else "")
    return problem(409, "The request conflicts with existing data; read it again and retry.")


def handle_data_error(error: DataError) -> Response:
    """A value the database cannot store that validation let through: the client's 422."""
    log.warning("data error", error=str(error.orig).splitlines()[0] if error.orig else "")
    return problem(422, "A value cannot be stored; check the request's fields.")


def handle_database_unavailable(error: DBAPIError) -> Response:
    """The database went away (restart, failover): the pool is reset; retry shortly."""
    log.warning("database unavailable", error=str(error.orig).splitlines()[0] if error.orig else "")
    return problem(503, "The database is unavailable; retry shortly.", headers={"Retry-After": "1"})


def register_problem_handlers(app: Flask) -> None:
    """Install the handlers; call after flask-smorest's Api so ours win."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(PlatformError, handle_platform_error)
    app.register_error_handler(Exception, handle_unexpected)
