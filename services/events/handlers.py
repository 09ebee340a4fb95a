"""Events the events service subscribes to, and their handlers.

It keeps its own read copies of the registry's people and clusters, so that a
registration names a known person and a participant list shows their country and
cluster without asking the registry; a removed person's registrations end. A cluster
that is deactivated or removed changes no registration (a person stays registered when
their cluster leaves): ``registry.cluster.deactivated`` / ``.reactivated`` are not
consumed, ``.removed`` only marks the copy. It hosts the mentoring programme's
meetings as online events (flow 3 of the design), and the hosted event follows when a
meeting is rescheduled or cancelled. Each handler turns the received data (checked
against the catalogue by the consumer) into a command and runs the use case in the
consumer's transaction. The handling table is in ``docs/events-service.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from services.events import operations as ops
from services.events.domain.commands import (
    CancelMeeting,
    ForgetCluster,
    ForgetPerson,
    HostMeeting,
    KeepClusters,
    KeepPeople,
    MoveMeeting,
)
from services.events.domain.model import ClusterChange, PersonChange
from services.events.domain.ports import EventsTx
from shared.bus.consumer import Handler, batched
from shared.events import CloudEvent


def keep_people(events: Sequence[CloudEvent], tx: EventsTx) -> None:
    """registry.person.registered / .updated: keep the newest copy of each person (one
    statement for a run of events)."""
    ops.keep_people(tx, KeepPeople(tuple(_change(event_) for event_ in events)))


people_changed = batched(keep_people)


def person_removed(event_: CloudEvent, tx: EventsTx) -> None:
    """registry.person.removed: end their registrations, then forget them."""
    ops.forget_person(tx, ForgetPerson(event_.data["id"], event_.occurred_at))


def keep_clusters(events: Sequence[CloudEvent], tx: EventsTx) -> None:
    """registry.cluster.registered / .updated: keep the newest copy of each cluster."""
    ops.keep_clusters(tx, KeepClusters(tuple(_cluster(event_) for event_ in events)))


clusters_changed = batched(keep_clusters)


def cluster_removed(event_: CloudEvent, tx: EventsTx) -> None:
    """registry.cluster.removed: the copy is marked removed; registrations stay."""
    data = event_.data
    ops.forget_cluster(tx, ForgetCluster(data["id"], data["name"], event_.occurred_at))


def meeting_scheduled(event_: CloudEvent, tx: EventsTx) -> None:
    """mentoring.meeting.scheduled: host it, every participant registered (flow 3)."""
    ops.host_meeting(tx, _meeting(event_.data))


def meeting_rescheduled(event_: CloudEvent, tx: EventsTx) -> None:
    """mentoring.meeting.rescheduled: the hosted event moves with it."""
    ops.move_meeting(tx, MoveMeeting(_meeting(event_.data)))


def meeting_cancelled(event_: CloudEvent, tx: EventsTx) -> None:
    """mentoring.meeting.cancelled: the hosted event is cancelled."""
    data = event_.data
    ops.cancel_meeting(tx, CancelMeeting(data["id"], data.get("reason"), datetime.now(UTC)))


def _meeting(meeting: Mapping[str, Any]) -> HostMeeting:
    return HostMeeting(
        meeting_id=meeting["id"],
        programme_id=meeting["programme_id"],
        title=meeting["title"],
        starts_at=datetime.fromisoformat(meeting["starts_at"]),
        ends_at=datetime.fromisoformat(meeting["ends_at"]),
        timezone=meeting["timezone"],
        online_link=meeting["online_link"],
        person_ids=tuple(meeting["person_ids"]),
        at=datetime.now(UTC),
    )


def _change(event_: CloudEvent) -> PersonChange:
    data = event_.data
    return PersonChange(
        id=data["id"],
        name=data["name"],
        email=data["email"],
        language=data["language"],
        at=event_.occurred_at,
        cluster_id=data.get("cluster_id"),
        country=_code(data.get("country")),
    )


def _cluster(event_: CloudEvent) -> ClusterChange:
    data = event_.data
    return ClusterChange(
        id=data["id"], name=data["name"], country=_code(data["country"]), at=event_.occurred_at
    )


def _code(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code in upper case; anything else is not kept."""
    if country and len(country) == 2 and country.isalpha():
        return country.upper()
    return None


HANDLERS: Mapping[str, Handler] = {
    "registry.person.registered": people_changed,
    "registry.person.updated": people_changed,
    "registry.person.removed": person_removed,
    "registry.cluster.registered": clusters_changed,
    "registry.cluster.updated": clusters_changed,
    "registry.cluster.removed": cluster_removed,
    "mentoring.meeting.scheduled": meeting_scheduled,
    "mentoring.meeting.rescheduled": meeting_rescheduled,
    "mentoring.meeting.cancelled": meeting_cancelled,
}
"""Event type (or topic pattern) -> handler: the one declaration of what it consumes."""
