"""What the events service is asked to do: one command per write use case.

Commands are checked for shape at the edge (the HTTP schemas, or the catalogue for a
received integration event); the domain model checks the rules when the use case runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.events.domain.model import (
    AgendaItem,
    ClusterChange,
    EventFormat,
    EventKind,
    PersonChange,
)


@dataclass(frozen=True)
class CreateEvent:
    """Create an event or business trip as a draft (``events.event.created``)."""

    kind: EventKind
    title: str
    format: EventFormat
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int | None = None
    city: str | None = None
    country: str | None = None
    online_link: str | None = None
    registration_closes_at: datetime | None = None
    description: str | None = None
    agenda: tuple[AgendaItem, ...] = ()
    sectors: tuple[str, ...] = ()
    host_organisation: str | None = None


@dataclass(frozen=True)
class UpdateEvent:
    """Change some of an event's fields (``model.EDITABLE``), guarded by the version the
    caller read (``expected_version``; None: whatever it is now)
    (``events.event.updated``, or ``.rescheduled`` for a published event's time or place)."""

    event_id: str
    changes: Mapping[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True)
class PublishEvent:
    """Open a draft for registration (``events.event.published``)."""

    event_id: str


@dataclass(frozen=True)
class CancelEvent:
    """Cancel an event and every live registration to it (``events.event.cancelled``)."""

    event_id: str
    reason: str | None = None


@dataclass(frozen=True)
class CompleteEvent:
    """Close an event that has ended (``events.event.completed``)."""

    event_id: str


@dataclass(frozen=True)
class Register:
    """Give a person a seat, or a place on the waitlist when the event is full."""

    event_id: str
    person_id: str


@dataclass(frozen=True)
class CancelRegistration:
    """End a registration; a seat it held goes to the first on the waitlist."""

    event_id: str
    registration_id: str
    reason: str | None = None


@dataclass(frozen=True)
class Attend:
    """Record that a confirmed person came (``events.registration.attended``)."""

    event_id: str
    registration_id: str


@dataclass(frozen=True)
class OpenCalendarFeed:
    """Give the person a new secret calendar feed (the previous one stops working)."""

    person_id: str


@dataclass(frozen=True)
class CloseCalendarFeed:
    """Revoke the person's calendar feed."""

    person_id: str


@dataclass(frozen=True)
class KeepPeople:
    """Keep the newest copy of each person among the registry's changes (a batch of
    ``registry.person.registered`` / ``.updated``)."""

    changes: tuple[PersonChange, ...]


@dataclass(frozen=True)
class ForgetPerson:
    """The registry removed the person ``at`` (``registry.person.removed``)."""

    person_id: str
    at: datetime


@dataclass(frozen=True)
class KeepClusters:
    """Keep the newest copy of each cluster among the registry's changes (a batch of
    ``registry.cluster.registered`` / ``.updated``)."""

    changes: tuple[ClusterChange, ...]


@dataclass(frozen=True)
class ForgetCluster:
    """The registry removed the cluster ``at`` (``registry.cluster.removed``): its copy is
    marked removed; registrations are left as they are."""

    cluster_id: str
    name: str
    at: datetime


@dataclass(frozen=True)
class HostMeeting:
    """Host a mentoring meeting as an online event, every participant registered
    (``mentoring.meeting.scheduled``); ``at`` is when the message is handled."""

    meeting_id: str
    programme_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    online_link: str
    person_ids: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class MoveMeeting:
    """A hosted mentoring meeting moved (``mentoring.meeting.rescheduled``): the event
    follows; ``meeting`` is the meeting as it is now."""

    meeting: HostMeeting


@dataclass(frozen=True)
class CancelMeeting:
    """A hosted mentoring meeting was cancelled (``mentoring.meeting.cancelled``)."""

    meeting_id: str
    reason: str | None
    at: datetime
