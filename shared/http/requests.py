"""Request and correlation ids, access logs and HTTP metrics for every request; the
checks on what a request carries (its body, odd characters).

A request body is read and parsed only on a route that takes one (a flask-smorest
``json`` argument), and only after authentication: nothing parses the body of an open
path (``/healthz``, ``/metrics``, an unknown path) or of a request without a valid
token. Size (``MAX_CONTENT_LENGTH``, chunked or not: 413), nesting depth (at most
:data:`MAX_DEPTH`), number syntax (no ``NaN``/``Infinity``, no integer beyond
Python's 4,300 digits) and encoding are checked once, and every failure is a 4xx
problem, never a 500. Log lines stay bounded: the access log cuts the path and labels
the method from a closed set.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import (
    BadRequest,
    RequestEntityTooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)

from shared import context
from shared.logging import get_logger
from shared.metrics import (
    HTTP_LATENCY,
    HTTP_REQUESTS,
    UNMATCHED,
    method_label,
    status_label,
)

REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"
MAX_DEPTH = 32
"""The deepest nesting of arrays and objects a body may have (the API's deepest is 3)."""
MAX_LOGGED_PATH = 256
BODY_LOCATIONS = frozenset({"json", "form", "json_or_form", "files"})
log = get_logger("booster.access")


def install(app: Flask, service: str) -> None:
    """Bind ids to the request's logs and events; log and measure each request."""
    measures = _Measures(service)

    @app.before_request
    def _begin() -> None:
        g.started = time.perf_counter()
        headers = request.headers
        request_id = context.valid_id(headers.get(REQUEST_ID)) or str(uuid.uuid4())
        g.correlation, g.context_tokens = context.begin(
            correlation_id=headers.get(CORRELATION_ID) or request_id,
            traceparent=headers.get("traceparent"),
            request_id=request_id,
        )

    @app.after_request
    def _finish(response: Response) -> Response:
        correlation = g.get("correlation")
        if correlation is not None:
            response.headers[REQUEST_ID] = correlation.request_id or ""
            response.headers[CORRELATION_ID] = correlation.correlation_id
        route = request.url_rule.rule if request.url_rule else UNMATCHED
        method = method_label(request.method)
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        measures.record(method, route, response.status_code, elapsed)
        if route not in ("/healthz", "/metrics"):
            path = request.path
            log.info(
                "request",
                method=method,
                path=path if len(path) <= MAX_LOGGED_PATH else path[:MAX_LOGGED_PATH] + "…",
                status=response.status_code,
                duration_ms=round(elapsed * 1000, 2),
            )
        return response

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        tokens = g.pop("context_tokens", None)
        if tokens is not None:
            context.end(tokens)


class _Measures:
    """The HTTP metrics of one service, each label set's children looked up once (the
    labels come from closed sets: the method, the route's template, the status class)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def record(self, method: str, route: str, status: int, elapsed: float) -> None:
        status_class = status_label(status)
        children = self._children.get((method, route, status_class))
        if children is None:
            children = (
                HTTP_REQUESTS.labels(self.service, method, route, status_class),
                HTTP_LATENCY.labels(self.service, method, route),
            )
            self._children[(method, route, status_class)] = children
        requests, latency = children
        requests.inc()
        latency.observe(elapsed)


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL, which no database stores, and lone UTF-16 surrogates (a JSON ``"\\ud800"``),
which cannot be encoded as UTF-8 at all."""


def check_request_parts(app: Flask, prefix: str = "/api/") -> None:
    """Install after authentication: refuse NUL or a lone surrogate in the path or the
    query (422), and check the body of a route under ``prefix`` that takes one."""

    @app.before_request
    def _check() -> None:
        if UNSTORABLE.search(request.path):
            raise _unstorable("path")
        if any(UNSTORABLE.search(k + v) for k, v in request.args.items(multi=True)):
            raise _unstorable("query")
        if request.path.startswith(prefix) and _takes_body():
            check_json_body()


def takes_body(view: Any) -> bool:
    """True if ``view`` (a flask-smorest view function) reads a request body."""
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(parameter.get("in") in BODY_LOCATIONS for parameter in parameters)


def _takes_body() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
    return view is not None and takes_body(view)


def check_json_body() -> None:
    """Read (bounded) and check the request's JSON body; raise a 4xx if it is refused.

    Flask caches the bytes, so the view's own parsing reads them again without another
    trip to the socket, and cannot fail where this check passed."""
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise
    except (ValueError, OSError):  # a broken chunked stream, a client gone
        raise _bad_body("The request body could not be read.") from None
    max_length = current_app.config.get("MAX_CONTENT_LENGTH")
    if max_length is not None and len(data) >= max_length and request.content_length is None:
        # a chunked body is cut at the limit without a word (Werkzeug's LimitedStream):
        # one more byte from the server's own stream tells whether there was more
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
    if not data:
        return
    if not request.is_json:
        raise UnsupportedMediaType("Send the request body as application/json.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_body("The request body is not UTF-8.") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise _bad_body(TOO_DEEP) from None
    except ValueError:  # JSONDecodeError, an integer past 4,300 digits, NaN/Infinity
        raise _bad_body("The request body is not valid JSON.") from None
    _check_value(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_value(value: object) -> None:
    """Depth at most :data:`MAX_DEPTH` and storable strings, without recursion."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                raise _unstorable("body", pointer=True)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise _bad_body(TOO_DEEP)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


TOO_DEEP = f"The JSON body nests deeper than {MAX_DEPTH} levels."


class _BodyError(BadRequest):
    """A 400 whose one field error points at the whole body (``#``), as webargs' own."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.data = {"messages": {"json": [detail]}}


class _Unstorable(UnprocessableEntity):
    def __init__(self, detail: str, pointer: bool) -> None:
        super().__init__(detail)
        self.data = {"messages": {"json": [detail]}} if pointer else {}


def _bad_body(detail: str) -> BadRequest:
    return _BodyError(detail)


def _unstorable(where: str, *, pointer: bool = False) -> UnprocessableEntity:
    return _Unstorable(
        f"The {where} contains a character that cannot be stored "
        "(NUL, U+0000, or a lone surrogate, U+D800 to U+DFFF).",
        pointer,
    )
