"""Messages from templates (Jinja2, sandboxed) and invitations (iCalendar).

Subjects and plain text render in a sandbox without escaping; HTML renders in a second
sandbox with autoescaping, so a name or a title carrying markup shows as text. A
template cannot reach Python internals (the sandbox refuses attribute access to
``__class__`` and the like). Times are shown in the recipient's language (Babel) and
in the event's own time zone, with the zone's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from icalendar import Calendar, Event
from jinja2 import ChainableUndefined, Template
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from services.notifications import wording
from services.notifications.domain.model import (
    DEFAULT_LANGUAGE,
    RIGHT_TO_LEFT,
    Recipient,
    Rendered,
)
from services.notifications.domain.ports import Renderer
from services.notifications.domain.routing import Appointment, time_zone
from services.notifications.messages import TEMPLATES

PRODUCT_ID = "-//THE NEXT SOCIETY//Booster Track notifications//EN"
MAX_SUBJECT = 200

LAYOUT = """<!DOCTYPE html>
<html lang="{{ language }}" dir="{{ direction }}">
<head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: Arial, sans-serif; direction: {{ direction }};\
 text-align: {{ 'right' if direction == 'rtl' else 'left' }}">
<div style="max-width: 600px; margin: 0 auto">
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}{% if action %}<p><a href="{{ action }}">{{ action }}</a></p>
{% endif %}<hr><p style="color: #666; font-size: 12px">THE NEXT SOCIETY · Cluster Booster Track</p>
</div>
</body>
</html>
"""


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


class JinjaRenderer(Renderer):
    """Renders :data:`~services.notifications.messages.TEMPLATES`."""

    def __init__(self, templates: Mapping[str, Mapping[str, Any]] = TEMPLATES) -> None:
        self.templates = templates
        self._text = self._environment(autoescape=False)
        self._html = self._environment(autoescape=True)
        self._layout = self._html.from_string(LAYOUT)

    @staticmethod
    def _environment(*, autoescape: bool) -> SandboxedEnvironment:
        return SandboxedEnvironment(autoescape=autoescape, undefined=ChainableUndefined)

    def has_template(self, event_type: str) -> bool:
        return event_type in self.templates

    def render(
        self, event_type: str, language: str, data: Mapping[str, Any], recipient: Recipient
    ) -> Rendered:
        by_language = self.templates[event_type]
        used = language if language in by_language else DEFAULT_LANGUAGE
        template = by_language[used]
        zone = time_zone(data)
        context = {
            "recipient": {"id": recipient.id, "name": recipient.name or ""},
            "data": data,
            "action": _action(data),
        }
        subject = " ".join(
            _compile(self._text, template.subject, used, zone).render(context).split()
        )
        text = _compile(self._text, template.body, used, zone).render(context).strip()
        body = _compile(self._html, template.body, used, zone).render(context)
        paragraphs = [Markup(part.strip()) for part in Markup(body).split("\n\n") if part.strip()]
        html = self._layout.render(
            language=used,
            direction="rtl" if used in RIGHT_TO_LEFT else "ltr",
            subject=subject,
            paragraphs=paragraphs,
            action=context["action"],
        )
        return Rendered(used, subject[:MAX_SUBJECT], text, html)

    def calendar(self, appointment: Appointment, method: str) -> str:
        zone = _zone(appointment.timezone)
        entry = Event()
        entry.add("uid", appointment.uid)
        entry.add("dtstamp", datetime.now(UTC))
        entry.add("sequence", appointment.sequence)
        entry.add("summary", appointment.title)
        entry.add("dtstart", appointment.starts_at.astimezone(zone))
        entry.add("dtend", appointment.ends_at.astimezone(zone))
        entry.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
        if appointment.location:
            entry.add("location", appointment.location)
        if appointment.url:
            entry.add("url", appointment.url)
        document = Calendar()
        document.add("prodid", PRODUCT_ID)
        document.add("version", "2.0")
        document.add("calscale", "GREGORIAN")
        document.add("method", method)
        document.add_component(entry)
        document.add_missing_timezones()
        return document.to_ical().decode("utf-8")


def _action(data: Mapping[str, Any]) -> str | None:
    """A link worth a button: the online link of the meeting or event, if any."""
    link = data.get("online_link") or (data.get("event") or {}).get("online_link")
    return str(link) if link and str(link).startswith(("https://", "http://")) else None


@cache
def _compile(environment: SandboxedEnvironment, source: str, language: str, zone: str) -> Template:
    """A template with the filters of one language and zone (one compiled copy per
    combination: compiling costs far more than rendering): ``when`` and ``day``, and
    ``reasons`` / ``session_title`` (see :mod:`~services.notifications.wording`)."""
    tz = _zone(zone)

    def when(value: Any) -> str:
        moment = _moment(value)
        if moment is None:
            return str(value)
        shown = format_datetime(moment, "EEEE d MMMM y, HH:mm", tzinfo=tz, locale=language)
        return f"{shown} ({zone})"

    def day(value: Any) -> str:
        moment = _moment(value)
        if moment is None:
            return str(value)
        return format_date(moment.astimezone(tz).date(), "long", locale=language)

    overlay = environment.overlay()
    # an overlay shares its parent's filters dict: give it its own, or every compiled
    # template would use the filters (language, zone) of the last one compiled
    overlay.filters = {
        **environment.filters,
        "when": when,
        "day": day,
        "reasons": lambda values, score=None: wording.reasons(values, language, score),
        "session_title": lambda value: wording.title(value, language),
    }
    return overlay.from_string(source)
