"""Events published by the registry: clusters, members and people.

Each carries what a subscriber needs to keep its own read copy, so no service ever
has to ask the registry.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.catalogue import Catalogue

KINDS = ("cluster", "technopole", "competitiveness_pole", "association")
LANGUAGES = ("en", "fr", "ar")
ROLES = ("cluster_manager", "governance_team", "expert", "other")
LEVELS = ("bronze", "silver", "gold")
REGIONS = ("mena", "eu", "other")
STATUSES = ("active", "inactive")
SIZE_CLASSES = ("micro", "small", "medium", "large")


class ClusterData(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    acronym = fields.String(allow_none=True)
    country = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2"})
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    city = fields.String(allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    sectors = fields.List(fields.String(), required=True)
    founded = fields.Integer(allow_none=True)
    website = fields.String(allow_none=True)
    members_count = fields.Integer(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    description = fields.String(
        allow_none=True,
        metadata={
            "description": "Added later (an additive change, same version): optional, so "
            "events published before it still fit; a subscriber treats it as absent."
        },
    )


class ClusterUpdated(ClusterData):
    changed = fields.List(fields.String(), required=True)


class ClusterStatusChanged(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    country = fields.String(required=True)
    reason = fields.String(allow_none=True)


class ClusterRemoved(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class LabelData(Schema):
    id = fields.String(required=True)
    scheme = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    awarded_on = fields.Date(required=True)
    valid_until = fields.Date(allow_none=True)


class LabelAwarded(Schema):
    cluster_id = fields.String(required=True)
    cluster_name = fields.String(required=True)
    label = fields.Nested(LabelData, required=True)


class MemberData(Schema):
    id = fields.String(required=True)
    cluster_id = fields.String(required=True)
    name = fields.String(required=True)
    size_class = fields.String(allow_none=True, validate=validate.OneOf(SIZE_CLASSES))
    sector = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    joined_on = fields.Date(required=True)


class MemberLeft(Schema):
    id = fields.String(required=True)
    cluster_id = fields.String(required=True)
    name = fields.String(required=True)
    left_on = fields.Date(required=True)


class PersonData(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    cluster_id = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    phone = fields.String(allow_none=True)


class PersonUpdated(PersonData):
    changed = fields.List(fields.String(), required=True)


class PersonRemoved(Schema):
    id = fields.String(required=True)


def register(catalogue: Catalogue) -> None:
    """Add the registry service's event types to ``catalogue``."""
    _r = catalogue.register
    _r(
        "registry.cluster.registered",
        ClusterData,
        doc="A cluster joined the registry. `description` is optional: added to the data "
        "later, an additive change (events from before it have none).",
    )
    _r(
        "registry.cluster.updated",
        ClusterUpdated,
        doc="A cluster's details changed (`changed` names the fields); `description` as "
        "in `registry.cluster.registered`.",
    )
    _r(
        "registry.cluster.deactivated",
        ClusterStatusChanged,
        doc="A cluster became inactive; its programme activity should stop.",
    )
    _r(
        "registry.cluster.reactivated",
        ClusterStatusChanged,
        doc="An inactive cluster became active again.",
    )
    _r(
        "registry.cluster.removed",
        ClusterRemoved,
        doc="A cluster was deleted from the registry (soft delete); drop read copies.",
    )
    _r(
        "registry.cluster.label_awarded",
        LabelAwarded,
        doc="A cluster was awarded a label (e.g. ESCA bronze, silver, gold).",
    )
    _r("registry.member.joined", MemberData, doc="A company or organisation joined a cluster.")
    _r("registry.member.left", MemberLeft, doc="A company or organisation left a cluster.")
    _r(
        "registry.person.registered",
        PersonData,
        doc="A person joined the registry; carries what notifications need (email, language).",
    )
    _r(
        "registry.person.updated",
        PersonUpdated,
        doc="A person's details changed (`changed` names the fields).",
    )
    _r(
        "registry.person.removed",
        PersonRemoved,
        doc="A person was removed; subscribers drop their personal data.",
    )
