"""The CloudEvents 1.0 envelope, structured JSON mode (``application/cloudevents+json``)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CONTENT_TYPE = "application/cloudevents+json"
SPEC_VERSION = "1.0"
_REQUIRED = ("specversion", "id", "source", "type")


class EnvelopeError(ValueError):
    """A message body that is not a valid CloudEvents 1.0 structured JSON event."""


@dataclass(frozen=True)
class CloudEvent:
    """One integration event. ``type`` is also the AMQP routing key."""

    type: str
    source: str
    data: dict[str, Any]
    subject: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    dataschema: str | None = None
    correlationid: str | None = None
    traceparent: str | None = None
    datacontenttype: str = "application/json"
    specversion: str = SPEC_VERSION

    @property
    def occurred_at(self) -> datetime:
        """``time`` as an aware UTC datetime: when the publisher made the change, which
        orders changes to one entity that arrive out of order."""
        at = datetime.fromisoformat(self.time)
        return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)

    def to_dict(self) -> dict[str, Any]:
        """The structured-mode JSON object, without absent optional attributes."""
        body = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "subject": self.subject,
            "datacontenttype": self.datacontenttype,
            "dataschema": self.dataschema,
            "correlationid": self.correlationid,
            "traceparent": self.traceparent,
            "data": self.data,
        }
        return {key: value for key, value in body.items() if value is not None}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, body: Any) -> CloudEvent:
        if not isinstance(body, dict):
            raise EnvelopeError("a CloudEvent must be a JSON object")
        missing = [name for name in _REQUIRED if not isinstance(body.get(name), str)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents attributes: {', '.join(missing)}")
        if body["specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"unsupported specversion {body['specversion']!r}")
        data = body.get("data", {})
        if not isinstance(data, dict):
            raise EnvelopeError("data must be a JSON object")
        return cls(
            type=body["type"],
            source=body["source"],
            data=data,
            subject=body.get("subject"),
            id=body["id"],
            time=body.get("time") or datetime.now(UTC).isoformat(),
            dataschema=body.get("dataschema"),
            correlationid=body.get("correlationid"),
            traceparent=body.get("traceparent"),
            datacontenttype=body.get("datacontenttype", "application/json"),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        try:
            return cls.from_dict(json.loads(raw))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EnvelopeError(f"not JSON: {exc}") from exc
