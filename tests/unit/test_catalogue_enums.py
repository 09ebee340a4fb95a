"""The catalogue's enumerations are the domains' own: a value added to a domain enum
(or to the catalogue) without the other fails here.

The catalogue lives in ``shared`` (the contract every service reads) and cannot import
a service, so this test is what ties the two.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def test_every_enumerated_field_of_the_catalogue_matches_its_domain_enum() -> None:
    used: set[tuple[str, str]] = set()
    for event_type in platform_catalogue():
        for path, name, choices in _choices(event_type.validator):
            key = (event_type.service, name)
            assert key in DOMAIN_ENUMS, f"{event_type.name} {path}: no domain enum is tied to it"
            used.add(key)
            candidates = [frozenset(e.value for e in enum) for enum in DOMAIN_ENUMS[key]]
            assert choices in candidates, (
                f"{event_type.name} {path}: {sorted(choices)} differs from the domain's "
                f"{[sorted(c) for c in candidates]}"
            )
    assert used == set(DOMAIN_ENUMS), f"stale entries: {set(DOMAIN_ENUMS) - used}"


def test_a_drifted_enum_is_caught() -> None:
    class Kinds(StrEnum):
        CLUSTER = "cluster"

    class Data(Schema):
        kind = fields.String(validate=validate.OneOf(["cluster", "technopole"]))

    [(_, _, choices)] = list(_choices(Data()))
    assert choices != frozenset(e.value for e in Kinds)
