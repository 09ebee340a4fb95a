"""iCalendar (RFC 5545) documents of events, for calendars and invitations."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from services.events.domain.model import Event, EventFormat, EventStatus

PRODUCT_ID = "-//THE NEXT SOCIETY//Booster Track//EN"
_STATUS = {
    EventStatus.DRAFT: "TENTATIVE",
    EventStatus.PUBLISHED: "CONFIRMED",
    EventStatus.COMPLETED: "CONFIRMED",
    EventStatus.CANCELLED: "CANCELLED",
}


def event_calendar(event: Event) -> bytes:
    """A calendar with the one event, in its venue's time zone (VTIMEZONE included).

    ``SEQUENCE`` follows the event's version (every change raises it), so calendars
    replace an older copy.
    """
    method = "CANCEL" if event.status is EventStatus.CANCELLED else "PUBLISH"
    return _calendar([event], method)


def events_calendar(events: Iterable[Event], name: str) -> bytes:
    """One calendar of several events (a person's own), each in its venue's time zone."""
    return _calendar(events, "PUBLISH", name)


def _calendar(events: Iterable[Event], method: str, name: str | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(_entry(event))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _entry(event: Event) -> CalendarEvent:
    zone = ZoneInfo(event.timezone)
    entry = CalendarEvent()
    entry.add("uid", f"{event.id}@booster-track")
    entry.add("dtstamp", event.updated_at)
    entry.add("sequence", event.version - 1)
    entry.add("summary", event.title)
    entry.add("dtstart", event.starts_at.astimezone(zone))
    entry.add("dtend", event.ends_at.astimezone(zone))
    entry.add("status", _STATUS[event.status])
    place = ", ".join(part for part in (event.city, event.country) if part)
    if event.format is not EventFormat.ONLINE and place:
        entry.add("location", place)
    elif event.online_link:
        entry.add("location", event.online_link)
    if event.online_link:
        entry.add("url", event.online_link)
    description = _description(event, zone)
    if description:
        entry.add("description", description)
    return entry


def _description(event: Event, zone: ZoneInfo) -> str:
    """The event's description, then its host and its agenda (times in the venue's zone)."""
    parts = [event.description] if event.description else []
    if event.host_organisation:
        parts.append(f"Host: {event.host_organisation}")
    if event.agenda:
        lines = ["Agenda:"]
        for item in event.agenda:
            line = f"{item.starts_at.astimezone(zone):%Y-%m-%d %H:%M} {item.title}"
            lines.append(f"{line} ({item.speaker})" if item.speaker else line)
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
