"""The OpenAPI side of the HTTP contract: errors documented as problem+json, and
``/docs`` (Swagger UI) served offline.

``/docs`` loads Swagger UI's scripts and styles from the service itself
(``/docs/assets/...``), out of the pinned ``flask-swagger-ui`` package, never from a
CDN: the page renders on a machine without internet access.
"""

from __future__ import annotations

import http
from importlib.resources import files
from pathlib import Path
from typing import Any

import flask
from flask_smorest import Api
from flask_smorest.spec import prepare_response
from marshmallow import Schema, fields

from shared.http.problems import PROBLEM_JSON

SWAGGER_UI_DIST = Path(str(files("flask_swagger_ui") / "dist"))
"""Swagger UI's files (swagger-ui-bundle.js, swagger-ui.css, ...) in the pinned package."""
SWAGGER_UI_CONFIG: dict[str, Any] = {
    "validatorUrl": None,  # the default asks validator.swagger.io about the document
    "deepLinking": True,
    "displayRequestDuration": True,
    "persistAuthorization": False,
}
"""Swagger UI's options; an app's ``OPENAPI_SWAGGER_UI_CONFIG`` adds to them."""
ASSET_MAX_AGE = 24 * 3600


class FieldErrorSchema(Schema):
    """One invalid input: where (a JSON pointer, a parameter or a header) and why."""

    pointer = fields.String(metadata={"description": "JSON pointer into the body, e.g. #/name"})
    parameter = fields.String(metadata={"description": "query parameter"})
    header = fields.String()
    detail = fields.String(required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))
    checks = fields.Dict(keys=fields.String(), values=fields.String())


class BoosterApi(Api):
    """flask-smorest's Api with every error response documented as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_swagger_ui_rule(self, blueprint: flask.Blueprint) -> None:
        """``/docs`` and ``/docs/assets/<file>`` (the packaged Swagger UI), whatever
        ``OPENAPI_SWAGGER_UI_URL`` says: no page of the service loads from elsewhere."""
        path = self.config.get("OPENAPI_SWAGGER_UI_PATH")
        if path is None:
            return
        path = "/" + str(path).strip("/")
        blueprint.add_url_rule(path, endpoint="openapi_swagger_ui", view_func=self._swagger_ui)
        blueprint.add_url_rule(
            f"{path}/assets/<path:filename>",
            endpoint="openapi_swagger_ui_assets",
            view_func=_swagger_ui_asset,
        )

    def _swagger_ui(self) -> str:
        docs = self._make_doc_blueprint_name()
        return flask.render_template(
            "swagger_ui.html",
            title=self.spec.title,
            spec_url=flask.url_for(f"{docs}.openapi_json"),
            swagger_ui_url=flask.url_for(f"{docs}.openapi_swagger_ui") + "/assets/",
            swagger_ui_config={
                **SWAGGER_UI_CONFIG,
                **self.config.get("OPENAPI_SWAGGER_UI_CONFIG", {}),
            },
        )


def _swagger_ui_asset(filename: str) -> flask.Response:
    """One file of Swagger UI's distribution (404 for anything else)."""
    return flask.send_from_directory(SWAGGER_UI_DIST, filename, max_age=ASSET_MAX_AGE)
