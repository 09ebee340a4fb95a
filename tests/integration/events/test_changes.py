"""Changing an event over HTTP (``PATCH /api/v1/events/{id}``), on SQLite and PostgreSQL:
ETags and If-Match, capacity and the waitlist, rescheduling, agendas, business trips."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from booster.testing import ServiceHarness
from tests.integration.events.conftest import (
    READ,
    RW,
    WRITE,
    in_days,
    known_person,
    new_event,
    register,
    registrations,
)


def patch(events: ServiceHarness, event_id: str, body: dict, if_match: str | None) -> Any:
    headers = events.headers(WRITE)
    if if_match is not None:
        headers["If-Match"] = if_match
    return events.client.patch(f"/api/v1/events/{event_id}", json=body, headers=headers)


def read(events: ServiceHarness, event_id: str) -> Any:
    return events.client.get(f"/api/v1/events/{event_id}", headers=events.headers(READ))


def full_trip(events: ServiceHarness, capacity: int, waiting: int) -> tuple[dict, list[str]]:
    event = new_event(events, capacity=capacity)
    people = [known_person(events, f"p{n:02}") for n in range(capacity + waiting)]
    for person_id in people:
        assert register(events, event["id"], person_id).status_code == 201
    return event, people


def test_a_change_needs_the_current_etag(events: ServiceHarness) -> None:
    event = new_event(events)
    got = read(events, event["id"])
    tag = got.headers["ETag"]
    assert tag == f'"{event["id"]}.{event["version"]}"'
    missing = patch(events, event["id"], {"title": "Lyon and Grenoble"}, None)
    assert missing.status_code == 428
    assert missing.mimetype == "application/problem+json"
    assert missing.get_json()["status"] == 428
    changed = patch(events, event["id"], {"title": "Lyon and Grenoble"}, tag)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["title"] == "Lyon and Grenoble"
    assert changed.headers["ETag"] == f'"{event["id"]}.{event["version"] + 1}"'
    stale = patch(events, event["id"], {"title": "Lyon only"}, tag)
    assert stale.status_code == 412
    assert stale.get_json()["title"] == "Precondition failed"
    other = patch(events, event["id"], {"title": "Lyon only"}, '"another-id.1"')
    assert other.status_code == 412
    assert read(events, event["id"]).get_json()["title"] == "Lyon and Grenoble"
    anything = patch(events, event["id"], {"title": "Lyon only"}, "*")
    assert anything.status_code == 200 and anything.get_json()["title"] == "Lyon only"


def test_raising_the_capacity_from_10_to_12_promotes_the_first_two_waiting(
    events: ServiceHarness,
) -> None:
    event, people = full_trip(events, capacity=10, waiting=5)
    emitted = len(events.events())
    tag = read(events, event["id"]).headers["ETag"]
    raised = patch(events, event["id"], {"capacity": 12}, tag)
    assert raised.status_code == 200, raised.get_json()
    assert (raised.get_json()["capacity"], raised.get_json()["confirmed"]) == (12, 12)
    new = events.events()[emitted:]
    assert [e.type for e in new] == [
        "events.event.updated",
        "events.registration.promoted",
        "events.registration.promoted",
    ]
    assert [e.data["person_id"] for e in new[1:]] == people[10:12]
    listed = registrations(events, event["id"])
    assert [(r["person_id"], r["status"], r["waitlist_position"]) for r in listed[10:]] == [
        (people[10], "confirmed", None),
        (people[11], "confirmed", None),
        (people[12], "waitlisted", 1),
        (people[13], "waitlisted", 2),
        (people[14], "waitlisted", 3),
    ]


def test_lowering_the_capacity_below_the_seats_taken_is_409(events: ServiceHarness) -> None:
    event, _ = full_trip(events, capacity=3, waiting=1)
    emitted = len(events.events())
    lowered = patch(events, event["id"], {"capacity": 2}, "*")
    assert lowered.status_code == 409
    assert lowered.mimetype == "application/problem+json"
    assert "3 seats are taken" in lowered.get_json()["detail"]
    assert read(events, event["id"]).get_json()["capacity"] == 3
    assert len(events.events()) == emitted


def test_rescheduling_reaches_everyone_registered_and_the_calendar(events: ServiceHarness) -> None:
    event = new_event(events, capacity=1)
    seated, waiting = known_person(events, "seated"), known_person(events, "waiting")
    register(events, event["id"], seated)
    register(events, event["id"], waiting)
    ics = events.client.get(f"/api/v1/events/{event['id']}.ics", headers=events.headers(READ))
    before = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    starts, ends = in_days(45, 7), in_days(46, 15)
    moved = patch(events, event["id"], {"starts_at": starts, "ends_at": ends}, "*")
    assert moved.status_code == 200, moved.get_json()
    rescheduled = events.events()[-1]
    assert rescheduled.type == "events.event.rescheduled"
    assert rescheduled.data["person_ids"] == [seated, waiting]
    assert rescheduled.data["previous"]["starts_at"] == event["starts_at"]
    ics = events.client.get(f"/api/v1/events/{event['id']}.ics", headers=events.headers(READ))
    after = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    paris = ZoneInfo("Europe/Paris")
    assert after.decoded("DTSTART") == datetime.fromisoformat(starts).astimezone(paris)
    assert after.decoded("DTEND") == datetime.fromisoformat(ends).astimezone(paris)
    assert str(after.decoded("DTSTART").tzinfo) == "Europe/Paris"


def test_an_agenda_and_a_trip_details_are_in_the_api_and_the_calendar(
    events: ServiceHarness,
) -> None:
    starts = datetime.fromisoformat(in_days(30, 8))
    agenda = [
        {"starts_at": (starts + timedelta(hours=2)).isoformat(), "title": "Cluster visit"},
        {"starts_at": starts.isoformat(), "title": "Welcome", "speaker": "Amina Benali"},
    ]
    event = new_event(
        events,
        agenda=agenda,
        sectors=["Agrifood", " Textile "],
        host_organisation="Lyon Hub",
    )
    assert [item["title"] for item in event["agenda"]] == ["Welcome", "Cluster visit"]
    assert event["agenda"][0]["speaker"] == "Amina Benali"
    assert (event["sectors"], event["host_organisation"]) == (["agrifood", "textile"], "Lyon Hub")
    data = events.events()[-1].data  # events.event.published
    assert [item["title"] for item in data["agenda"]] == ["Welcome", "Cluster visit"]
    assert data["sectors"] == ["agrifood", "textile"]
    ics = events.client.get(f"/api/v1/events/{event['id']}.ics", headers=events.headers(READ))
    description = str(Calendar.from_ical(ics.data).walk("VEVENT")[0]["DESCRIPTION"])
    local = starts.astimezone(ZoneInfo("Europe/Paris"))
    assert f"{local:%Y-%m-%d %H:%M} Welcome (Amina Benali)" in description
    assert "Host: Lyon Hub" in description
    outside = patch(
        events, event["id"], {"agenda": [{"starts_at": in_days(40), "title": "Later"}]}, "*"
    )
    assert outside.status_code == 422
    assert outside.get_json()["errors"] == [
        {
            "pointer": "#/agenda/0/starts_at",
            "detail": "An agenda item must start while the event runs.",
        }
    ]


def test_events_are_filtered_by_sector_and_country(events: ServiceHarness) -> None:
    lyon = new_event(events, sectors=["Agrifood"])
    tunis = new_event(
        events, city="Tunis", country="TN", timezone="Africa/Tunis", sectors=["textile"]
    )
    webinar = new_event(
        events,
        kind="webinar",
        format="online",
        city=None,
        country=None,
        capacity=None,
        online_link="https://meet.example.org/w",
    )

    def ids(query: str) -> list[str]:
        response = events.client.get(f"/api/v1/events?{query}", headers=events.headers(READ))
        assert response.status_code == 200, response.get_json()
        return [e["id"] for e in response.get_json()["items"]]

    assert ids("sector=AGRIFOOD") == [lyon["id"]]
    assert ids("sector=textile&country=tn") == [tunis["id"]]
    assert ids("country=FR") == [lyon["id"]]
    assert ids("sector=mining") == []
    assert webinar["id"] in ids("kind=webinar")
    bad = events.client.get("/api/v1/events?country=XX", headers=events.headers(READ))
    assert bad.status_code == 422


def test_changes_that_break_the_rules_are_refused(events: ServiceHarness) -> None:
    event = new_event(events)
    for body, status in (
        ({"kind": "fair"}, 422),  # not changeable
        ({"title": None}, 422),
        ({"starts_at": in_days(-2)}, 422),  # a published event into the past
        ({"ends_at": in_days(1)}, 422),  # before its start
        ({"capacity": 0}, 422),
        ({"country": "QQ"}, 422),
        ({"sectors": ["x" * 81]}, 422),
    ):
        response = patch(events, event["id"], body, "*")
        assert response.status_code == status, (body, response.get_json())
        assert response.mimetype == "application/problem+json"
    workshop = new_event(events, kind="workshop")
    response = patch(events, workshop["id"], {"host_organisation": "Lyon Hub"}, "*")
    assert response.status_code == 422
    cancelled = events.client.post(
        f"/api/v1/events/{workshop['id']}/cancel", json={}, headers=events.headers(RW)
    )
    assert cancelled.status_code == 200
    assert patch(events, workshop["id"], {"title": "Back"}, "*").status_code == 409
    assert patch(events, "nope", {"title": "Back"}, "*").status_code == 404
