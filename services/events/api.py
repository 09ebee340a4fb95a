"""HTTP routes of the events service under /api/v1."""

from flask_smorest import Blueprint

blueprint = Blueprint(
    "events",
    __name__,
    url_prefix="/api/v1",
    description="Events, business trips, registrations and waitlists",
)


def blueprints() -> list[Blueprint]:
    return [blueprint]
