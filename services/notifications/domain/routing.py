"""Who hears what: each event type that notifies people, who they are, and how.

One table (:data:`RULES`), documented in ``docs/notifications.md``. Each rule names the
category a person's preferences switch (the publishing service), the recipients (person
ids taken from the event's data), and whether the email carries an ``.ics`` invitation
(``METHOD:REQUEST``) or cancellation (``METHOD:CANCEL``). Every rule notifies on both
channels, email and in-app, each subject to the person's preferences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifications.domain.model import Category, Channel, Invitation

Data = Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    category: Category
    recipients: Callable[[Data], list[str]]
    """The person ids to notify, in order, without repeats."""
    doc: str
    invitation: Invitation | None = None
    channels: tuple[Channel, ...] = (Channel.EMAIL, Channel.IN_APP)


@dataclass(frozen=True)
class Appointment:
    """What an ``.ics`` attachment describes."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    sequence: int
    location: str | None = None
    url: str | None = None


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in ids if i))


def _subject_person(data: Data) -> list[str]:
    return [data["id"]]


def _enrolled(data: Data) -> list[str]:
    return [data["person"]["person_id"]]


def _pair(data: Data) -> list[str]:
    return _unique([data["mentor"]["person_id"], data["mentee"]["person_id"]])


def _participants(data: Data) -> list[str]:
    return _unique(list(data["person_ids"]))


def _registrant(data: Data) -> list[str]:
    return [data["person_id"]]


RULES: dict[str, Rule] = {
    "registry.person.registered": Rule(Category.REGISTRY, _subject_person, "the person: a welcome"),
    "mentoring.enrolment.accepted": Rule(
        Category.MENTORING, _enrolled, "the person enrolled (mentor or mentee)"
    ),
    "mentoring.pair.matched": Rule(Category.MENTORING, _pair, "the mentor and the mentee"),
    "mentoring.pair.ended": Rule(Category.MENTORING, _pair, "the mentor and the mentee"),
    "mentoring.session.scheduled": Rule(
        Category.MENTORING, _participants, "every participant", Invitation.REQUEST
    ),
    "mentoring.session.rescheduled": Rule(
        Category.MENTORING, _participants, "every participant", Invitation.REQUEST
    ),
    "mentoring.session.cancelled": Rule(
        Category.MENTORING, _participants, "every participant", Invitation.CANCEL
    ),
    "events.registration.confirmed": Rule(
        Category.EVENTS, _registrant, "the person registered", Invitation.REQUEST
    ),
    "events.registration.waitlisted": Rule(
        Category.EVENTS, _registrant, "the person waitlisted (with their place)"
    ),
    "events.registration.promoted": Rule(
        Category.EVENTS, _registrant, "the person promoted from the waitlist", Invitation.REQUEST
    ),
    "events.registration.cancelled": Rule(
        Category.EVENTS, _registrant, "the person whose registration ended", Invitation.CANCEL
    ),
    "events.event.rescheduled": Rule(
        Category.EVENTS,
        _participants,
        "every person registered (confirmed or waitlisted): the new time or place",
        Invitation.REQUEST,
    ),
    "events.event.cancelled": Rule(
        Category.EVENTS, _participants, "every person registered", Invitation.CANCEL
    ),
}
"""Event type -> who is notified. A type missing here notifies nobody (webhooks aside).

Some are missing on purpose:

- ``mentoring.meeting.scheduled``, ``.rescheduled`` and ``.cancelled``: the events
  service hosts each joint meeting as an event with every participant registered and
  follows its moves and its cancellation. The hosted event's own events tell each
  person once, with the ``.ics`` their calendar already holds (same UID): the
  invitation is ``events.registration.confirmed``, a move ``events.event.rescheduled``,
  a cancellation ``events.event.cancelled``. Telling the mentoring events as well would
  notify every participant twice, the second time without the calendar update.
- ``events.event.updated``: a change that is not a new time or place (title,
  description, agenda, capacity, deadline, sectors, host) is not worth a message; the
  seats a raised capacity fills are told by ``events.registration.promoted``.
"""


def time_zone(data: Data) -> str:
    """The zone an event's times are shown in: its own, else UTC."""
    zone = data.get("timezone") or (data.get("event") or {}).get("timezone")
    return str(zone) if zone else "UTC"


def appointment(event_type: str, data: Data, sequence: int) -> Appointment | None:
    """What the ``.ics`` of a notification describes, if its rule attaches one. The
    UID is stable: an event's is the one the events service's own ``.ics`` uses, so a
    calendar updates the entry it has instead of adding another."""
    rule = RULES.get(event_type)
    if rule is None or rule.invitation is None:
        return None
    if event_type.startswith("events."):
        event = data["event"] if "event" in data else data
        location = event.get("online_link")
        if event.get("format") != "online" and event.get("city"):
            location = ", ".join(p for p in (event.get("city"), event.get("country")) if p)
        return Appointment(
            uid=f"{event['id']}@booster-track",
            title=event["title"],
            starts_at=datetime.fromisoformat(event["starts_at"]),
            ends_at=datetime.fromisoformat(event["ends_at"]),
            timezone=event["timezone"],
            sequence=sequence,
            location=location,
            url=event.get("online_link"),
        )
    return Appointment(
        uid=f"session-{data['id']}@booster-track",
        title=data["title"],
        starts_at=datetime.fromisoformat(data["starts_at"]),
        ends_at=datetime.fromisoformat(data["ends_at"]),
        timezone=data["timezone"],
        sequence=sequence,
        location=data.get("online_link"),
        url=data.get("online_link"),
    )
