"""A rescheduled event: who hears of it, in which words, with which ``.ics``; and what
does not notify (an event's other changes, the mentoring events of a hosted meeting)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from services.notifications import handlers
from services.notifications import operations as ops
from services.notifications.domain.commands import Notify, SetPreferences
from services.notifications.domain.model import Category, Channel, Invitation, Notification
from services.notifications.domain.routing import RULES, appointment
from services.notifications.operations import notify as stage
from tests.unit.notifications.conftest import (
    RENDERER,
    START,
    T0,
    Uow,
    known,
    make,
    notify,
    person,
    registration,
    summary,
)

RESCHEDULED = "events.event.rescheduled"
LATER = START + timedelta(days=2, hours=1)  # 2030-03-06 09:30 UTC, 10:30 in Paris


def rescheduled(person_ids: list[str], changed: list[str] | None = None, **fields: Any) -> Any:
    """``events.event.rescheduled`` of the Lyon trip, by default moved two days later."""
    changed = changed or ["starts_at", "ends_at"]
    timed = "starts_at" in changed
    data = {
        **summary(),
        "status": "published",
        "capacity": 10,
        "registration_closes_at": None,
        "agenda": [],
        "sectors": [],
        "host_organisation": None,
        "changed": changed,
        "previous": {
            key: summary()[key]
            for key in ("starts_at", "ends_at", "timezone", "city", "country", "online_link")
        },
        "person_ids": person_ids,
    }
    if timed:
        data |= {"starts_at": LATER.isoformat(), "ends_at": (LATER + timedelta(days=2)).isoformat()}
    return make(RESCHEDULED, "event-1", **{**data, **fields})


def _emails(staged: list[Notification]) -> dict[str, Notification]:
    return {n.person_id: n for n in staged if n.channel is Channel.EMAIL}


def _stage_at(uow: Uow, event_: Any, at: datetime) -> list[Notification]:
    with uow.begin() as tx:
        return stage(tx, Notify(event_.id, event_.type, event_.data, at), RENDERER)


# -- who hears what ------------------------------------------------------------------------
def test_a_rescheduled_event_notifies_everyone_registered_with_an_invitation() -> None:
    rule = RULES[RESCHEDULED]
    assert rule.category is Category.EVENTS
    assert rule.invitation is Invitation.REQUEST
    assert rule.channels == (Channel.EMAIL, Channel.IN_APP)
    data = rescheduled(["p2", "p1", "p2", ""]).data
    assert rule.recipients(data) == ["p2", "p1"]  # in order, each once
    assert handlers.HANDLERS[RESCHEDULED] is handlers.notify


@pytest.mark.parametrize(
    "event_type",
    ["events.event.updated", "mentoring.meeting.rescheduled", "mentoring.meeting.cancelled"],
)
def test_types_told_by_another_message_have_no_rule_and_no_handler_of_their_own(
    event_type: str,
) -> None:
    assert event_type not in RULES
    assert event_type not in handlers.HANDLERS  # only the webhook fan-out sees them


def test_the_invitation_describes_the_event_as_it_is_now() -> None:
    moved = appointment(RESCHEDULED, rescheduled(["p1"]).data, sequence=7)
    assert moved is not None
    assert moved.uid == "event-1@booster-track"  # the UID of the confirmation's .ics
    assert (moved.starts_at, moved.timezone, moved.sequence) == (LATER, "Europe/Paris", 7)
    assert moved.location == "Lyon, FR"


# -- staging -------------------------------------------------------------------------------
def test_each_person_registered_hears_once_in_their_language_with_the_updated_ics(
    uow: Uow,
) -> None:
    known(uow, person("p-en", "en"), person("p-fr", "fr"), person("p-ar", "ar"))
    confirmed = registration("events.registration.confirmed", "p-fr")
    [invitation] = [n.calendar for n in _stage_at(uow, confirmed, T0) if n.channel is Channel.EMAIL]
    assert invitation is not None
    first = Calendar.from_ical(invitation).walk("VEVENT")[0]

    event_ = rescheduled(["p-en", "p-fr", "p-ar"])
    staged = _stage_at(uow, event_, T0 + timedelta(hours=1))
    assert sorted((n.person_id, n.channel) for n in staged) == sorted(
        (p, c) for p in ("p-en", "p-fr", "p-ar") for c in (Channel.EMAIL, Channel.IN_APP)
    )
    emails = _emails(staged)
    for email in emails.values():
        assert email.calendar is not None
        calendar = Calendar.from_ical(email.calendar)
        assert calendar["METHOD"] == "REQUEST"
        [entry] = calendar.walk("VEVENT")
        assert str(entry["UID"]) == str(first["UID"]) == "event-1@booster-track"
        assert int(entry.decoded("SEQUENCE")) > int(first.decoded("SEQUENCE"))
        assert entry.decoded("DTSTART") == LATER
        assert str(entry.decoded("DTSTART").tzinfo) == "Europe/Paris"
    in_app = [n for n in staged if n.channel is Channel.IN_APP]
    assert all(n.calendar is None and n.status.value == "sent" for n in in_app)
    # the new time and the old one, in the event's zone, in each language
    english, french, arabic = emails["p-en"], emails["p-fr"], emails["p-ar"]
    assert english.subject == "Moved: Business trip to Lyon, now March 6, 2030"
    assert "Wednesday 6 March 2030, 10:30 (Europe/Paris)" in english.text
    assert "Before: Monday 4 March 2030, 09:30 (Europe/Paris)" in english.text
    assert "Where: Lyon, FR" in english.text
    assert french.subject == "Changement de date : Business trip to Lyon, désormais le 6 mars 2030"
    assert "mercredi 6 mars 2030, 10:30 (Europe/Paris)" in french.text
    assert "Auparavant : du lundi 4 mars 2030, 09:30" in french.text
    assert "L'invitation mise à jour est jointe" in french.text
    assert arabic.subject.startswith("تغيير الموعد: Business trip to Lyon")
    assert "الموعد السابق" in arabic.text and "مارس" in arabic.text and "10:30" in arabic.text
    assert 'dir="rtl"' in arabic.html and 'dir="ltr"' in french.html
    for email in emails.values():
        assert "None" not in email.text and "{{" not in email.text
        assert email.language == email.person_id.removeprefix("p-")


def test_the_same_rescheduling_twice_stages_nothing_more(uow: Uow) -> None:
    known(uow, person("p1"), person("p2", "ar"))
    event_ = rescheduled(["p1", "p2"])
    assert len(notify(uow, event_)) == 4
    first = dict(uow.tx.notifications.rows)
    notify(uow, event_)
    assert uow.tx.notifications.rows == first


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        ("en", "New venue: Business trip to Lyon", "Where: Marseille, FR (was Lyon, FR)"),
        ("fr", "Changement de lieu : Business trip to Lyon", "Où : Marseille, FR (au lieu de Lyon"),
        ("ar", "تغيير المكان: Business trip to Lyon", "المكان: Marseille، FR (بدلًا من Lyon"),
    ],
)
def test_a_new_venue_is_told_as_such(uow: Uow, language: str, subject: str, line: str) -> None:
    known(uow, person("p1", language))
    event_ = rescheduled(["p1"], ["city"], city="Marseille")
    email = _emails(notify(uow, event_))["p1"]
    assert email.subject == subject
    assert line in email.text
    assert "Before" not in email.text and "Auparavant" not in email.text
    assert "السابق" not in email.text
    assert email.calendar is not None
    assert str(Calendar.from_ical(email.calendar).walk("VEVENT")[0]["LOCATION"]) == "Marseille, FR"


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        ("en", "New link: Webinar", "New link: https://meet.example.org/new"),
        ("fr", "Nouveau lien : Webinar", "Nouveau lien : https://meet.example.org/new"),
        ("ar", "رابط جديد: Webinar", "الرابط الجديد: https://meet.example.org/new"),
    ],
)
def test_a_new_link_of_an_online_event_is_told_with_the_link(
    uow: Uow, language: str, subject: str, line: str
) -> None:
    known(uow, person("p1", language))
    online = {"kind": "webinar", "title": "Webinar", "format": "online", "city": None}
    event_ = rescheduled(
        ["p1"],
        ["online_link"],
        **online,
        country=None,
        online_link="https://meet.example.org/new",
    )
    email = _emails(notify(uow, event_))["p1"]
    assert email.subject == subject
    assert line in email.text
    assert 'href="https://meet.example.org/new"' in email.html  # the button
    assert "Lyon" not in email.text  # an online event names no venue


def test_a_person_with_event_emails_off_still_finds_it_in_their_inbox(uow: Uow) -> None:
    known(uow, person("p1"), person("p2"))
    ops.set_preferences(uow, SetPreferences("p1", {Channel.EMAIL: {Category.EVENTS: False}}))
    staged = notify(uow, rescheduled(["p1", "p2"]))
    assert sorted((n.person_id, n.channel) for n in staged) == [
        ("p1", Channel.IN_APP),
        ("p2", Channel.EMAIL),
        ("p2", Channel.IN_APP),
    ]


def test_an_update_that_is_not_a_new_time_or_place_notifies_nobody(uow: Uow) -> None:
    known(uow, person("p1"))
    updated = make(
        "events.event.updated",
        "event-1",
        **summary(title="Business trip to Lyon and Grenoble"),
        status="published",
        capacity=12,
        registration_closes_at=None,
        changed=["title", "capacity"],
    )
    assert notify(uow, updated) == []
    assert uow.tx.notifications.rows == {}


def test_a_hosted_meeting_moved_by_mentoring_is_told_once_by_its_event(uow: Uow) -> None:
    """Mentoring's messages about a joint meeting stage nothing: the hosted event's
    ``events.event.rescheduled`` / ``.cancelled`` (which the events service emits as it
    follows them) are each participant's one message, with the calendar update."""
    people = ["mentor", "mentee"]
    known(uow, person("mentor", "fr"), person("mentee", "ar"))
    meeting = {
        "id": "meeting-1",
        "programme_id": "cmr",
        "title": "Joint meeting 2: funding",
        "starts_at": LATER.isoformat(),
        "ends_at": (LATER + timedelta(hours=2)).isoformat(),
        "timezone": "Africa/Tunis",
        "online_link": "https://meet.example.org/joint",
        "person_ids": people,
    }
    moved = make(
        "mentoring.meeting.rescheduled",
        "meeting-1",
        **meeting,
        previous_starts_at=START.isoformat(),
        previous_ends_at=(START + timedelta(hours=2)).isoformat(),
    )
    cancelled = make("mentoring.meeting.cancelled", "meeting-1", **meeting, reason="Paused")
    assert notify(uow, moved) == [] and notify(uow, cancelled) == []

    hosted: dict[str, Any] = {
        "id": "hosted-1",
        "kind": "joint_meeting",
        "format": "online",
        "city": None,
        "country": None,
        **{k: meeting[k] for k in ("title", "timezone", "online_link")},
    }
    event_ = rescheduled(
        people,
        **hosted,
        previous={
            "starts_at": START.isoformat(),
            "ends_at": (START + timedelta(hours=2)).isoformat(),
            "timezone": "Africa/Tunis",
            "city": None,
            "country": None,
            "online_link": meeting["online_link"],
        },
    )
    emails = _emails(notify(uow, event_))
    assert set(emails) == set(people)
    assert emails["mentor"].subject.startswith("Changement de date : Joint meeting 2: funding")
    assert "(Africa/Tunis)" in emails["mentor"].text
    assert emails["mentee"].calendar is not None
    entry = Calendar.from_ical(emails["mentee"].calendar).walk("VEVENT")[0]
    assert str(entry["UID"]) == "hosted-1@booster-track"
    assert str(entry["LOCATION"]) == meeting["online_link"]
