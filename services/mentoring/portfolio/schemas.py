"""HTTP schemas of the portfolio's routes (marshmallow)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.mentoring.portfolio.wording import DEFAULT_LANGUAGE, LANGUAGES

FORMATS = ("html", "pdf")


class PortfolioArgs(Schema):
    lang = fields.String(
        load_default=DEFAULT_LANGUAGE,
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "en (default), fr or ar (right to left)"},
    )
    format = fields.String(
        load_default=None,
        validate=validate.OneOf(FORMATS),
        metadata={"description": "html or pdf; without it, the Accept header decides (HTML)"},
    )


class PublicationSchema(Schema):
    programme_id = fields.String(required=True)
    published = fields.Boolean(required=True)
    published_at = fields.AwareDateTime(allow_none=True)
    url = fields.String(
        allow_none=True,
        metadata={"description": "where it is served without a token, while published"},
    )
