"""HTTP routes of the registry under /api/v1 (thin: schema in, command, use case, schema out).

Reads (lists and details) take the read path of ``shared.reads``: the JSON is built from
the selected columns (``adapters/reads.py``) on a Core connection, and the schemas of
``@blueprint.response`` document it (their fields are checked against the projections
below, at import). Argument schemas are instances built once, not once per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.engine import Connection

from services.registry import operations as ops
from services.registry import schemas as s
from services.registry.adapters import reads
from services.registry.domain import commands as c
from services.registry.domain.countries import PolicyContext
from services.registry.domain.model import (
    ClusterKind,
    LabelLevel,
    Language,
    PersonRole,
    SizeClass,
)
from services.registry.domain.ports import RegistryUnitOfWork
from shared.auth import current_principal, requires
from shared.errors import Forbidden, NotFound
from shared.http.etag import etag, expected_version
from shared.http.reads import json_response
from shared.idempotency import idempotent
from shared.reads import read_connection
from shared.service import current_runtime

READ, WRITE = "registry:read", "registry:write"
blueprint = Blueprint(
    "registry", __name__, url_prefix="/api/v1", description="Countries, clusters, members, people"
)


def blueprints() -> list[Blueprint]:
    return [blueprint]


def _uow() -> RegistryUnitOfWork:
    return current_runtime().uow


def _reading() -> AbstractContextManager[Connection]:
    return read_connection(current_runtime().database)


# the read path's projections are the response schemas' fields, in order
reads.COUNTRY.check(s.CountrySchema())
reads.CLUSTER.check(s.ClusterSchema())
reads.MEMBER.check(s.MemberSchema())
reads.PERSON.check(s.PersonSchema())

# argument schemas, built once (webargs would build a schema class on every request)
COUNTRY_LIST_ARGS = s.CountryListArgs()
CLUSTER_LIST_ARGS = s.ClusterListArgs()
MEMBER_LIST_ARGS = s.MemberListArgs()
PERSON_LIST_ARGS = s.PersonListArgs()
POLICY = s.PolicySchema()
CLUSTER_WRITE = s.ClusterWrite()
CLUSTER_PATCH = s.ClusterPatch(partial=True)
STATUS_CHANGE = s.StatusChange()
LABEL = s.LabelSchema()
MEMBER_WRITE = s.MemberWrite()
MEMBER_LEAVE = s.MemberLeave()
PERSON_WRITE = s.PersonWrite()
PERSON_PATCH = s.PersonPatch(partial=True)


def _typed(data: Mapping[str, Any], **kinds: Callable[[Any], Any]) -> dict[str, Any]:
    """``data`` with the named fields, where given and not None, in the domain's types."""
    return {
        name: kinds[name](value) if name in kinds and value is not None else value
        for name, value in data.items()
    }


def _tagged(entity: Any, status: int = 200, **headers: str) -> tuple[Any, int, dict[str, str]]:
    return entity, status, {"ETag": etag(entity.id, entity.version), **headers}


def _tagged_json(item: dict[str, Any]) -> Response:
    return json_response(item, headers={"ETag": etag(item["id"], item["version"])})


# -- countries -----------------------------------------------------------------------
@blueprint.route("/countries")
class Countries(MethodView):
    @requires(READ)
    @blueprint.arguments(COUNTRY_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.CountryPage)
    def get(self, limit: int, cursor: str | None, **filters: Any) -> Response:
        """Every ISO 3166-1 country, by code; `programme=true` for the programme's."""
        with _reading() as connection:
            return json_response(reads.country_page(connection, limit, cursor, **filters))


@blueprint.route("/countries/<string:code>")
class CountryView(MethodView):
    @requires(READ)
    @blueprint.response(200, s.CountrySchema)
    def get(self, code: str) -> Response:
        """One country, with names in en/fr/ar and its cluster-policy context."""
        with _reading() as connection:
            country = reads.COUNTRY_BY_CODE.get(connection, code=code.upper())
        if country is None:
            raise NotFound(f"No country with code {code!r}.")
        return json_response(country)


@blueprint.route("/countries/<string:code>/policy")
class CountryPolicy(MethodView):
    @requires(WRITE)
    @blueprint.arguments(POLICY)
    @blueprint.response(200, s.CountrySchema)
    def put(self, policy: dict[str, Any], code: str) -> Any:
        """Replace a country's cluster-policy context."""
        context = PolicyContext(policy["summary"], tuple(policy["facts"]))
        return ops.update_country_policy(_uow(), c.UpdateCountryPolicy(code, context))


# -- clusters ------------------------------------------------------------------------
@blueprint.route("/clusters")
class Clusters(MethodView):
    @requires(READ)
    @blueprint.arguments(CLUSTER_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.ClusterPage)
    def get(self, limit: int, cursor: str | None, **filters: Any) -> Response:
        """Clusters by name; filter by country, region, sector, label level, status, `q`.

        `q` on PostgreSQL: the clusters with a word similar to `q` in their name or
        acronym (trigram word similarity at least 0.6: its words, the start of a word,
        a typo), best match first; equal matches in name order within a page. The
        cursor then holds the last item's distance and how many items of that distance
        were shown: pages neither repeat nor miss an item unless items of exactly that
        distance are added or removed meanwhile. Without PostgreSQL's pg_trgm (SQLite):
        a case-insensitive substring of the name or acronym, in name order."""
        if "country" in filters:
            filters["country"] = filters["country"].upper()
        with _reading() as connection:
            return json_response(reads.cluster_page(connection, limit, cursor, **filters))

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(CLUSTER_WRITE)
    @blueprint.response(201, s.ClusterSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a cluster (`registry.cluster.registered`)."""
        command = c.RegisterCluster(**_typed(data, kind=ClusterKind, sectors=tuple))
        cluster = ops.register_cluster(_uow(), command)
        location = url_for("registry.ClusterView", cluster_id=cluster.id)
        return _tagged(cluster, 201, Location=location)


@blueprint.route("/clusters/<string:cluster_id>")
class ClusterView(MethodView):
    @requires(READ)
    @blueprint.response(200, s.ClusterSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, cluster_id: str) -> Response:
        """One cluster with its labels; the ETag names its version."""
        with _reading() as connection:
            cluster = reads.CLUSTER_BY_ID.get(connection, id=cluster_id)
        if cluster is None:
            raise NotFound(f"No cluster {cluster_id!r}.")
        return _tagged_json(cluster)

    @requires(WRITE)
    @blueprint.arguments(CLUSTER_PATCH)
    @blueprint.response(200, s.ClusterSchema)
    def patch(self, changes: dict[str, Any], cluster_id: str) -> Any:
        """Change some fields (`registry.cluster.updated`); `If-Match` guards the version."""
        command = c.UpdateCluster(cluster_id, changes, expected_version(cluster_id))
        return _tagged(ops.update_cluster(_uow(), command))

    @requires(WRITE)
    @blueprint.response(204)
    def delete(self, cluster_id: str) -> None:
        """Remove the cluster (soft delete; `registry.cluster.removed`)."""
        ops.remove_cluster(_uow(), c.RemoveCluster(cluster_id, expected_version(cluster_id)))


@blueprint.route("/clusters/<string:cluster_id>/deactivate")
class ClusterDeactivate(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(STATUS_CHANGE)
    @blueprint.response(200, s.ClusterSchema)
    def post(self, data: dict[str, Any], cluster_id: str) -> Any:
        """Make the cluster inactive (`registry.cluster.deactivated`)."""
        command = c.DeactivateCluster(cluster_id, data.get("reason"), expected_version(cluster_id))
        return _tagged(ops.deactivate_cluster(_uow(), command))


@blueprint.route("/clusters/<string:cluster_id>/reactivate")
class ClusterReactivate(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(STATUS_CHANGE)
    @blueprint.response(200, s.ClusterSchema)
    def post(self, data: dict[str, Any], cluster_id: str) -> Any:
        """Make an inactive cluster active again (`registry.cluster.reactivated`)."""
        command = c.ReactivateCluster(cluster_id, data.get("reason"), expected_version(cluster_id))
        return _tagged(ops.reactivate_cluster(_uow(), command))


@blueprint.route("/clusters/<string:cluster_id>/labels")
class ClusterLabels(MethodView):
    @requires(READ)
    @blueprint.response(200, s.LabelSchema(many=True))
    def get(self, cluster_id: str) -> Response:
        """The cluster's labels, oldest first."""
        with _reading() as connection:
            found = reads.CLUSTER_LABELS.get(connection, id=cluster_id)
        if found is None:
            raise NotFound(f"No cluster {cluster_id!r}.")
        return json_response(found["labels"])

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(LABEL)
    @blueprint.response(201, s.LabelSchema)
    def post(self, data: dict[str, Any], cluster_id: str) -> Any:
        """Award a label (`registry.cluster.label_awarded`)."""
        command = c.AwardLabel(cluster_id=cluster_id, **_typed(data, level=LabelLevel))
        return ops.award_label(_uow(), command)


@blueprint.route("/clusters/<string:cluster_id>/members")
class ClusterMembers(MethodView):
    @requires(READ)
    @blueprint.arguments(MEMBER_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.MemberPage)
    def get(self, cluster_id: str, limit: int, cursor: str | None, current: bool) -> Response:
        """Companies and organisations of the cluster, by name."""
        with _reading() as connection:
            if reads.CLUSTER_EXISTS.row(connection, id=cluster_id) is None:
                raise NotFound(f"No cluster {cluster_id!r}.")
            body = reads.member_page(connection, cluster_id, current, limit, cursor)
        return json_response(body)

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(MEMBER_WRITE)
    @blueprint.response(201, s.MemberSchema)
    def post(self, data: dict[str, Any], cluster_id: str) -> Any:
        """Add a member (`registry.member.joined`)."""
        command = c.AddMember(cluster_id=cluster_id, **_typed(data, size_class=SizeClass))
        return ops.add_member(_uow(), command)


@blueprint.route("/clusters/<string:cluster_id>/members/<string:member_id>/leave")
class ClusterMemberLeave(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(MEMBER_LEAVE)
    @blueprint.response(200, s.MemberSchema)
    def post(self, data: dict[str, Any], cluster_id: str, member_id: str) -> Any:
        """Record that the member left (`registry.member.left`); the record stays."""
        command = c.RemoveMember(cluster_id, member_id, data.get("left_on"))
        return ops.remove_member(_uow(), command)


# -- people --------------------------------------------------------------------------
@blueprint.route("/people")
class People(MethodView):
    @requires(READ)
    @blueprint.arguments(PERSON_LIST_ARGS, location="query", as_kwargs=True)
    @blueprint.response(200, s.PersonPage)
    def get(self, limit: int, cursor: str | None, **filters: Any) -> Response:
        """People by name; filter by cluster, role, language, `q` (name or email).

        `q` on PostgreSQL: the people with a word similar to `q` in their name or email
        (trigram word similarity at least 0.6), best match first, paged as for the
        clusters' `q`; without pg_trgm (SQLite): a case-insensitive substring of the
        name or email, in name order."""
        with _reading() as connection:
            return json_response(reads.person_page(connection, limit, cursor, **filters))

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(PERSON_WRITE)
    @blueprint.response(201, s.PersonSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a person (`registry.person.registered`); emails are unique."""
        command = c.RegisterPerson(**_typed(data, language=Language, role=PersonRole))
        person = ops.register_person(_uow(), command)
        location = url_for("registry.PersonView", person_id=person.id)
        return _tagged(person, 201, Location=location)


@blueprint.route("/people/<string:person_id>")
class PersonView(MethodView):
    @requires(READ, "self")
    @blueprint.response(200, s.PersonSchema)
    def get(self, person_id: str) -> Response:
        """One person; a `self` token may read only its own record."""
        if not current_principal().may_see_person(person_id, READ):
            raise Forbidden("A self token may read only its own record.")
        with _reading() as connection:
            person = reads.PERSON_BY_ID.get(connection, id=person_id)
        if person is None:
            raise NotFound(f"No person {person_id!r}.")
        return _tagged_json(person)

    @requires(WRITE)
    @blueprint.arguments(PERSON_PATCH)
    @blueprint.response(200, s.PersonSchema)
    def patch(self, changes: dict[str, Any], person_id: str) -> Any:
        """Change some fields (`registry.person.updated`); `If-Match` guards the version."""
        command = c.UpdatePerson(person_id, changes, expected_version(person_id))
        return _tagged(ops.update_person(_uow(), command))

    @requires(WRITE)
    @blueprint.response(204)
    def delete(self, person_id: str) -> None:
        """Remove the person (`registry.person.removed`); their email is free again."""
        ops.remove_person(_uow(), c.RemovePerson(person_id, expected_version(person_id)))
