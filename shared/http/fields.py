"""Field validators and builders that every service's HTTP schemas use."""

from __future__ import annotations

from enum import Enum

from marshmallow import ValidationError, fields, validate

COUNTRY_CODE = validate.Regexp(r"^[A-Za-z]{2}$", error="Not an ISO 3166-1 alpha-2 code.")


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def choices(enum: type[Enum]) -> validate.OneOf:
    """One of the enumeration's values."""
    return validate.OneOf([member.value for member in enum])


def text(max_length: int, **kwargs: object) -> fields.String:
    """A string of at most ``max_length`` characters."""
    return fields.String(validate=validate.Length(max=max_length), **kwargs)  # type: ignore[arg-type]
