"""HTTP routes of the mentoring service under /api/v1."""

from flask_smorest import Blueprint

blueprint = Blueprint(
    "mentoring",
    __name__,
    url_prefix="/api/v1",
    description="Programmes, enrolments, matching, pairs, sessions and meetings",
)


def blueprints() -> list[Blueprint]:
    return [blueprint]
