"""The catalogue of integration events: every type, its data schema and its version.

Each publishing service declares its types in one module under
``booster.catalogue``. Publishing an unknown type or data that does not fit the
schema fails at the publisher (``make_event``), never at a consumer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow

from shared import context
from shared.events.envelope import CloudEvent

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z_]*){2}$")


class UnknownEventType(LookupError):
    """The event type is not in the catalogue."""


class InvalidEventData(ValueError):
    """The event's data does not fit its catalogued schema."""

    def __init__(self, event_type: str, errors: Mapping[str, Any]) -> None:
        super().__init__(f"invalid data for {event_type}: {dict(errors)}")
        self.errors = dict(errors)


@dataclass(frozen=True)
class EventType:
    """One catalogued event type: ``<service>.<entity>.<past-tense verb>``."""

    name: str
    schema: type[marshmallow.Schema]
    version: int
    doc: str
    validator: marshmallow.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One instance per type: building a schema deep-copies its fields, which cost
        # more than validating the data itself (schemas are reusable across threads).
        object.__setattr__(self, "validator", self.schema())

    @property
    def service(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def dataschema(self) -> str:
        return f"urn:booster:event:{self.name}:v{self.version}"


class Catalogue:
    """A registry of event types (the platform's is assembled by ``booster.catalogue``)."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def register(
        self, name: str, schema: type[marshmallow.Schema], *, version: int = 1, doc: str
    ) -> EventType:
        if not TYPE_PATTERN.match(name):
            raise ValueError(f"event type {name!r} is not <service>.<entity>.<verb>")
        if name in self._types:
            raise ValueError(f"event type {name!r} is registered twice")
        event_type = EventType(name=name, schema=schema, version=version, doc=doc)
        self._types[name] = event_type
        return event_type

    def get(self, name: str) -> EventType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventType(f"unknown event type {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[EventType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def check(self, event_: CloudEvent) -> None:
        """Raise :class:`InvalidEventData` if a received event of a catalogued type does
        not fit its schema (a type unknown here is left to the handlers to judge).

        A consumer is a tolerant reader: fields it does not know, at any depth, are
        ignored, so that a publisher can add an optional field (an additive change,
        same version) before every consumer is deployed with the new catalogue. The
        publisher's own check (:meth:`make_event`) stays strict.
        """
        if event_.type not in self._types:
            return
        errors = _without_unknown_fields(
            self._types[event_.type].validator.validate(dict(event_.data))
        )
        if errors:
            raise InvalidEventData(event_.type, errors)

    def make_event(self, name: str, *, subject: str | None, data: Mapping[str, Any]) -> CloudEvent:
        """Validate ``data`` against the type's schema and wrap it in an envelope.

        The correlation of the work in hand (request or consumed event) is carried
        into the event's ``correlationid`` and ``traceparent`` extensions.
        """
        event_type = self.get(name)
        schema = event_type.validator
        try:
            loaded = schema.load(dict(data))
        except marshmallow.ValidationError as exc:
            raise InvalidEventData(name, exc.normalized_messages()) from exc
        correlation = context.current()
        return CloudEvent(
            type=name,
            source=f"/booster/{event_type.service}",
            subject=subject,
            data=schema.dump(loaded),
            dataschema=event_type.dataschema,
            correlationid=correlation.correlation_id if correlation else None,
            traceparent=context.new_traceparent(correlation.traceparent) if correlation else None,
        )


_UNKNOWN_FIELD = marshmallow.Schema._default_error_messages["unknown"]


def _without_unknown_fields(errors: Mapping[Any, Any]) -> dict[Any, Any]:
    """marshmallow's error tree with every "Unknown field." leaf taken out."""
    kept: dict[Any, Any] = {}
    for key, value in errors.items():
        if isinstance(value, Mapping):
            nested = _without_unknown_fields(value)
            if nested:
                kept[key] = nested
        elif value != [_UNKNOWN_FIELD]:
            kept[key] = value
    return kept
