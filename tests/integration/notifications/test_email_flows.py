"""The design's flows 1-5 end to end, as mail in an SMTP server inside the test process.

The registry, the events service and the notifications service run with their workers
on PostgreSQL and the real RabbitMQ (the notifications worker with its sender); the
mentoring service's events (a pair matched, a joint meeting, a pair ended) are
published on the exchange as its relay would. Each person gets each mail once, in their
language (Arabic right to left), with a valid ``.ics`` where one is promised; a person
who turned email off gets none (their inbox still fills).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar

from booster.testing import ServiceHarness
from services.events.operations import MEETINGS
from shared.config import BusSettings
from tests.integration.conftest import eventually, running_platform
from tests.integration.events.conftest import new_event, register, registrations
from tests.integration.notifications.conftest import (
    Mailbox,
    make,
    participant,
    publish,
)

Platform = dict[str, ServiceHarness]


@pytest.fixture
def platform(
    postgres_admin_url: str,
    bus_settings: BusSettings,
    tmp_path: Path,
    mailbox: tuple[Mailbox, str],
) -> Iterator[Platform]:
    """Registry, events and notifications with their workers (the notifications worker
    runs its sender), mail to the test's SMTP server."""
    names = ("registry", "events", "notifications")
    with running_platform(
        names, postgres_admin_url, bus_settings, tmp_path, smtp_url=mailbox[1]
    ) as p:
        yield p


def _person(platform: Platform, name: str, language: str) -> str:
    registry = platform["registry"]
    email = f"{name.split()[0].lower()}@example.org"
    response = registry.client.post(
        "/api/v1/people",
        json={"name": name, "email": email, "language": language},
        headers=registry.headers("registry:write"),
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _mails(box: Mailbox, name: str, event_type: str | None = None) -> list[EmailMessage]:
    address = f"{name.lower()}@example.org"
    return [
        m for m in box.to(address) if event_type is None or m["X-Booster-Event-Type"] == event_type
    ]


def _calendar(message: EmailMessage) -> Calendar:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


def _html(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def test_flows_one_to_five_reach_each_person_once_in_their_language(
    platform: Platform, mailbox: tuple[Mailbox, str], bus_settings: BusSettings
) -> None:
    box = mailbox[0]
    notifications = platform["notifications"]
    # flow 1: people registered in the registry are welcomed, each in their language
    ids = {
        "Nadia": _person(platform, "Nadia Mansour", "fr"),
        "Youssef": _person(platform, "Youssef Amrani", "ar"),
        "Karim": _person(platform, "Karim Haddad", "en"),
        "Salma": _person(platform, "Salma Idrissi", "fr"),
        "Omar": _person(platform, "Omar Saleh", "en"),
    }
    eventually(lambda: all(_mails(box, name) for name in ids))
    welcome = _mails(box, "Youssef")[0]
    assert welcome["Subject"].startswith("مرحبًا")
    assert 'dir="rtl"' in _html(welcome)
    assert _mails(box, "Nadia")[0]["Subject"].startswith("Bienvenue")
    assert welcome.get_body(("plain",)) is not None
    # Omar turns email off for mentoring and events
    omar = notifications.headers("self", sub=ids["Omar"])
    response = notifications.client.put(
        "/api/v1/me/preferences",
        json={"email": {"mentoring": False, "events": False}},
        headers=omar,
    )
    assert response.status_code == 200

    # flow 2: a pair is matched; both hear of it in their language
    matched = make(
        "mentoring.pair.matched",
        "pair-1",
        id="pair-1",
        programme_id="cmr",
        programme_name="Cluster Mentoring Reloaded",
        mentor={**participant(ids["Nadia"]), "name": "Nadia Mansour"},
        mentee={**participant(ids["Youssef"]), "name": "Youssef Amrani"},
        score=0.9,
        reasons=["export"],
    )
    publish(bus_settings, matched, matched)  # delivered twice: still one mail each
    eventually(lambda: _mails(box, "Youssef", matched.type) and _mails(box, "Nadia", matched.type))
    assert _mails(box, "Nadia", matched.type)[0]["Subject"] == ("Votre mentoré·e : Youssef Amrani")
    assert 'dir="rtl"' in _html(_mails(box, "Youssef", matched.type)[0])

    # flow 3: a joint meeting becomes an event; each participant's registration is an
    # invitation with an .ics
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    people = [ids["Nadia"], ids["Youssef"], ids["Omar"]]
    meeting = make(
        "mentoring.meeting.scheduled",
        "meeting-1",
        id="meeting-1",
        programme_id="cmr",
        title="Joint meeting: export plans",
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
        timezone="Africa/Casablanca",
        online_link="https://meet.example.org/export",
        person_ids=people,
    )
    publish(bus_settings, meeting)
    confirmed = "events.registration.confirmed"
    eventually(lambda: _mails(box, "Nadia", confirmed) and _mails(box, "Youssef", confirmed))
    hosted = str(uuid.uuid5(MEETINGS, "meeting-1"))
    for name in ("Nadia", "Youssef"):
        calendar = _calendar(_mails(box, name, confirmed)[0])
        assert calendar["METHOD"] == "REQUEST"
        [entry] = calendar.walk("VEVENT")
        assert str(entry["UID"]) == f"{hosted}@booster-track"
        assert entry.decoded("DTSTART") == starts
        assert str(entry.decoded("DTSTART").tzinfo) == "Africa/Casablanca"

    # flow 4: a full trip's cancelled registration promotes the first on the waitlist
    events = platform["events"]
    trip = new_event(events, capacity=1)
    eventually(lambda: register(events, trip["id"], ids["Karim"]).status_code == 201)
    eventually(lambda: register(events, trip["id"], ids["Salma"]).status_code == 201)
    karim = registrations(events, trip["id"])[0]
    cancelled = events.client.post(
        f"/api/v1/events/{trip['id']}/registrations/{karim['id']}/cancel",
        json={},
        headers=events.headers("events:write"),
    )
    assert cancelled.status_code == 200
    promoted = "events.registration.promoted"
    eventually(lambda: _mails(box, "Salma", promoted))
    promotion = _mails(box, "Salma", promoted)[0]
    assert promotion["Subject"] == "Une place pour vous : Business trip to Lyon"
    assert _calendar(promotion)["METHOD"] == "REQUEST"
    eventually(lambda: _mails(box, "Karim", "events.registration.cancelled"))
    assert _calendar(_mails(box, "Karim", "events.registration.cancelled")[0])["METHOD"] == "CANCEL"

    # flow 5: a deactivated cluster ended the pair; both are told
    ended = make(
        "mentoring.pair.ended",
        "pair-1",
        id="pair-1",
        programme_id="cmr",
        programme_name="Cluster Mentoring Reloaded",
        mentor=participant(ids["Nadia"]),
        mentee=participant(ids["Youssef"]),
        status="ended",
        reason="The mentee's cluster was deactivated.",
    )
    publish(bus_settings, ended)
    eventually(lambda: _mails(box, "Nadia", ended.type) and _mails(box, "Youssef", ended.type))

    # once each: nothing more arrives, nothing twice; Omar had only his welcome
    def outbox_settled() -> bool:
        with notifications.runtime.uow.read() as tx:
            from services.notifications.domain.ports import NotificationQuery

            pending = [
                n
                for person_id in ids.values()
                for n in tx.notifications.find(NotificationQuery(person_id), 200, None)
                if n.status.value == "pending"
            ]
        return not pending

    eventually(outbox_settled)
    expected = {
        "Nadia": ["registry.person.registered", matched.type, confirmed, ended.type],
        "Youssef": ["registry.person.registered", matched.type, confirmed, ended.type],
        "Karim": ["registry.person.registered", confirmed, "events.registration.cancelled"],
        "Salma": ["registry.person.registered", "events.registration.waitlisted", promoted],
        "Omar": ["registry.person.registered"],
    }
    for name, types in expected.items():
        got = sorted(m["X-Booster-Event-Type"] for m in _mails(box, name))
        assert got == sorted(types), (name, got)
    # Omar's inbox still has the meeting
    inbox = notifications.client.get("/api/v1/me/notifications", headers=omar).get_json()
    assert confirmed in {n["event_type"] for n in inbox["items"]}
    assert registrations(events, hosted)
