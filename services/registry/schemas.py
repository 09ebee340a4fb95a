"""HTTP schemas of the registry (marshmallow): what comes in, what goes out."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates

from services.registry.domain.model import (
    ClusterKind,
    ClusterStatus,
    LabelLevel,
    Language,
    PersonRole,
    Region,
    SizeClass,
)
from shared.http.fields import COUNTRY_CODE, choices, not_blank, text
from shared.http.pagination import PageArgs, page_schema

PHONE = validate.Regexp(r"^\+?[0-9][0-9 ().-]{4,30}$", error="Not a valid phone number.")


NAME = [validate.Length(min=1, max=200), not_blank]


# -- countries -----------------------------------------------------------------------
class PolicySchema(Schema):
    summary = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    facts = fields.List(fields.String(validate=validate.Length(min=1, max=500)), load_default=list)


class CountrySchema(Schema):
    code = fields.String(required=True)
    names = fields.Method("_names", dump_only=True)
    region = fields.String(validate=choices(Region), required=True)
    programme = fields.Boolean(
        metadata={"description": "A country of the Booster Track programme."}
    )
    policy = fields.Nested(PolicySchema, allow_none=True)

    def _names(self, country: object) -> dict[str, str]:
        return {
            "en": country.name_en,  # type: ignore[attr-defined]
            "fr": country.name_fr,  # type: ignore[attr-defined]
            "ar": country.name_ar,  # type: ignore[attr-defined]
        }


class CountryListArgs(PageArgs):
    region = fields.String(validate=choices(Region))
    programme = fields.Boolean()


CountryPage = page_schema(CountrySchema, "CountryPage")


# -- clusters ------------------------------------------------------------------------
class LabelSchema(Schema):
    id = fields.String(dump_only=True)
    scheme = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=160), not_blank],
        metadata={"example": "ESCA Cluster Management Excellence"},
    )
    level = fields.String(required=True, validate=choices(LabelLevel))
    awarded_on = fields.Date(required=True)
    valid_until = fields.Date(allow_none=True)

    @validates("awarded_on")
    def _not_future(self, value: date, data_key: str) -> None:
        if value > date.today():
            raise ValidationError("Cannot be in the future.")


class ClusterWrite(Schema):
    """Fields a client may set on a cluster (name, country, kind required to create)."""

    name = fields.String(required=True, validate=NAME)
    country = fields.String(required=True, validate=COUNTRY_CODE)
    kind = fields.String(required=True, validate=choices(ClusterKind))
    acronym = text(40, allow_none=True)
    city = text(120, allow_none=True)
    sectors = fields.List(
        fields.String(validate=validate.Length(min=1, max=80)),
        validate=validate.Length(max=20),
    )
    founded = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1800, max=date.today().year)
    )
    website = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=300)
    )
    description = text(5000, allow_none=True)
    members_count = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=1_000_000)
    )


class ClusterPatch(ClusterWrite):
    """Any subset of the writable fields."""


class ClusterSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    acronym = fields.String(allow_none=True)
    country = fields.String(required=True)
    region = fields.String(validate=choices(Region), required=True)
    city = fields.String(allow_none=True)
    kind = fields.String(validate=choices(ClusterKind), required=True)
    sectors = fields.List(fields.String(), required=True)
    founded = fields.Integer(allow_none=True)
    website = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    members_count = fields.Integer(allow_none=True)
    status = fields.String(validate=choices(ClusterStatus), required=True)
    labels = fields.List(fields.Nested(LabelSchema), required=True)
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class ClusterListArgs(PageArgs):
    country = fields.String(validate=COUNTRY_CODE)
    region = fields.String(validate=choices(Region))
    sector = fields.String(validate=validate.Length(min=1, max=80))
    label = fields.String(validate=choices(LabelLevel), metadata={"description": "label level"})
    status = fields.String(validate=choices(ClusterStatus))
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "in names and acronyms; on PostgreSQL similar words, best match "
            "first (see the operation's description)"
        },
    )


ClusterPage = page_schema(ClusterSchema, "ClusterPage")


class StatusChange(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))


# -- members -------------------------------------------------------------------------
class MemberWrite(Schema):
    name = fields.String(required=True, validate=NAME)
    size_class = fields.String(allow_none=True, validate=choices(SizeClass))
    sector = text(80, allow_none=True)
    country = fields.String(allow_none=True, validate=COUNTRY_CODE)
    joined_on = fields.Date(allow_none=True)


class MemberSchema(Schema):
    id = fields.String(required=True)
    cluster_id = fields.String(required=True)
    name = fields.String(required=True)
    size_class = fields.String(validate=choices(SizeClass), allow_none=True)
    sector = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    joined_on = fields.Date(required=True)
    left_on = fields.Date(allow_none=True)


class MemberListArgs(PageArgs):
    current = fields.Boolean(
        load_default=True, metadata={"description": "only members that have not left"}
    )


class MemberLeave(Schema):
    left_on = fields.Date(allow_none=True)


MemberPage = page_schema(MemberSchema, "MemberPage")


# -- people --------------------------------------------------------------------------
class PersonWrite(Schema):
    name = fields.String(required=True, validate=NAME)
    email = fields.Email(required=True, validate=validate.Length(max=320))
    language = fields.String(required=True, validate=choices(Language))
    cluster_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=36))
    role = fields.String(validate=choices(PersonRole))
    phone = fields.String(allow_none=True, validate=PHONE)
    country = fields.String(allow_none=True, validate=COUNTRY_CODE)


class PersonPatch(PersonWrite):
    """Any subset of the writable fields."""


class PersonSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    language = fields.String(validate=choices(Language), required=True)
    cluster_id = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    role = fields.String(validate=choices(PersonRole), required=True)
    phone = fields.String(allow_none=True)
    status = fields.Constant("active")
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class PersonListArgs(PageArgs):
    cluster_id = fields.String(validate=validate.Length(min=1, max=36))
    role = fields.String(validate=choices(PersonRole))
    language = fields.String(validate=choices(Language))
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "in names and emails; on PostgreSQL similar words, best match "
            "first (see the operation's description)"
        },
    )


PersonPage = page_schema(PersonSchema, "PersonPage")
