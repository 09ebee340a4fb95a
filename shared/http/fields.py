"""Field validators and builders that every service's HTTP schemas use."""

from __future__ import annotations

from enum import Enum
from functools import cache

import pycountry
from marshmallow import ValidationError, fields, validate


@cache
def _iso_alpha_2() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def known_country(value: str) -> None:
    """An ISO 3166-1 alpha-2 code that names a country (any case)."""
    if value.upper() not in _iso_alpha_2():
        raise ValidationError("Not an ISO 3166-1 alpha-2 country code.")


COUNTRY_CODE = [
    validate.Regexp(r"^[A-Za-z]{2}$", error="Not an ISO 3166-1 alpha-2 code."),
    known_country,
]
"""Two letters (the pattern OpenAPI shows) that name a country."""


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def choices(enum: type[Enum]) -> validate.OneOf:
    """One of the enumeration's values."""
    return validate.OneOf([member.value for member in enum])


def text(max_length: int, **kwargs: object) -> fields.String:
    """A string of at most ``max_length`` characters."""
    return fields.String(validate=validate.Length(max=max_length), **kwargs)  # type: ignore[arg-type]
