"""The OpenAPI side of the HTTP contract: errors documented as problem+json."""

from __future__ import annotations

import http

from flask_smorest import Api
from flask_smorest.spec import prepare_response
from marshmallow import Schema, fields

from shared.http.problems import PROBLEM_JSON


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
