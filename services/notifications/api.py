"""HTTP routes of the notifications service under /api/v1."""

from flask_smorest import Blueprint

blueprint = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1",
    description="Recipients, preferences, in-app inbox, email and webhooks",
)


def blueprints() -> list[Blueprint]:
    return [blueprint]
