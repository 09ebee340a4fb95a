"""Events, business trips and their registrations, the rules of the waitlist, changes
to an event, and the read copies of the registry's people and clusters.

An event holds its own count of confirmed seats and a registration sequence; every
change to its registrations happens with the event locked (see the operations), so
capacity is never exceeded and the waitlist keeps the order in which people asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from shared.errors import Conflict, InvalidInput, InvalidTransition
from shared.zones import is_iana_zone


class EventKind(StrEnum):
    LAUNCH = "launch"
    JOINT_MEETING = "joint_meeting"
    BUSINESS_TRIP = "business_trip"
    WEBINAR = "webinar"
    WORKSHOP = "workshop"
    FAIR = "fair"


class EventFormat(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
"""Registrations that hold a seat or a place in the queue."""


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


def _invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={name: [message]})


def check_timezone(name: str) -> str:
    """An IANA time zone name, or a 422."""
    if not is_iana_zone(name):
        raise _invalid("timezone", f"{name!r} is not an IANA time zone.")
    return name


def tidy(text: str) -> str:
    """Inner runs of white space as one space, none at the ends."""
    return " ".join(text.split())


def sector_names(sectors: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Sectors as the service keeps them: tidy, lower case, each once, in the order given
    (sectors are free strings; lower case makes ``?sector=`` match however they were typed)."""
    return tuple(dict.fromkeys(tidy(sector).lower() for sector in sectors if sector.strip()))


@dataclass(frozen=True)
class AgendaItem:
    """One item of an event's programme: when it starts, what it is, and who speaks."""

    starts_at: datetime
    title: str
    speaker: str | None = None


EDITABLE = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "city",
    "country",
    "online_link",
    "capacity",
    "registration_closes_at",
    "agenda",
    "sectors",
    "host_organisation",
)
"""What a change to an event (``PATCH``) may set, in the order ``changed`` lists them."""
TIME_AND_PLACE = frozenset({"starts_at", "ends_at", "timezone", "city", "country", "online_link"})
"""Changed on a published event, these reschedule it (``events.event.rescheduled``):
participants must hear of a new time or a new place (an online event's place is its link)."""


@dataclass(frozen=True)
class Event:
    """An event or business trip; ``capacity`` None means no limit (e.g. a webinar)."""

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
    """Business trips: the sectors targeted (free lower-case strings)."""
    host_organisation: str | None = None
    """Business trips: the organisation that hosts the delegation."""
    status: EventStatus = EventStatus.DRAFT
    confirmed: int = 0
    registrations: int = 0
    id: str = field(default_factory=new_id)
    version: int = 1
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        check_timezone(self.timezone)
        if self.ends_at <= self.starts_at:
            raise _invalid("ends_at", "An event must end after it starts.")
        closes = self.registration_closes_at
        if closes is not None and closes > self.starts_at:
            raise _invalid(
                "registration_closes_at", "Registration must close before the event starts."
            )
        if self.capacity is not None and self.capacity < 1:
            raise _invalid("capacity", "Capacity must be at least 1 (or left out for no limit).")
        if self.format is not EventFormat.ONLINE and not (self.city and self.country):
            raise _invalid("city", "An in-person or hybrid event needs a city and a country.")
        if self.kind is not EventKind.BUSINESS_TRIP:
            for name in ("sectors", "host_organisation"):
                if getattr(self, name):
                    raise _invalid(
                        name, "Only a business trip has sectors and a host organisation."
                    )
        for index, item in enumerate(self.agenda):
            if not self.starts_at <= item.starts_at < self.ends_at:
                message = "An agenda item must start while the event runs."
                raise InvalidInput(
                    message, errors={"agenda": {str(index): {"starts_at": [message]}}}
                )

    @property
    def closes_at(self) -> datetime:
        """When registration closes: as set, else when the event starts."""
        return self.registration_closes_at or self.starts_at

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.confirmed, 0)

    @property
    def place(self) -> dict[str, object]:
        """Its time and place: what a rescheduling changes (see :data:`TIME_AND_PLACE`)."""
        return {name: getattr(self, name) for name in sorted(TIME_AND_PLACE)}

    def change(self, changes: Mapping[str, object], at: datetime) -> tuple[Event, tuple[str, ...]]:
        """The event with ``changes`` applied (a new version), and the names of the fields
        that differ; the event itself and ``()`` if nothing does.

        Only a draft or a published event that has not started changes. Moving the start
        moves the agenda with it (unless the change sets the agenda too); a published
        event cannot move into the past; the capacity never drops below the seats taken
        (a raise is filled from the waitlist by the use case).
        """
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise InvalidInput(f"These fields cannot be changed: {', '.join(unknown)}.")
        if self.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise InvalidTransition(f"A {self.status} event cannot be changed.")
        published = self.status is EventStatus.PUBLISHED
        if published and at >= self.starts_at:
            raise InvalidTransition("An event that has started cannot be changed.")
        values = dict(changes)
        for name in ("title", "starts_at", "ends_at", "timezone"):
            if name in values and values[name] is None:
                raise _invalid(name, "This field cannot be emptied.")
        if "starts_at" in values and "agenda" not in values and self.agenda:
            shift = values["starts_at"] - self.starts_at  # type: ignore[operator]
            values["agenda"] = tuple(
                replace(item, starts_at=item.starts_at + shift) for item in self.agenda
            )
        changed = tuple(
            name for name in EDITABLE if name in values and values[name] != getattr(self, name)
        )
        if not changed:
            return self, ()
        updated = replace(self, **{name: values[name] for name in changed})  # type: ignore[arg-type]
        if updated.capacity is not None and updated.capacity < self.confirmed:
            raise Conflict(
                f"{self.confirmed} seats are taken: the capacity cannot go below that "
                "(confirmed seats are never taken away)."
            )
        if published and "starts_at" in changed and updated.starts_at <= at:
            raise _invalid("starts_at", "A published event cannot move to a time that has passed.")
        return updated._next(), changed

    def rescheduled_by(self, changed: tuple[str, ...]) -> bool:
        """Whether these changes to this event move it in time or place for its
        participants (a draft has none yet)."""
        return self.status is EventStatus.PUBLISHED and not TIME_AND_PLACE.isdisjoint(changed)

    def publish(self, at: datetime) -> Event:
        if self.status is not EventStatus.DRAFT:
            raise InvalidTransition(f"Only a draft can be published; this event is {self.status}.")
        if self.format is not EventFormat.IN_PERSON and not self.online_link:
            raise _invalid("online_link", "An online or hybrid event needs an online_link.")
        if self.starts_at <= at:
            raise InvalidTransition("An event that has already started cannot be published.")
        return self._next(status=EventStatus.PUBLISHED)

    def cancel(self, at: datetime) -> Event:
        if self.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise InvalidTransition(f"A {self.status} event cannot be cancelled.")
        if at >= self.starts_at:
            raise InvalidTransition(
                "An event that has started cannot be cancelled; complete it once it has ended."
            )
        return self._next(status=EventStatus.CANCELLED, confirmed=0)

    def check_attendance(self, at: datetime) -> None:
        """Attendance is recorded once the event has started, until it is completed."""
        if self.status is not EventStatus.PUBLISHED:
            raise InvalidTransition(f"Attendance cannot be recorded for a {self.status} event.")
        if at < self.starts_at:
            raise InvalidTransition("Attendance is recorded once the event has started.")

    def complete(self, at: datetime) -> Event:
        """Close the event after it has ended; who did not attend becomes a no-show."""
        if self.status is not EventStatus.PUBLISHED:
            raise InvalidTransition(
                f"Only a published event can be completed; this one is {self.status}."
            )
        if at < self.ends_at:
            raise InvalidTransition("An event can be completed once it has ended.")
        return self._next(status=EventStatus.COMPLETED)

    def check_withdrawal(self, at: datetime) -> None:
        """A person may cancel their registration until the event starts; after that,
        attendance is what counts."""
        if at >= self.starts_at:
            raise InvalidTransition(
                "The event has started; its registrations can no longer be cancelled."
            )

    def admit(self, at: datetime) -> tuple[Event, RegistrationStatus]:
        """Take one registration: a seat if one is free, else a place on the waitlist."""
        if self.status is not EventStatus.PUBLISHED:
            raise InvalidTransition(
                f"Registration is open only for published events; this one is {self.status}."
            )
        if at >= self.closes_at:
            raise InvalidTransition("Registration for this event has closed.")
        seat = self.capacity is None or self.confirmed < self.capacity
        status = RegistrationStatus.CONFIRMED if seat else RegistrationStatus.WAITLISTED
        return (
            replace(self, confirmed=self.confirmed + seat, registrations=self.registrations + 1),
            status,
        )

    def release(self, registration: Registration) -> Event:
        """A registration left: its seat, if it held one, is free again."""
        return replace(self, confirmed=self.confirmed - registration.holds_seat)

    def fill_seat(self, at: datetime) -> Event | None:
        """The event with a free seat given to the first on the waitlist, or None when
        seats are no longer passed on (not published, started, or none free)."""
        free = self.capacity is None or self.confirmed < self.capacity
        if self.status is not EventStatus.PUBLISHED or at >= self.starts_at or not free:
            return None
        return replace(self, confirmed=self.confirmed + 1)

    def _next(self, **changes: object) -> Event:
        return replace(self, **changes, version=self.version + 1, updated_at=now())  # type: ignore[arg-type]


@dataclass(frozen=True)
class Registration:
    """A person's registration to an event; ``sequence`` orders the waitlist."""

    event_id: str
    person_id: str
    status: RegistrationStatus
    sequence: int
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    promoted_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def holds_seat(self) -> bool:
        return self.status is RegistrationStatus.CONFIRMED

    def cancel(self, at: datetime, reason: str | None = None) -> Registration:
        if self.status not in ACTIVE:
            raise InvalidTransition(f"A {self.status} registration cannot be cancelled.")
        return replace(
            self,
            status=RegistrationStatus.CANCELLED,
            cancelled_at=at,
            updated_at=at,
            cancel_reason=reason,
        )

    def attend(self, at: datetime) -> Registration:
        if self.status is not RegistrationStatus.CONFIRMED:
            raise InvalidTransition(f"A {self.status} registration cannot be marked attended.")
        return replace(self, status=RegistrationStatus.ATTENDED, updated_at=at)

    def close(self, at: datetime) -> Registration:
        """The event is over: a seat not used is a no-show, a place still waiting ends."""
        if self.status is RegistrationStatus.CONFIRMED:
            return replace(self, status=RegistrationStatus.NO_SHOW, updated_at=at)
        if self.status is RegistrationStatus.WAITLISTED:
            return self.cancel(at, "The event took place.")
        return self

    def promote(self, at: datetime) -> Registration:
        if self.status is not RegistrationStatus.WAITLISTED:
            raise InvalidTransition("Only a waitlisted registration can be promoted.")
        return replace(self, status=RegistrationStatus.CONFIRMED, promoted_at=at, updated_at=at)


@dataclass(frozen=True)
class PersonCopy:
    """What the events service knows of a person (from the registry's events)."""

    id: str
    name: str | None
    email: str | None
    language: str | None
    removed: bool
    cluster_id: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class ClusterCopy:
    """A cluster as the registry last described it; ``removed``: the registry deleted it
    (its name and country are kept, so that lists still say where people came from)."""

    id: str
    name: str | None
    country: str | None
    removed: bool = False


@dataclass(frozen=True, slots=True)
class ClusterChange:
    """A cluster as the registry described it ``at`` (registered or updated)."""

    id: str
    name: str
    country: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PersonChange:
    """A person as the registry described them ``at`` (registered or updated): changes
    can arrive out of order, so the time decides which one the read copy keeps."""

    id: str
    name: str
    email: str
    language: str
    at: datetime
    cluster_id: str | None = None
    country: str | None = None
