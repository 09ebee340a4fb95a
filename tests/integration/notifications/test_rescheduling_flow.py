"""A rescheduled event reaches each person registered once, over the real RabbitMQ and
PostgreSQL, as mail in an SMTP server inside the test process.

The services run with their workers (the notifications worker with its sender); people
come from the registry's API, events and registrations from the events service's API,
joint meetings from the mentoring service's API. Each person gets one mail per change,
in their language, with the updated ``.ics`` (same UID as their invitation); a
redelivered ``events.event.rescheduled`` changes nothing; a change that is not a new
time or place tells nobody; and a joint meeting moved or cancelled in mentoring is told
once (by its hosted event), never twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from prometheus_client import REGISTRY

from booster.testing import ServiceHarness
from services.notifications.domain.model import Channel, DeliveryStatus, Notification
from services.notifications.domain.ports import NotificationQuery
from shared.config import BusSettings
from shared.events import CloudEvent
from tests.integration.conftest import MENTORING_RW, eventually, joint_meeting, running_platform
from tests.integration.events.conftest import in_days, new_event, register, registrations
from tests.integration.notifications.conftest import Mailbox, publish

Platform = dict[str, ServiceHarness]
WELCOME = "registry.person.registered"
CONFIRMED = "events.registration.confirmed"
WAITLISTED = "events.registration.waitlisted"
RESCHEDULED = "events.event.rescheduled"
CANCELLED = "events.event.cancelled"
UPDATED = "events.event.updated"


@pytest.fixture
def start(
    postgres_admin_url: str,
    bus_settings: BusSettings,
    tmp_path: Path,
    mailbox: tuple[Mailbox, str],
) -> Iterator[Callable[..., Platform]]:
    """Start the services named, with their workers, mail to the test's SMTP server."""
    with ExitStack() as stack:

        def started(*names: str) -> Platform:
            return stack.enter_context(
                running_platform(
                    names, postgres_admin_url, bus_settings, tmp_path, smtp_url=mailbox[1]
                )
            )

        yield started


def _person(platform: Platform, name: str, language: str, **fields: Any) -> str:
    registry = platform["registry"]
    response = registry.client.post(
        "/api/v1/people",
        json={"name": name, "email": _address(name), "language": language, **fields},
        headers=registry.headers("registry:write"),
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _address(name: str) -> str:
    return f"{name.split()[0].lower()}@example.org"


def _mails(box: Mailbox, name: str, event_type: str | None = None) -> list[EmailMessage]:
    return [
        m
        for m in box.to(_address(name))
        if event_type is None or m["X-Booster-Event-Type"] == event_type
    ]


def _calendar_entry(message: EmailMessage) -> tuple[str, Any]:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(part.get_content())
    return str(calendar["METHOD"]), calendar.walk("VEVENT")[0]


def _handled(event_type: str, outcome: str = "handled") -> float:
    """How many ``event_type`` events the notifications consumer handled (or found to be
    duplicates) in this process."""
    value = REGISTRY.get_sample_value(
        "booster_events_handled_total",
        {"service": "notifications", "type": event_type, "outcome": outcome},
    )
    return value or 0.0


def _staged(notifications: ServiceHarness, person_id: str) -> list[Notification]:
    with notifications.runtime.uow.read() as tx:
        return tx.notifications.find(NotificationQuery(person_id), 200, None)


def _settled(notifications: ServiceHarness, people: list[str]) -> bool:
    """No email waits to be sent."""
    return not any(
        n.status is DeliveryStatus.PENDING
        for person_id in people
        for n in _staged(notifications, person_id)
    )


def _kinds(notifications: ServiceHarness, person_id: str) -> list[tuple[str, Channel]]:
    return sorted((n.event_type, n.channel) for n in _staged(notifications, person_id))


def _inbox(notifications: ServiceHarness, person_id: str) -> list[dict[str, Any]]:
    response = notifications.client.get(
        "/api/v1/me/notifications?limit=50", headers=notifications.headers("self", sub=person_id)
    )
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def _emitted(harness: ServiceHarness, event_type: str) -> list[CloudEvent]:
    return [e for e in harness.events() if e.type == event_type]


def test_a_rescheduled_event_reaches_everyone_registered_once_in_their_language(
    start: Callable[..., Platform], mailbox: tuple[Mailbox, str], bus_settings: BusSettings
) -> None:
    box = mailbox[0]
    platform = start("registry", "events", "notifications")
    events, notifications = platform["events"], platform["notifications"]
    names = {"Karim Haddad": "en", "Nadia Mansour": "fr", "Youssef Amrani": "ar"}
    ids = {name.split()[0]: _person(platform, name, lang) for name, lang in names.items()}
    eventually(lambda: all(_mails(box, name, WELCOME) for name in ids))

    # two seats: Karim and Nadia are confirmed, Youssef waits
    trip = new_event(events, capacity=2)

    def registered(person_id: str) -> bool:
        return bool(register(events, trip["id"], person_id).status_code == 201)

    for person_id in ids.values():  # once the events service knows them
        eventually(partial(registered, person_id))
    eventually(lambda: _mails(box, "Karim", CONFIRMED) and _mails(box, "Nadia", CONFIRMED))
    eventually(lambda: _mails(box, "Youssef", WAITLISTED))
    _, invitation = _calendar_entry(_mails(box, "Nadia", CONFIRMED)[0])

    # a new title: not a new time or place, nobody is told
    updated_before = _handled(UPDATED)
    changed = events.client.patch(
        f"/api/v1/events/{trip['id']}",
        json={"title": "Business trip to Lyon and Grenoble"},
        headers=events.headers("events:write", **{"If-Match": "*"}),
    )
    assert changed.status_code == 200, changed.get_json()
    eventually(lambda: _handled(UPDATED) == updated_before + 1)  # seen (webhook fan-out)

    # moved by a day and two hours: everyone registered hears of it once, with the .ics
    starts, ends = in_days(31, 10), in_days(33, 16)
    moved = events.client.patch(
        f"/api/v1/events/{trip['id']}",
        json={"starts_at": starts, "ends_at": ends},
        headers=events.headers("events:write", **{"If-Match": "*"}),
    )
    assert moved.status_code == 200, moved.get_json()
    eventually(lambda: all(_mails(box, name, RESCHEDULED) for name in ids))
    eventually(lambda: _settled(notifications, list(ids.values())))

    english, french, arabic = (
        _mails(box, name, RESCHEDULED)[0] for name in ("Karim", "Nadia", "Youssef")
    )
    day = datetime.fromisoformat(starts)
    assert english["Subject"].startswith("Moved: Business trip to Lyon and Grenoble, now ")
    assert french["Subject"].startswith("Changement de date : Business trip to Lyon and Grenoble")
    assert arabic["Subject"].startswith("تغيير الموعد: Business trip to Lyon and Grenoble")
    french_text = str(french.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert f"{day.day} " in french_text and "(Europe/Paris)" in french_text
    assert "Auparavant" in french_text
    arabic_html = str(arabic.get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert 'dir="rtl"' in arabic_html
    for message in (english, french, arabic):
        method, entry = _calendar_entry(message)
        assert method == "REQUEST"
        assert str(entry["UID"]) == str(invitation["UID"]) == f"{trip['id']}@booster-track"
        assert int(entry["SEQUENCE"]) >= int(invitation["SEQUENCE"])
        assert entry.decoded("DTSTART") == datetime.fromisoformat(starts)
        assert str(entry.decoded("DTSTART").tzinfo) == "Europe/Paris"
        assert entry.decoded("DTEND") == datetime.fromisoformat(ends)

    # each person's inbox has it, in their language
    for name, person_id in ids.items():
        [entry_] = [n for n in _inbox(notifications, person_id) if n["event_type"] == RESCHEDULED]
        # (Python's email folding may double a space where it folds the header)
        assert entry_["subject"].split() == _mails(box, name, RESCHEDULED)[0]["Subject"].split()
        assert not entry_["read"]

    # the same event delivered again changes nothing
    [rescheduled] = _emitted(events, RESCHEDULED)
    before = {person_id: _kinds(notifications, person_id) for person_id in ids.values()}
    duplicates = _handled(RESCHEDULED, "duplicate")
    publish(bus_settings, rescheduled)
    eventually(lambda: _handled(RESCHEDULED, "duplicate") == duplicates + 1)
    assert {person_id: _kinds(notifications, person_id) for person_id in ids.values()} == before

    expected = {
        "Karim": [WELCOME, CONFIRMED, RESCHEDULED],
        "Nadia": [WELCOME, CONFIRMED, RESCHEDULED],
        "Youssef": [WELCOME, WAITLISTED, RESCHEDULED],
    }
    for name, types in expected.items():
        assert sorted(m["X-Booster-Event-Type"] for m in _mails(box, name)) == sorted(types)
        assert _kinds(notifications, ids[name]) == sorted(
            (t, c) for t in types for c in (Channel.EMAIL, Channel.IN_APP)
        )
    assert [r["status"] for r in registrations(events, trip["id"])] == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]


def _post(
    harness: ServiceHarness, path: str, body: dict[str, Any], scope: str, status: int = 201
) -> Any:
    response = harness.client.post(f"/api/v1{path}", json=body, headers=harness.headers(scope))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _known(harness: ServiceHarness, person_id: str) -> bool:
    with harness.runtime.uow.read() as tx:
        return tx.people.get(person_id) is not None


def test_a_joint_meeting_moved_and_cancelled_in_mentoring_is_told_once(
    start: Callable[..., Platform], mailbox: tuple[Mailbox, str]
) -> None:
    box = mailbox[0]
    platform = start("registry", "mentoring", "events", "notifications")
    mentoring, events, notifications = (
        platform["mentoring"],
        platform["events"],
        platform["notifications"],
    )
    cluster = _post(
        platform["registry"],
        "/clusters",
        {"name": "Tunis Agrifood", "country": "TN", "kind": "cluster"},
        "registry:write",
    )["id"]
    people = {"Nadia": _person(platform, "Nadia Mansour", "fr", cluster_id=cluster)}
    people["Youssef"] = _person(platform, "Youssef Amrani", "ar", cluster_id=cluster)
    ids = list(people.values())
    eventually(lambda: all(_known(mentoring, p) and _known(events, p) for p in ids))
    eventually(lambda: all(_mails(box, name, WELCOME) for name in people))

    meeting = joint_meeting(
        mentoring,
        ids,
        title="Joint meeting 2: funding",
        online_link="https://meet.example.org/funding",
    )
    starts, hosted = meeting.starts, meeting.hosted
    eventually(lambda: all(_mails(box, name, CONFIRMED) for name in people))  # invitations

    # mentoring moves it: one message each, from the hosted event, with the .ics update
    moves = _handled("mentoring.meeting.rescheduled")
    later = starts + timedelta(days=2, hours=3)
    _post(
        mentoring,
        f"/meetings/{meeting.id}/reschedule",
        {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()},
        MENTORING_RW,
        200,
    )
    eventually(lambda: all(_mails(box, name, RESCHEDULED) for name in people))
    eventually(lambda: _handled("mentoring.meeting.rescheduled") == moves + 1)
    for name in people:
        [message] = _mails(box, name, RESCHEDULED)
        method, entry = _calendar_entry(message)
        assert method == "REQUEST" and str(entry["UID"]) == f"{hosted}@booster-track"
        assert entry.decoded("DTSTART") == later
        assert str(entry.decoded("DTSTART").tzinfo) == "Africa/Tunis"
    french = _mails(box, "Nadia", RESCHEDULED)[0]["Subject"]
    assert french.startswith("Changement de date : Joint meeting 2: funding, désormais le")

    # mentoring cancels it: one message each, from the hosted event, with the .ics cancel
    cancellations = _handled("mentoring.meeting.cancelled")
    _post(
        mentoring,
        f"/meetings/{meeting.id}/cancel",
        {"reason": "The programme paused."},
        MENTORING_RW,
        200,
    )
    eventually(lambda: all(_mails(box, name, CANCELLED) for name in people))
    eventually(lambda: _handled("mentoring.meeting.cancelled") == cancellations + 1)
    eventually(lambda: _settled(notifications, ids))
    for name in people:
        [message] = _mails(box, name, CANCELLED)
        method, entry = _calendar_entry(message)
        assert method == "CANCEL" and str(entry["UID"]) == f"{hosted}@booster-track"

    # nothing twice: no message of mentoring's own about the meeting, on either channel
    for name, person_id in people.items():
        types = [WELCOME, "mentoring.enrolment.accepted", CONFIRMED, RESCHEDULED, CANCELLED]
        assert sorted(m["X-Booster-Event-Type"] for m in _mails(box, name)) == sorted(types)
        assert _kinds(notifications, person_id) == sorted(
            (t, c) for t in types for c in (Channel.EMAIL, Channel.IN_APP)
        )
