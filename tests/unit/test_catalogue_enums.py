"""The catalogue's enumerations are the domains' own: a value added to a domain enum
(or to the catalogue) without the other fails here.

The catalogue lives in ``shared`` (the contract every service reads) and cannot import
a service, so this test is what ties the two.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum

from marshmallow import Schema, fields, validate

from booster.catalogue import platform_catalogue
from services.events.domain.model import EventFormat, EventKind, EventStatus, RegistrationStatus
from services.mentoring.domain import model as mentoring
from services.notifications.domain.model import Channel
from services.registry.domain.model import (
    ClusterKind,
    ClusterStatus,
    LabelLevel,
    Language,
    PersonRole,
    Region,
    SizeClass,
)
from shared.events import Catalogue

DOMAIN_ENUMS: dict[tuple[str, str], tuple[type[StrEnum] | frozenset[StrEnum], ...]] = {
    ("registry", "kind"): (ClusterKind,),
    ("registry", "status"): (ClusterStatus,),
    ("registry", "region"): (Region,),
    ("registry", "level"): (LabelLevel,),
    ("registry", "language"): (Language,),
    ("registry", "role"): (PersonRole,),
    ("registry", "size_class"): (SizeClass,),
    ("events", "kind"): (EventKind,),
    ("events", "format"): (EventFormat,),
    ("events", "status"): (EventStatus, RegistrationStatus),
    ("mentoring", "competencies"): (mentoring.Competency,),
    ("mentoring", "competency"): (mentoring.Competency,),
    ("mentoring", "status"): (
        mentoring.ProgrammeStatus,
        mentoring.SessionStatus,
        mentoring.GoalStatus,
        mentoring.FINISHED_PAIR,
    ),
    ("mentoring", "role"): (mentoring.Role,),
    ("mentoring", "author_role"): (mentoring.Role,),
    ("mentoring", "language"): (mentoring.Language,),
    ("mentoring", "languages"): (mentoring.Language,),
    ("mentoring", "kind"): (mentoring.SessionKind,),
    ("mentoring", "subject"): (mentoring.FeedbackSubject,),
    ("notifications", "channel"): (Channel,),
}
"""(publishing service, field name) -> the domain enum(s), or a domain set of members,
its choices must equal."""


def _choices(schema: Schema, path: str = "") -> Iterator[tuple[str, str, frozenset[str]]]:
    """Every (path, field name, choices) of an enumerated field, nested ones included."""
    for name, field in schema.fields.items():
        if isinstance(field, fields.Nested):
            yield from _choices(field.schema, f"{path}{name}.")
        checked = [field, field.inner] if isinstance(field, fields.List) else [field]
        for part in checked:
            for validator in part.validators:
                if isinstance(validator, validate.OneOf):
                    yield f"{path}{name}", name, frozenset(map(str, validator.choices))


def _drifts(
    catalogue: Catalogue,
    table: Mapping[tuple[str, str], tuple[type[StrEnum] | frozenset[StrEnum], ...]],
) -> list[str]:
    """What differs between the catalogue's enumerated fields and ``table``."""
    found: list[str] = []
    used: set[tuple[str, str]] = set()
    for event_type in catalogue:
        for path, name, choices in _choices(event_type.validator):
            key = (event_type.service, name)
            if key not in table:
                found.append(f"{event_type.name} {path}: no domain enum is tied to it")
                continue
            used.add(key)
            candidates = [frozenset(e.value for e in enum) for enum in table[key]]
            if choices not in candidates:
                found.append(
                    f"{event_type.name} {path}: {sorted(choices)} differs from the domain's "
                    f"{[sorted(c) for c in candidates]}"
                )
    found.extend(f"stale entry {key}" for key in sorted(set(table) - used))
    return found


def test_every_enumerated_field_of_the_catalogue_matches_its_domain_enum() -> None:
    assert _drifts(platform_catalogue(), DOMAIN_ENUMS) == []


def test_a_drifted_enum_is_caught() -> None:
    class Kind(StrEnum):
        CLUSTER = "cluster"

    class Data(Schema):
        kinds = fields.List(fields.String(validate=validate.OneOf(["cluster", "technopole"])))

    catalogue = Catalogue()
    catalogue.register("demo.thing.made", Data, doc="A thing was made.")

    assert _drifts(catalogue, {("demo", "kinds"): (Kind,)}) == [
        "demo.thing.made kinds: ['cluster', 'technopole'] differs from the domain's [['cluster']]"
    ]
    assert _drifts(catalogue, {}) == ["demo.thing.made kinds: no domain enum is tied to it"]
    assert _drifts(Catalogue(), {("demo", "kinds"): (Kind,)}) == ["stale entry ('demo', 'kinds')"]
