"""The HTTP contract every service shares: problem+json errors, health, metrics, ids, OpenAPI.

A tiny ``demo`` service is built with :func:`shared.http.app.create_service_app`; its
routes raise the platform's errors (and one unexpected ``RuntimeError``) so that each
status can be checked against RFC 9457 and against leaking internals.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.test import TestResponse

from shared.auth import mint_token, requires
from shared.config import Settings
from shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.http import PROBLEM_JSON
from shared.http.app import create_service_app
from tests.conftest import TEST_SECRET

SECRET = TEST_SECRET
LEAKS = ("Traceback", "secret internals", 'File "')
THINGS = {"t1": {"id": "t1", "name": "first", "size": 1, "tags": []}}


class ThingSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    size = fields.Integer(required=True, validate=validate.Range(min=1, max=10))
    tags = fields.List(fields.String(), load_default=list)
    odd_key = fields.String(data_key="a/b~c")


class ListArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))
    name = fields.String()


def make_blueprint() -> Blueprint:
    bp = Blueprint("things", __name__, url_prefix="/api/v1", description="Things.")

    @bp.route("/things")
    class Things(MethodView):
        @requires("demo:read")
        @bp.arguments(ListArgs, location="query")
        @bp.response(200, ThingSchema(many=True))
        def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
            return list(THINGS.values())[: args["limit"]]

        @requires("demo:write")
        @bp.arguments(ThingSchema)
        @bp.response(201, ThingSchema)
        def post(self, data: dict[str, Any]) -> dict[str, Any]:
            if data["name"] == "taken":
                raise Conflict("A thing with this name already exists.")
            if data["name"] == "forbidden-word":
                raise InvalidInput("The name breaks a rule.", errors={"name": ["Not allowed."]})
            return {"id": "new", **data}

    @bp.route("/things/<thing_id>")
    class Thing(MethodView):
        @requires("demo:read")
        @bp.response(200, ThingSchema)
        def get(self, thing_id: str) -> dict[str, Any]:
            try:
                return THINGS[thing_id]
            except KeyError:
                raise NotFound(f"No thing {thing_id}.") from None

        # The scope declared below the smorest decorators works too (functools.wraps).
        @bp.arguments(ThingSchema)
        @bp.response(200, ThingSchema)
        @requires("demo:write")
        def put(self, data: dict[str, Any], thing_id: str) -> dict[str, Any]:
            if request.headers.get("If-Match") != '"v1"':
                raise PreconditionFailed("The thing has changed since you read it.")
            return {"id": thing_id, **data}

    @bp.route("/boom")
    class Boom(MethodView):
        @requires("demo:read")
        def get(self) -> None:
            raise RuntimeError("secret internals")

    @bp.route("/undeclared")
    class Undeclared(MethodView):
        @bp.response(200)
        def get(self) -> dict[str, str]:
            return {"reached": "yes"}

    return bp


def build_app(tmp_path: Path, checks: dict[str, Callable[[], None]] | None = None) -> Flask:
    settings = Settings(environment="test", var_dir=tmp_path, jwt_secret=SECRET)
    return create_service_app("demo", settings, blueprints=[make_blueprint()], checks=checks)


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return build_app(tmp_path, checks={"database": lambda: None})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(scope: str, sub: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, sub, scope, ttl=300)}"}


def read() -> dict[str, str]:
    return bearer("demo:read")


def write() -> dict[str, str]:
    return bearer("demo:write")


VALID_THING = {"name": "second", "size": 2}


def assert_no_leak(response: TestResponse) -> None:
    text = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in text, f"response leaks {leak!r}: {text}"


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = json.loads(response.get_data(as_text=True))
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert_no_leak(response)
    return body


# --- problem+json for every error status -------------------------------------------------


def test_malformed_json_body_is_400(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/things",
        data='{"name": "x", "size": ',
        headers={**write(), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert body["title"] == "Bad request"
    assert "JSONDecodeError" not in response.get_data(as_text=True)


def test_missing_token_is_401(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/things"), 401)
    assert body["title"] == "Unauthorized"


def test_401_carries_www_authenticate(client: FlaskClient) -> None:
    response = client.get("/api/v1/things", headers={"Authorization": "Bearer not-a-jwt"})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_without_scope_is_403(client: FlaskClient) -> None:
    body = assert_problem(client.post("/api/v1/things", json=VALID_THING, headers=read()), 403)
    assert body["title"] == "Forbidden"
    assert "demo:write" in body["detail"]


def test_unknown_route_is_404(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/nowhere", headers=read()), 404)
    assert body["title"] == "Not found"


def test_unknown_route_is_404_without_token(client: FlaskClient) -> None:
    # Routing answers first: an unknown path reveals nothing and needs no token.
    assert_problem(client.get("/api/v1/nowhere"), 404)
    assert_problem(client.get("/not-api-at-all"), 404)


def test_not_found_raised_by_a_route_is_404(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/things/missing", headers=read()), 404)
    assert body["title"] == "Not found"
    assert body["detail"] == "No thing missing."


def test_found_thing_is_200(client: FlaskClient) -> None:
    response = client.get("/api/v1/things/t1", headers=read())
    assert response.status_code == 200
    assert response.get_json()["name"] == "first"


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/things", headers=write())
    body = assert_problem(response, 405)
    assert body["title"] == "Method not allowed"
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "DELETE" not in allowed


def test_wrong_method_on_item_is_405(client: FlaskClient) -> None:
    response = client.post("/api/v1/things/t1", json=VALID_THING, headers=write())
    assert_problem(response, 405)
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "PUT"} <= allowed


def test_conflict_is_409(client: FlaskClient) -> None:
    response = client.post("/api/v1/things", json={"name": "taken", "size": 1}, headers=write())
    body = assert_problem(response, 409)
    assert body["title"] == "Conflict"
    assert body["detail"] == "A thing with this name already exists."


def test_precondition_failed_is_412(client: FlaskClient) -> None:
    response = client.put(
        "/api/v1/things/t1", json=VALID_THING, headers={**write(), "If-Match": '"v0"'}
    )
    body = assert_problem(response, 412)
    assert body["title"] == "Precondition failed"


def test_put_with_matching_if_match_succeeds(client: FlaskClient) -> None:
    response = client.put(
        "/api/v1/things/t1", json=VALID_THING, headers={**write(), "If-Match": '"v1"'}
    )
    assert response.status_code == 200
    assert response.get_json() == {"id": "t1", "name": "second", "size": 2, "tags": []}


def test_scope_declared_below_smorest_decorators_is_enforced(client: FlaskClient) -> None:
    assert_problem(client.put("/api/v1/things/t1", json=VALID_THING, headers=read()), 403)


def test_body_validation_is_422_with_pointers(client: FlaskClient) -> None:
    response = client.post("/api/v1/things", json={"size": 99, "tags": ["ok", 5]}, headers=write())
    body = assert_problem(response, 422)
    assert body["title"] == "Unprocessable content"
    errors = body["errors"]
    assert isinstance(errors, list) and errors
    for error in errors:
        assert set(error) == {"pointer", "detail"}
        assert error["pointer"].startswith("#/")
        assert isinstance(error["detail"], str) and error["detail"]
    by_pointer = {error["pointer"]: error["detail"] for error in errors}
    assert by_pointer["#/name"] == "Missing data for required field."
    assert "#/size" in by_pointer
    assert "#/tags/1" in by_pointer


def test_unknown_body_field_is_422(client: FlaskClient) -> None:
    response = client.post("/api/v1/things", json={**VALID_THING, "colour": "red"}, headers=write())
    body = assert_problem(response, 422)
    assert {"pointer": "#/colour", "detail": "Unknown field."} in body["errors"]


def test_body_pointer_escapes_slash_and_tilde(client: FlaskClient) -> None:
    # RFC 6901: "~" becomes "~0" and "/" becomes "~1" inside a JSON pointer.
    response = client.post("/api/v1/things", json={**VALID_THING, "a/b~c": 7}, headers=write())
    body = assert_problem(response, 422)
    assert [error["pointer"] for error in body["errors"]] == ["#/a~1b~0c"]


def test_body_that_is_not_an_object_is_422(client: FlaskClient) -> None:
    response = client.post("/api/v1/things", json=[1, 2], headers=write())
    body = assert_problem(response, 422)
    assert body["errors"]


@pytest.mark.parametrize(
    ("data", "status"),
    [("{", 400), ("[1, 2]", 422)],
    ids=["malformed-json", "not-an-object"],
)
def test_errors_about_the_whole_body_point_at_the_root(
    client: FlaskClient, data: str, status: int
) -> None:
    response = client.post(
        "/api/v1/things", data=data, headers={**write(), "Content-Type": "application/json"}
    )
    body = assert_problem(response, status)
    assert [error["pointer"] for error in body["errors"]] == ["#"]


def test_body_too_large_is_413_problem(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/things",
        data="x" * (1024 * 1024 + 1),
        headers={**write(), "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_body_too_large_has_a_meaningful_title(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/things",
        data="x" * (1024 * 1024 + 1),
        headers={**write(), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 413)
    assert body["title"] in {"Content too large", "Payload too large"}


def test_valid_body_is_201(client: FlaskClient) -> None:
    response = client.post("/api/v1/things", json=VALID_THING, headers=write())
    assert response.status_code == 201
    assert response.get_json() == {"id": "new", "name": "second", "size": 2, "tags": []}


def test_domain_rule_errors_are_422_with_pointers(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/things", json={"name": "forbidden-word", "size": 1}, headers=write()
    )
    body = assert_problem(response, 422)
    assert body["detail"] == "The name breaks a rule."
    assert body["errors"] == [{"pointer": "#/name", "detail": "Not allowed."}]


def test_query_validation_is_422_with_parameters(client: FlaskClient) -> None:
    response = client.get("/api/v1/things?limit=0", headers=read())
    body = assert_problem(response, 422)
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert set(error) == {"parameter", "detail"}
    assert error["parameter"] == "limit"
    assert error["detail"]


def test_query_not_a_number_is_422(client: FlaskClient) -> None:
    response = client.get("/api/v1/things?limit=lots", headers=read())
    body = assert_problem(response, 422)
    assert [error["parameter"] for error in body["errors"]] == ["limit"]


def test_valid_query_is_200(client: FlaskClient) -> None:
    response = client.get("/api/v1/things?limit=5", headers=read())
    assert response.status_code == 200
    assert response.get_json() == [{"id": "t1", "name": "first", "size": 1, "tags": []}]


def test_unexpected_error_is_500_without_internals(client: FlaskClient) -> None:
    response = client.get("/api/v1/boom", headers=read())
    body = assert_problem(response, 500)
    assert body["title"] == "Internal server error"
    assert body["detail"] == "The server could not complete the request."
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_500_keeps_the_request_id(client: FlaskClient) -> None:
    response = client.get("/api/v1/boom", headers={**read(), "X-Request-ID": "req-500"})
    assert_problem(response, 500)
    assert response.headers["X-Request-ID"] == "req-500"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("post", "/api/v1/things", {"data": "{", "content_type": "application/json"}, 400),
        ("get", "/api/v1/things", {"no_auth": True}, 401),
        ("post", "/api/v1/things", {"json": VALID_THING}, 403),
        ("get", "/api/v1/nowhere", {}, 404),
        ("get", "/api/v1/things/missing", {}, 404),
        ("patch", "/api/v1/things", {}, 405),
        ("get", "/api/v1/undeclared", {}, 403),
        ("get", "/api/v1/things?limit=1000", {}, 422),
        ("get", "/api/v1/boom", {}, 500),
    ],
)
def test_every_error_is_a_problem_without_leaks(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    kwargs = dict(kwargs)
    headers = {} if kwargs.pop("no_auth", False) else dict(read())
    if method == "post" and status == 400:
        headers = dict(write())
    response = getattr(client, method)(path, headers=headers, **kwargs)
    assert_problem(response, status)


# --- deny by default and admin -----------------------------------------------------------


def test_route_without_declared_scope_is_denied(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/undeclared", headers=read()), 403)
    assert "declares no scope" in body["detail"]


def test_route_without_declared_scope_is_denied_even_to_admin(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/undeclared", headers=bearer("admin")), 403)


def test_route_without_declared_scope_still_needs_a_token(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/undeclared"), 401)


def test_admin_passes_any_declared_scope(client: FlaskClient) -> None:
    admin = bearer("admin")
    assert client.get("/api/v1/things", headers=admin).status_code == 200
    assert client.post("/api/v1/things", json=VALID_THING, headers=admin).status_code == 201
    response = client.put(
        "/api/v1/things/t1", json=VALID_THING, headers={**admin, "If-Match": '"v1"'}
    )
    assert response.status_code == 200


def test_any_one_of_several_scopes_suffices(client: FlaskClient) -> None:
    headers = bearer("other:read demo:read")
    assert client.get("/api/v1/things", headers=headers).status_code == 200


def test_scope_of_another_service_is_403(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/things", headers=bearer("registry:read")), 403)


def test_write_scope_does_not_grant_read(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/things", headers=write()), 403)


def test_head_is_allowed_where_get_is(client: FlaskClient) -> None:
    response = client.head("/api/v1/things", headers=read())
    assert response.status_code == 200


# --- health, metrics, OpenAPI ------------------------------------------------------------


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def ops() -> dict[str, str]:
    """Operational detail (/metrics, /readyz checks) needs ops:read (shared.http.admin)."""
    return bearer("ops:read")


def test_readyz_passing(client: FlaskClient) -> None:
    response = client.get("/readyz", headers=ops())
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok"}}
    assert client.get("/readyz").get_json() == {"status": "ready"}  # no detail without it


def test_readyz_without_checks_is_ready(tmp_path: Path) -> None:
    response = build_app(tmp_path).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"


def test_readyz_failing_is_503_problem(tmp_path: Path) -> None:
    def broker() -> None:
        raise ConnectionError("secret internals at amqp://user:password@host")

    app = build_app(tmp_path, checks={"database": lambda: None, "broker": broker})
    assert "checks" not in assert_problem(app.test_client().get("/readyz"), 503)
    response = app.test_client().get("/readyz", headers=ops())
    body = assert_problem(response, 503)
    assert body["title"] == "Service unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unavailable")
    assert "password" not in response.get_data(as_text=True)


def test_metrics_count_requests(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    client.get("/api/v1/things", headers=read())
    response = client.get("/metrics", headers=ops())
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "# TYPE booster_http_requests_total counter" in text
    lines = [line for line in text.splitlines() if line.startswith("booster_http_requests_total")]
    assert any(
        'service="demo"' in line and 'route="/api/v1/things"' in line and 'status="2xx"' in line
        for line in lines
    )
    assert "booster_http_request_duration_seconds" in text


def test_metrics_label_unmatched_routes_by_a_constant(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    # Unknown paths must not create one time series each.
    random_path = uuid.uuid4().hex
    client.get(f"/api/v1/{random_path}")
    text = client.get("/metrics", headers=ops()).get_data(as_text=True)
    assert 'route="<unmatched>"' in text
    assert random_path not in text


def test_openapi_json_needs_no_token(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/things" in spec["paths"]
    assert "/api/v1/things/{thing_id}" in spec["paths"]
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/things"])
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert {"bearerAuth": []} in spec["security"]
    assert "Thing" in spec["components"]["schemas"]


def test_openapi_documents_errors_as_problems(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        content = spec["components"]["responses"][name]["content"]
        assert set(content) == {PROBLEM_JSON}, name


def test_health_endpoints_need_no_token(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert client.get(path).status_code == 200, path
    # /metrics needs ops:read (or the admin listener): tests/security/test_operations.py
    assert client.get("/metrics", headers=ops()).status_code == 200


# --- request and correlation ids ---------------------------------------------------------


def test_request_id_is_echoed(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_request_id_is_generated_when_absent(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert uuid.UUID(first) and uuid.UUID(second)
    assert first != second


def test_request_id_too_long_is_replaced(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert uuid.UUID(response.headers["X-Request-ID"])


def test_correlation_id_is_echoed(client: FlaskClient) -> None:
    response = client.get(
        "/healthz", headers={"X-Correlation-ID": "corr-1", "X-Request-ID": "req-1"}
    )
    assert response.headers["X-Correlation-ID"] == "corr-1"
    assert response.headers["X-Request-ID"] == "req-1"


def test_correlation_id_defaults_to_request_id(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "req-2"})
    assert response.headers["X-Correlation-ID"] == "req-2"


def test_ids_are_on_error_responses_too(client: FlaskClient) -> None:
    response = client.get("/api/v1/things", headers={"X-Request-ID": "req-401"})
    assert_problem(response, 401)
    assert response.headers["X-Request-ID"] == "req-401"
    assert response.headers["X-Correlation-ID"] == "req-401"


def test_a_body_that_is_not_json_gets_415(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/things", data="name=x", content_type="text/plain", headers=write()
    )
    assert_problem(response, 415)
