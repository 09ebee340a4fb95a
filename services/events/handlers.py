"""Events the events service subscribes to, and their handlers.

It keeps its own read copy of the registry's people, so that a registration names a
known person without asking the registry; a removed person's registrations end. It
hosts the mentoring programme's meetings as online events (flow 3 of the design).
Each handler turns the received data (checked against the catalogue by the consumer)
into a command and runs the use case in the consumer's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from services.events import operations as ops
from services.events.domain.commands import ForgetPerson, HostMeeting, KeepPeople
from services.events.domain.model import PersonChange
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


def meeting_scheduled(event_: CloudEvent, tx: EventsTx) -> None:
    """mentoring.meeting.scheduled: host it, every participant registered (flow 3)."""
    meeting = event_.data
    ops.host_meeting(
        tx,
        HostMeeting(
            meeting_id=meeting["id"],
            programme_id=meeting["programme_id"],
            title=meeting["title"],
            starts_at=datetime.fromisoformat(meeting["starts_at"]),
            ends_at=datetime.fromisoformat(meeting["ends_at"]),
            timezone=meeting["timezone"],
            online_link=meeting["online_link"],
            person_ids=tuple(meeting["person_ids"]),
            at=datetime.now(UTC),
        ),
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
    )


HANDLERS: Mapping[str, Handler] = {
    "registry.person.registered": people_changed,
    "registry.person.updated": people_changed,
    "registry.person.removed": person_removed,
    "mentoring.meeting.scheduled": meeting_scheduled,
}
"""Event type (or topic pattern) -> handler: the one declaration of what it consumes."""
