"""HTTP routes of the registry under /api/v1 (thin: schema in, command, use case, schema out)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from services.registry import operations as ops
from services.registry import schemas as s
from services.registry.domain import commands as c
from services.registry.domain.countries import PolicyContext
from services.registry.domain.model import (
    ClusterKind,
    ClusterStatus,
    LabelLevel,
    Language,
    PersonRole,
    Region,
    SizeClass,
)
from services.registry.domain.ports import ClusterQuery, PersonQuery, RegistryUnitOfWork
from shared.auth import current_principal, requires
from shared.errors import Forbidden
from shared.http.etag import etag, expected_version
from shared.http.pagination import decode_cursor, page
from shared.idempotency import idempotent
from shared.service import current_runtime

READ, WRITE = "registry:read", "registry:write"
blueprint = Blueprint(
    "registry", __name__, url_prefix="/api/v1", description="Countries, clusters, members, people"
)


def blueprints() -> list[Blueprint]:
    return [blueprint]


def _uow() -> RegistryUnitOfWork:
    return current_runtime().uow


def _typed(data: Mapping[str, Any], **kinds: Callable[[Any], Any]) -> dict[str, Any]:
    """``data`` with the named fields, where given and not None, in the domain's types."""
    return {
        name: kinds[name](value) if name in kinds and value is not None else value
        for name, value in data.items()
    }


def _tagged(entity: Any, status: int = 200, **headers: str) -> tuple[Any, int, dict[str, str]]:
    return entity, status, {"ETag": etag(entity.id, entity.version), **headers}


# -- countries -----------------------------------------------------------------------
@blueprint.route("/countries")
class Countries(MethodView):
    @requires(READ)
    @blueprint.arguments(s.CountryListArgs, location="query", as_kwargs=True)
    @blueprint.response(200, s.CountryPage)
    def get(self, limit: int, cursor: str | None, **filters: Any) -> dict[str, Any]:
        """Every ISO 3166-1 country, by code; `programme=true` for the programme's."""
        region = filters.get("region")
        items = ops.list_countries(
            _uow(),
            Region(region) if region else None,
            filters.get("programme"),
            limit + 1,
            decode_cursor(cursor, (str,)),
        )
        return page(items, limit, key=lambda country: [country.code])


@blueprint.route("/countries/<string:code>")
class CountryView(MethodView):
    @requires(READ)
    @blueprint.response(200, s.CountrySchema)
    def get(self, code: str) -> Any:
        """One country, with names in en/fr/ar and its cluster-policy context."""
        return ops.get_country(_uow(), code)


@blueprint.route("/countries/<string:code>/policy")
class CountryPolicy(MethodView):
    @requires(WRITE)
    @blueprint.arguments(s.PolicySchema)
    @blueprint.response(200, s.CountrySchema)
    def put(self, policy: dict[str, Any], code: str) -> Any:
        """Replace a country's cluster-policy context."""
        context = PolicyContext(policy["summary"], tuple(policy["facts"]))
        return ops.update_country_policy(_uow(), c.UpdateCountryPolicy(code, context))


# -- clusters ------------------------------------------------------------------------
@blueprint.route("/clusters")
class Clusters(MethodView):
    @requires(READ)
    @blueprint.arguments(s.ClusterListArgs, location="query", as_kwargs=True)
    @blueprint.response(200, s.ClusterPage)
    def get(self, limit: int, cursor: str | None, **filters: Any) -> dict[str, Any]:
        """Clusters by name; filter by country, region, sector, label level, status, `q`."""
        if "country" in filters:
            filters["country"] = filters["country"].upper()
        query = ClusterQuery(
            **_typed(filters, region=Region, label=LabelLevel, status=ClusterStatus)
        )
        items = ops.list_clusters(_uow(), query, limit + 1, decode_cursor(cursor, (str, str)))
        return page(items, limit, key=lambda cluster: [cluster.name, cluster.id])

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.ClusterWrite)
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
    def get(self, cluster_id: str) -> Any:
        """One cluster with its labels; the ETag names its version."""
        return _tagged(ops.get_cluster(_uow(), cluster_id))

    @requires(WRITE)
    @blueprint.arguments(s.ClusterPatch(partial=True))
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
    @blueprint.arguments(s.StatusChange)
    @blueprint.response(200, s.ClusterSchema)
    def post(self, data: dict[str, Any], cluster_id: str) -> Any:
        """Make the cluster inactive (`registry.cluster.deactivated`)."""
        command = c.DeactivateCluster(cluster_id, data.get("reason"), expected_version(cluster_id))
        return _tagged(ops.deactivate_cluster(_uow(), command))


@blueprint.route("/clusters/<string:cluster_id>/reactivate")
class ClusterReactivate(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.StatusChange)
    @blueprint.response(200, s.ClusterSchema)
    def post(self, data: dict[str, Any], cluster_id: str) -> Any:
        """Make an inactive cluster active again (`registry.cluster.reactivated`)."""
        command = c.ReactivateCluster(cluster_id, data.get("reason"), expected_version(cluster_id))
        return _tagged(ops.reactivate_cluster(_uow(), command))


@blueprint.route("/clusters/<string:cluster_id>/labels")
class ClusterLabels(MethodView):
    @requires(READ)
    @blueprint.response(200, s.LabelSchema(many=True))
    def get(self, cluster_id: str) -> Any:
        """The cluster's labels, oldest first."""
        return list(ops.get_cluster(_uow(), cluster_id).labels)

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.LabelSchema)
    @blueprint.response(201, s.LabelSchema)
    def post(self, data: dict[str, Any], cluster_id: str) -> Any:
        """Award a label (`registry.cluster.label_awarded`)."""
        command = c.AwardLabel(cluster_id=cluster_id, **_typed(data, level=LabelLevel))
        return ops.award_label(_uow(), command)


@blueprint.route("/clusters/<string:cluster_id>/members")
class ClusterMembers(MethodView):
    @requires(READ)
    @blueprint.arguments(s.MemberListArgs, location="query", as_kwargs=True)
    @blueprint.response(200, s.MemberPage)
    def get(self, cluster_id: str, limit: int, cursor: str | None, current: bool) -> Any:
        """Companies and organisations of the cluster, by name."""
        items = ops.list_members(
            _uow(), cluster_id, current, limit + 1, decode_cursor(cursor, (str, str))
        )
        return page(items, limit, key=lambda member: [member.name, member.id])

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.MemberWrite)
    @blueprint.response(201, s.MemberSchema)
    def post(self, data: dict[str, Any], cluster_id: str) -> Any:
        """Add a member (`registry.member.joined`)."""
        command = c.AddMember(cluster_id=cluster_id, **_typed(data, size_class=SizeClass))
        return ops.add_member(_uow(), command)


@blueprint.route("/clusters/<string:cluster_id>/members/<string:member_id>/leave")
class ClusterMemberLeave(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.MemberLeave)
    @blueprint.response(200, s.MemberSchema)
    def post(self, data: dict[str, Any], cluster_id: str, member_id: str) -> Any:
        """Record that the member left (`registry.member.left`); the record stays."""
        command = c.RemoveMember(cluster_id, member_id, data.get("left_on"))
        return ops.remove_member(_uow(), command)


# -- people --------------------------------------------------------------------------
@blueprint.route("/people")
class People(MethodView):
    @requires(READ)
    @blueprint.arguments(s.PersonListArgs, location="query", as_kwargs=True)
    @blueprint.response(200, s.PersonPage)
    def get(self, limit: int, cursor: str | None, **filters: Any) -> dict[str, Any]:
        """People by name; filter by cluster, role, language, `q` (name or email)."""
        query = PersonQuery(**_typed(filters, role=PersonRole, language=Language))
        items = ops.list_people(_uow(), query, limit + 1, decode_cursor(cursor, (str, str)))
        return page(items, limit, key=lambda person: [person.name, person.id])

    @requires(WRITE)
    @idempotent
    @blueprint.arguments(s.PersonWrite)
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
    def get(self, person_id: str) -> Any:
        """One person; a `self` token may read only its own record."""
        if not current_principal().may_see_person(person_id, READ):
            raise Forbidden("A self token may read only its own record.")
        return _tagged(ops.get_person(_uow(), person_id))

    @requires(WRITE)
    @blueprint.arguments(s.PersonPatch(partial=True))
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
