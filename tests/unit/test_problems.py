"""Unit tests for ``shared.http.problems.field_errors``."""

from __future__ import annotations

from typing import Any

import marshmallow
import pytest
from marshmallow import fields

from shared.http.problems import field_errors


def test_nested_messages_flatten_to_pointers_and_parameters() -> None:
    messages = {
        "json": {
            "name": ["Missing data for required field."],
            "address": {"city": ["Not a valid string."]},
            "tags": {"0": ["bad"]},
        },
        "query": {"limit": ["Must be between 1 and 200."]},
    }

    assert field_errors(messages) == [
        {"pointer": "#/name", "detail": "Missing data for required field."},
        {"pointer": "#/address/city", "detail": "Not a valid string."},
        {"pointer": "#/tags/0", "detail": "bad"},
        {"parameter": "limit", "detail": "Must be between 1 and 200."},
    ]


@pytest.mark.parametrize(
    ("name", "pointer"),
    [
        ("a/b", "#/a~1b"),
        ("a~b", "#/a~0b"),
        ("~1", "#/~01"),
        ("/", "#/~1"),
        ("a/b~c", "#/a~1b~0c"),
    ],
)
def test_pointer_segments_are_escaped(name: str, pointer: str) -> None:
    assert field_errors({"json": {name: ["bad"]}}) == [{"pointer": pointer, "detail": "bad"}]


def test_only_the_segment_is_escaped_not_the_separators() -> None:
    messages = {"json": {"a/b": {"c~d": ["bad"]}}}

    assert field_errors(messages) == [{"pointer": "#/a~1b/c~0d", "detail": "bad"}]


def test_each_message_of_a_field_is_its_own_error() -> None:
    messages = {"json": {"email": ["Not a valid email.", "Too long."]}}

    assert field_errors(messages) == [
        {"pointer": "#/email", "detail": "Not a valid email."},
        {"pointer": "#/email", "detail": "Too long."},
    ]


@pytest.mark.parametrize(
    ("location", "key", "where"),
    [
        ("json", "pointer", "#/if_match"),
        ("form", "pointer", "#/if_match"),
        ("query", "parameter", "if_match"),
        ("headers", "header", "if_match"),
        ("files", "pointer", "#/if_match"),
    ],
)
def test_location_decides_the_key(location: str, key: str, where: str) -> None:
    assert field_errors({location: {"if_match": ["bad"]}}) == [{key: where, "detail": "bad"}]


def test_header_error() -> None:
    messages = {"headers": {"If-Match": ["Missing data for required field."]}}

    assert field_errors(messages) == [
        {"header": "If-Match", "detail": "Missing data for required field."}
    ]


def test_nested_query_parameters_join_with_dots() -> None:
    messages = {"query": {"filter": {"country": ["Unknown country."]}}}

    assert field_errors(messages) == [{"parameter": "filter.country", "detail": "Unknown country."}]


def test_integer_keys_become_strings() -> None:
    messages = {"json": {"items": {0: {"qty": ["Must be positive."]}, 3: ["bad"]}}}

    assert field_errors(messages) == [
        {"pointer": "#/items/0/qty", "detail": "Must be positive."},
        {"pointer": "#/items/3", "detail": "bad"},
    ]


def test_non_string_leaf_is_stringified() -> None:
    assert field_errors({"json": {"n": 42}}) == [{"pointer": "#/n", "detail": "42"}]
    assert field_errors({"json": {"n": "single"}}) == [{"pointer": "#/n", "detail": "single"}]


@pytest.mark.parametrize("messages", [{}, {"json": {}}, {"json": {}, "query": {}}])
def test_no_messages_no_errors(messages: dict[str, Any]) -> None:
    assert field_errors(messages) == []


class AddressSchema(marshmallow.Schema):
    city = fields.String(required=True)


class ClusterSchema(marshmallow.Schema):
    name = fields.String(required=True)
    address = fields.Nested(AddressSchema, required=True)
    tags = fields.List(fields.String())
    members = fields.List(fields.Nested(AddressSchema))


def test_real_marshmallow_messages() -> None:
    with pytest.raises(marshmallow.ValidationError) as excinfo:
        ClusterSchema().load(
            {"address": {"city": 5}, "tags": ["ok", 3], "members": [{}], "extra/x": 1}
        )

    errors = field_errors({"json": excinfo.value.normalized_messages()})

    assert sorted(errors, key=lambda e: e["pointer"]) == [
        {"pointer": "#/address/city", "detail": "Not a valid string."},
        {"pointer": "#/extra~1x", "detail": "Unknown field."},
        {"pointer": "#/members/0/city", "detail": "Missing data for required field."},
        {"pointer": "#/name", "detail": "Missing data for required field."},
        {"pointer": "#/tags/1", "detail": "Not a valid string."},
    ]
