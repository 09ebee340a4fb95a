"""Unit tests for the CloudEvents envelope, the event catalogue and ``shared.context``."""

from __future__ import annotations

import json
import re
from typing import Any

import marshmallow
import pytest
from marshmallow import fields

from shared import context
from shared.events import (
    CONTENT_TYPE,
    Catalogue,
    CloudEvent,
    EnvelopeError,
    EventType,
    InvalidEventData,
    UnknownEventType,
)

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
PARENT_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN_ID = "b7ad6b7169203331"


class PersonSchema(marshmallow.Schema):
    name = fields.String(required=True)
    born = fields.Date()
    tags = fields.List(fields.String())


@pytest.fixture
def catalogue() -> Catalogue:
    fresh = Catalogue()
    fresh.register("registry.person.registered", PersonSchema, version=2, doc="A person.")
    return fresh


def full_event() -> CloudEvent:
    return CloudEvent(
        type="registry.person.registered",
        source="/booster/registry",
        data={"name": "Amal", "nested": {"list": [1, 2.5, None, True]}, "text": "é ✓"},
        subject="person-1",
        dataschema="urn:booster:event:registry.person.registered:v1",
        correlationid="corr-1",
        traceparent=PARENT,
    )


def minimal_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/booster/registry",
        "type": "registry.person.registered",
        "data": {"name": "Amal"},
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def parts(traceparent: str) -> tuple[str, str, str, str]:
    version, trace_id, span_id, flags = traceparent.split("-")
    return version, trace_id, span_id, flags


# --- envelope -------------------------------------------------------------------------


def test_content_type() -> None:
    assert CONTENT_TYPE == "application/cloudevents+json"


def test_defaults_of_a_new_event() -> None:
    event = CloudEvent(type="registry.person.registered", source="/booster/registry", data={})

    assert event.specversion == "1.0"
    assert event.datacontenttype == "application/json"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", event.id)
    assert event.time.endswith("+00:00")
    assert event.id != CloudEvent(type="a.b.c", source="/s", data={}).id


def test_json_round_trip_keeps_every_attribute() -> None:
    event = full_event()

    raw = event.to_json()

    assert CloudEvent.from_json(raw) == event
    assert CloudEvent.from_json(raw.encode()) == event


def test_to_json_is_structured_mode() -> None:
    event = full_event()

    body = json.loads(event.to_json())

    assert body == {
        "specversion": "1.0",
        "id": event.id,
        "source": "/booster/registry",
        "type": "registry.person.registered",
        "time": event.time,
        "subject": "person-1",
        "datacontenttype": "application/json",
        "dataschema": "urn:booster:event:registry.person.registered:v1",
        "correlationid": "corr-1",
        "traceparent": PARENT,
        "data": event.data,
    }
    assert "é ✓" in event.to_json()


def test_to_dict_leaves_out_absent_optional_attributes() -> None:
    event = CloudEvent(type="registry.person.registered", source="/booster/registry", data={})

    body = event.to_dict()

    assert set(body) == {"specversion", "id", "source", "type", "time", "datacontenttype", "data"}


def test_from_dict_fills_defaults() -> None:
    event = CloudEvent.from_dict(minimal_body(data=...))

    assert event.data == {}
    assert event.subject is None
    assert event.correlationid is None
    assert event.traceparent is None
    assert event.datacontenttype == "application/json"
    assert event.time


@pytest.mark.parametrize(
    "raw",
    ["not json", "", "{", b"\xff\xfe\x00garbage", b"\x80"],
    ids=["text", "empty", "truncated", "bad-bytes", "bad-utf8"],
)
def test_from_json_rejects_non_json(raw: str | bytes) -> None:
    with pytest.raises(EnvelopeError, match="not JSON"):
        CloudEvent.from_json(raw)


@pytest.mark.parametrize("raw", ["[]", "[1, 2]", '"text"', "42", "null", "true"])
def test_from_json_rejects_non_objects(raw: str) -> None:
    with pytest.raises(EnvelopeError, match="JSON object"):
        CloudEvent.from_json(raw)


@pytest.mark.parametrize("missing", ["specversion", "id", "source", "type"])
def test_from_json_rejects_a_missing_required_attribute(missing: str) -> None:
    body = minimal_body(**{missing: ...})

    with pytest.raises(EnvelopeError, match=missing):
        CloudEvent.from_json(json.dumps(body))


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type"])
def test_from_json_rejects_a_required_attribute_that_is_not_a_string(attribute: str) -> None:
    body = minimal_body(**{attribute: 1})

    with pytest.raises(EnvelopeError, match=attribute):
        CloudEvent.from_json(json.dumps(body))


@pytest.mark.parametrize("version", ["0.3", "2.0", "1"])
def test_from_json_rejects_other_spec_versions(version: str) -> None:
    with pytest.raises(EnvelopeError, match="specversion"):
        CloudEvent.from_json(json.dumps(minimal_body(specversion=version)))


@pytest.mark.parametrize("data", [[1, 2], "text", 3, None, True])
def test_from_json_rejects_non_object_data(data: Any) -> None:
    with pytest.raises(EnvelopeError, match="data"):
        CloudEvent.from_json(json.dumps(minimal_body(data=data)))


def test_envelope_error_is_a_value_error() -> None:
    assert issubclass(EnvelopeError, ValueError)


# --- catalogue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "",
        "registry",
        "registry.person",
        "registry.person.registered.again",
        "Registry.person.registered",
        "registry.Person.registered",
        "registry.person-x.registered",
        "registry..registered",
        "1registry.person.registered",
        "registry.person.registered2",
        "registry.person.registered ",
    ],
)
def test_register_rejects_a_badly_named_type(name: str) -> None:
    with pytest.raises(ValueError, match="<service>.<entity>.<verb>"):
        Catalogue().register(name, PersonSchema, doc="x")


@pytest.mark.parametrize(
    "name",
    ["registry.person.registered", "mentoring.pair.matched", "events.joint_meeting.scheduled"],
)
def test_register_accepts_well_named_types(name: str) -> None:
    event_type = Catalogue().register(name, PersonSchema, doc="x")

    assert event_type.name == name


def test_register_rejects_a_duplicate(catalogue: Catalogue) -> None:
    with pytest.raises(ValueError, match="twice"):
        catalogue.register("registry.person.registered", PersonSchema, doc="again")


def test_registered_type(catalogue: Catalogue) -> None:
    event_type = catalogue.get("registry.person.registered")

    assert isinstance(event_type, EventType)
    assert event_type.service == "registry"
    assert event_type.version == 2
    assert event_type.doc == "A person."
    assert event_type.schema is PersonSchema
    assert event_type.dataschema == "urn:booster:event:registry.person.registered:v2"


def test_register_defaults_to_version_1() -> None:
    event_type = Catalogue().register("events.event.published", PersonSchema, doc="x")

    assert event_type.version == 1
    assert event_type.dataschema == "urn:booster:event:events.event.published:v1"


def test_catalogues_are_independent(catalogue: Catalogue) -> None:
    assert "registry.person.registered" in catalogue
    assert "registry.person.registered" not in Catalogue()


def test_contains_and_iterates_in_name_order(catalogue: Catalogue) -> None:
    catalogue.register("mentoring.pair.matched", PersonSchema, doc="x")
    catalogue.register("events.event.published", PersonSchema, doc="x")

    assert "mentoring.pair.matched" in catalogue
    assert "mentoring.pair.unmatched" not in catalogue
    assert 42 not in catalogue
    assert [t.name for t in catalogue] == [
        "events.event.published",
        "mentoring.pair.matched",
        "registry.person.registered",
    ]


def test_get_unknown_type(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownEventType, match="registry.person.removed"):
        catalogue.get("registry.person.removed")
    assert issubclass(UnknownEventType, LookupError)


def test_make_event_unknown_type(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownEventType):
        catalogue.make_event("registry.person.removed", subject="p-1", data={"name": "Amal"})


def test_make_event_builds_the_envelope(catalogue: Catalogue) -> None:
    event = catalogue.make_event(
        "registry.person.registered",
        subject="p-1",
        data={"name": "Amal", "born": "1990-05-17", "tags": ["a", "b"]},
    )

    assert event.type == "registry.person.registered"
    assert event.source == "/booster/registry"
    assert event.subject == "p-1"
    assert event.dataschema == "urn:booster:event:registry.person.registered:v2"
    assert event.data == {"name": "Amal", "born": "1990-05-17", "tags": ["a", "b"]}
    assert event.specversion == "1.0"
    assert CloudEvent.from_json(event.to_json()) == event


def test_make_event_source_names_the_publishing_service() -> None:
    catalogue = Catalogue()
    catalogue.register("notifications.email.sent", PersonSchema, doc="x")

    event = catalogue.make_event("notifications.email.sent", subject=None, data={"name": "x"})

    assert event.source == "/booster/notifications"
    assert event.subject is None
    assert "subject" not in event.to_dict()


def test_make_event_does_not_keep_a_reference_to_the_callers_data(catalogue: Catalogue) -> None:
    data = {"name": "Amal", "tags": ["a"]}

    event = catalogue.make_event("registry.person.registered", subject="p-1", data=data)
    data["name"] = "changed"

    assert event.data["name"] == "Amal"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "name"),
        ({"name": 12}, "name"),
        ({"name": "Amal", "born": "yesterday"}, "born"),
        ({"name": "Amal", "unknown": 1}, "unknown"),
    ],
)
def test_make_event_rejects_invalid_data(
    catalogue: Catalogue, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEventData) as excinfo:
        catalogue.make_event("registry.person.registered", subject="p-1", data=data)

    assert field in excinfo.value.errors
    assert "registry.person.registered" in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_invalid_event_data_errors_name_each_field(catalogue: Catalogue) -> None:
    with pytest.raises(InvalidEventData) as excinfo:
        catalogue.make_event("registry.person.registered", subject="p-1", data={"tags": ["ok", 3]})

    assert excinfo.value.errors == {
        "name": ["Missing data for required field."],
        "tags": {1: ["Not a valid string."]},
    }


# --- correlation ----------------------------------------------------------------------


def test_make_event_outside_a_correlation_has_no_correlation(catalogue: Catalogue) -> None:
    assert context.current() is None

    event = catalogue.make_event("registry.person.registered", subject="p", data={"name": "A"})

    assert event.correlationid is None
    assert event.traceparent is None
    assert "correlationid" not in event.to_dict()
    assert "traceparent" not in event.to_dict()


def test_make_event_inside_a_correlation_carries_it(catalogue: Catalogue) -> None:
    with context.correlated("corr-1", PARENT) as correlation:
        event = catalogue.make_event("registry.person.registered", subject="p", data={"name": "A"})

    assert event.correlationid == "corr-1"
    assert event.to_dict()["correlationid"] == "corr-1"
    assert event.traceparent is not None
    assert TRACEPARENT.match(event.traceparent)
    _, trace_id, span_id, flags = parts(event.traceparent)
    assert trace_id == PARENT_TRACE_ID
    assert span_id != PARENT_SPAN_ID
    assert span_id != parts(correlation.traceparent)[2]
    assert flags == "01"
    assert event.to_dict()["traceparent"] == event.traceparent


def test_correlated_sets_and_resets_the_current_correlation() -> None:
    assert context.current() is None

    with context.correlated("corr-1", PARENT, request_id="req-1") as correlation:
        assert context.current() is correlation
        assert correlation.correlation_id == "corr-1"
        assert correlation.request_id == "req-1"
        _, trace_id, span_id, _ = parts(correlation.traceparent)
        assert trace_id == PARENT_TRACE_ID
        assert span_id != PARENT_SPAN_ID

    assert context.current() is None


def test_correlated_resets_after_an_exception() -> None:
    with pytest.raises(RuntimeError), context.correlated("corr-1"):
        raise RuntimeError("boom")

    assert context.current() is None


def test_nested_correlations_restore_the_outer_one() -> None:
    with context.correlated("outer") as outer:
        with context.correlated("inner") as inner:
            assert context.current() is inner
        assert context.current() is outer


def test_correlated_without_ids_makes_new_ones() -> None:
    with context.correlated() as first, context.correlated() as second:
        pass

    assert first.correlation_id != second.correlation_id
    assert TRACEPARENT.match(first.traceparent)
    assert parts(first.traceparent)[1] != parts(second.traceparent)[1]
    assert first.request_id is None


@pytest.mark.parametrize("bad", ["x" * 129, "a\nb", "caf\u00e9", "\x00", ""])
def test_correlated_replaces_an_invalid_correlation_id(bad: str) -> None:
    with context.correlated(bad) as correlation:
        pass

    assert correlation.correlation_id != bad
    assert context.valid_id(correlation.correlation_id) == correlation.correlation_id


# --- traceparent and ids --------------------------------------------------------------


def test_new_traceparent_is_a_child_of_a_valid_parent() -> None:
    child = context.new_traceparent(PARENT)

    assert TRACEPARENT.match(child)
    version, trace_id, span_id, flags = parts(child)
    assert (version, trace_id, flags) == ("00", PARENT_TRACE_ID, "01")
    assert span_id != PARENT_SPAN_ID


def test_new_traceparent_keeps_the_parents_flags() -> None:
    child = context.new_traceparent(f"00-{PARENT_TRACE_ID}-{PARENT_SPAN_ID}-00")

    assert parts(child)[3] == "00"


def test_new_traceparent_makes_new_span_ids() -> None:
    spans = {parts(context.new_traceparent(PARENT))[2] for _ in range(20)}

    assert len(spans) == 20


@pytest.mark.parametrize(
    "parent",
    [
        None,
        "",
        "garbage",
        PARENT.upper(),
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
        PARENT + "-extra",
        " " + PARENT,
    ],
)
def test_new_traceparent_with_an_invalid_parent_starts_a_new_trace(parent: str | None) -> None:
    fresh = context.new_traceparent(parent)

    assert TRACEPARENT.match(fresh)
    version, trace_id, _, flags = parts(fresh)
    assert version == "00"
    assert trace_id != PARENT_TRACE_ID
    assert flags == "01"


@pytest.mark.parametrize(
    "parent",
    [
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    ],
    ids=["zero-trace-id", "zero-parent-id"],
)
def test_new_traceparent_refuses_all_zero_ids(parent: str) -> None:
    fresh = context.new_traceparent(parent)

    assert parts(fresh)[1] != parts(parent)[1]


def test_new_traceparent_without_parent_is_random() -> None:
    assert parts(context.new_traceparent())[1] != parts(context.new_traceparent())[1]


@pytest.mark.parametrize("value", ["corr-1", "a", "x" * 128, "Req 42 (retry)", "~!@#$%^&*"])
def test_valid_id_accepts_short_printable_ascii(value: str) -> None:
    assert context.valid_id(value) == value


@pytest.mark.parametrize(
    "value",
    [None, "", "x" * 129, "a\nb", "tab\tbed", "\x00", "bell\x07", "\x7f", "caf\u00e9", "\u200b"],
)
def test_valid_id_refuses_long_empty_or_non_printable_values(value: str | None) -> None:
    assert context.valid_id(value) is None


def test_valid_id_honours_max_length() -> None:
    assert context.valid_id("abcd", max_length=4) == "abcd"
    assert context.valid_id("abcde", max_length=4) is None


# --- tolerant reading at the consumer ------------------------------------------------


def _nested_catalogue() -> Catalogue:
    class Label(marshmallow.Schema):
        level = fields.String(required=True)

    class Cluster(marshmallow.Schema):
        name = fields.String(required=True)
        labels = fields.List(fields.Nested(Label), load_default=list)

    catalogue = Catalogue()
    catalogue.register("registry.cluster.registered", Cluster, doc="test")
    return catalogue


def test_a_consumer_ignores_fields_added_by_a_newer_publisher_at_any_depth() -> None:
    catalogue = _nested_catalogue()
    received = CloudEvent(
        type="registry.cluster.registered",
        source="/booster/registry",
        subject="c-1",
        data={"name": "Dinamo", "description": "new", "labels": [{"level": "gold", "x": 1}]},
    )

    catalogue.check(received)  # no InvalidEventData


def test_a_consumer_still_refuses_data_that_breaks_the_known_fields() -> None:
    catalogue = _nested_catalogue()
    received = CloudEvent(
        type="registry.cluster.registered",
        source="/booster/registry",
        subject="c-1",
        data={"description": "new", "labels": [{"level": 3, "x": 1}]},
    )

    with pytest.raises(InvalidEventData) as excinfo:
        catalogue.check(received)

    assert excinfo.value.errors == {
        "name": ["Missing data for required field."],
        "labels": {0: {"level": ["Not a valid string."]}},
    }


def test_the_publisher_stays_strict_about_unknown_fields() -> None:
    with pytest.raises(InvalidEventData):
        _nested_catalogue().make_event(
            "registry.cluster.registered", subject="c-1", data={"name": "D", "extra": 1}
        )
