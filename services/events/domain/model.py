"""Events, business trips and their registrations, the rules of the waitlist, and the
read copy of the registry's people.

An event holds its own count of confirmed seats and a registration sequence; every
change to its registrations happens with the event locked (see the operations), so
capacity is never exceeded and the waitlist keeps the order in which people asked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from shared.errors import InvalidInput, InvalidTransition
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

    @property
    def closes_at(self) -> datetime:
        """When registration closes: as set, else when the event starts."""
        return self.registration_closes_at or self.starts_at

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.confirmed, 0)

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
