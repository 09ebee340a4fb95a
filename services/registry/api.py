"""HTTP routes of the registry service under /api/v1."""

from flask_smorest import Blueprint

blueprint = Blueprint(
    "registry",
    __name__,
    url_prefix="/api/v1",
    description="Countries, clusters, labels, members and people",
)


def blueprints() -> list[Blueprint]:
    return [blueprint]
