"""Request and correlation ids, access logs and HTTP metrics for every request."""

from __future__ import annotations

import re
import time
import uuid
from contextlib import ExitStack

from flask import Flask, Response, g, request
from werkzeug.exceptions import UnprocessableEntity, UnsupportedMediaType

from shared import context
from shared.logging import get_logger
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS

REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"
log = get_logger("booster.access")


def install(app: Flask, service: str) -> None:
    """Bind ids to the request's logs and events; log and measure each request."""

    @app.before_request
    def _begin() -> None:
        g.started = time.perf_counter()
        request_id = context.valid_id(request.headers.get(REQUEST_ID)) or str(uuid.uuid4())
        stack = ExitStack()
        g.correlation = stack.enter_context(
            context.correlated(
                correlation_id=request.headers.get(CORRELATION_ID) or request_id,
                traceparent=request.headers.get("traceparent"),
                request_id=request_id,
            )
        )
        g.context_stack = stack

    @app.after_request
    def _finish(response: Response) -> Response:
        correlation = g.get("correlation")
        if correlation is not None:
            response.headers[REQUEST_ID] = correlation.request_id or ""
            response.headers[CORRELATION_ID] = correlation.correlation_id
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        HTTP_REQUESTS.labels(service, request.method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, request.method, route).observe(elapsed)
        if route not in ("/healthz", "/metrics"):
            log.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round(elapsed * 1000, 2),
            )
        return response

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        stack = g.pop("context_stack", None)
        if stack is not None:
            stack.close()


def require_json_bodies(app: Flask, prefix: str = "/api/") -> None:
    """Refuse (415) a write under ``prefix`` whose body is not JSON; install after auth."""

    @app.before_request
    def _require_json() -> None:
        if request.method in ("POST", "PUT", "PATCH") and request.path.startswith(prefix):
            if (request.content_length or 0) > 0 and not request.is_json:
                raise UnsupportedMediaType("Send the request body as application/json.")


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL, which no database stores, and lone UTF-16 surrogates (a JSON ``"\\ud800"``),
which cannot be encoded as UTF-8 at all."""


def refuse_unstorable_characters(app: Flask) -> None:
    """Refuse (422) NUL or a lone surrogate in the path, the query or JSON strings."""

    @app.before_request
    def _storable() -> None:
        where = None
        if UNSTORABLE.search(request.path):
            where = "path"
        elif any(UNSTORABLE.search(k + v) for k, v in request.args.items(multi=True)):
            where = "query"
        elif request.is_json and _unstorable(request.get_json(silent=True)):
            where = "body"
        if where:
            raise UnprocessableEntity(
                f"The {where} contains a character that cannot be stored "
                "(NUL, U+0000, or a lone surrogate, U+D800 to U+DFFF)."
            )


def _unstorable(value: object) -> bool:
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False
