"""iCalendar (RFC 5545) documents of events, for calendars and invitations."""

from __future__ import annotations

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

    ``SEQUENCE`` follows the event's version, so calendars replace an older copy.
    """
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
    if event.description:
        entry.add("description", event.description)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if event.status is EventStatus.CANCELLED else "PUBLISH")
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()
