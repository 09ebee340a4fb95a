"""Events and business trips: create, validate, publish, cancel, list, iCalendar."""

from __future__ import annotations

from icalendar import Calendar

from booster.testing import ServiceHarness
from tests.integration.events.conftest import (
    READ,
    in_days,
    known_person,
    new_event,
    register,
    registrations,
    trip,
)


def types(events: ServiceHarness) -> list[str]:
    return [event_.type for event_ in events.events()]


def test_a_new_event_is_a_draft_stored_in_utc(events: ServiceHarness, rw: dict) -> None:
    body = trip(starts_at="2027-05-01T09:00:00+02:00", ends_at="2027-05-03T17:00:00+02:00")
    response = events.client.post("/api/v1/events", json=body, headers=rw)
    assert response.status_code == 201
    event = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/events/{event['id']}")
    assert event["status"] == "draft"
    assert event["starts_at"] == "2027-05-01T07:00:00+00:00"
    assert event["ends_at"] == "2027-05-03T15:00:00+00:00"
    assert (event["capacity"], event["confirmed"], event["seats_left"]) == (3, 0, 3)
    assert events.client.get(f"/api/v1/events/{event['id']}", headers=rw).get_json() == event
    (created,) = events.events()
    assert created.type == "events.event.created" and created.subject == event["id"]
    assert created.data["starts_at"] == "2027-05-01T07:00:00+00:00"
    assert created.data["status"] == "draft"


def test_an_online_event_needs_no_place_and_no_capacity(events: ServiceHarness) -> None:
    event = new_event(
        events,
        kind="webinar",
        format="online",
        city=None,
        country=None,
        capacity=None,
        online_link="https://meet.example.org/booster",
    )
    assert event["status"] == "published"
    assert (event["capacity"], event["seats_left"]) == (None, None)
    for index in range(5):
        person = known_person(events, f"p{index}")
        assert register(events, event["id"], person).get_json()["status"] == "confirmed"


def test_invalid_events_are_refused_with_the_field_named(events: ServiceHarness, rw: dict) -> None:
    cases = {
        "ends_at": trip(ends_at=in_days(29)),
        "timezone": trip(timezone="Mars/Olympus_Mons"),
        "capacity": trip(capacity=0),
        "city": trip(city=None),
        "registration_closes_at": trip(registration_closes_at=in_days(31)),
        "kind": trip(kind="party"),
        "starts_at": trip(starts_at="2027-05-01T09:00:00"),
        "title": trip(title="   "),
    }
    for field, body in cases.items():
        response = events.client.post("/api/v1/events", json=body, headers=rw)
        assert response.status_code == 422, (field, response.get_json())
        problem = response.get_json()
        assert response.mimetype == "application/problem+json"
        assert any(error["pointer"] == f"#/{field}" for error in problem["errors"]), problem
    assert events.events() == []


def test_publishing_needs_a_link_for_online_events_and_a_future_start(
    events: ServiceHarness, rw: dict
) -> None:
    online = new_event(events, publish=False, format="online", city=None, country=None)
    response = events.client.post(f"/api/v1/events/{online['id']}/publish", headers=rw)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"] == "#/online_link"
    past = new_event(events, publish=False, starts_at=in_days(-3), ends_at=in_days(-2))
    response = events.client.post(f"/api/v1/events/{past['id']}/publish", headers=rw)
    assert response.status_code == 409


def test_publish_and_cancel_follow_the_lifecycle(events: ServiceHarness, rw: dict) -> None:
    event = new_event(events)
    assert event["status"] == "published" and event["version"] == 2
    again = events.client.post(f"/api/v1/events/{event['id']}/publish", headers=rw)
    assert again.status_code == 409
    assert again.get_json()["title"] == "Invalid state transition"
    cancelled = events.client.post(
        f"/api/v1/events/{event['id']}/cancel", json={"reason": "Strike"}, headers=rw
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    twice = events.client.post(f"/api/v1/events/{event['id']}/cancel", json={}, headers=rw)
    assert twice.status_code == 409
    assert types(events) == [
        "events.event.created",
        "events.event.published",
        "events.event.cancelled",
    ]
    assert events.events()[-1].data["reason"] == "Strike"


def test_cancelling_an_event_ends_every_live_registration(events: ServiceHarness, rw: dict) -> None:
    event = new_event(events, capacity=1)
    for person in ("a", "b", "c"):
        register(events, event["id"], known_person(events, person))
    events.client.post(f"/api/v1/events/{event['id']}/registrations/x/cancel", json={}, headers=rw)
    response = events.client.post(f"/api/v1/events/{event['id']}/cancel", json={}, headers=rw)
    assert response.get_json()["confirmed"] == 0
    assert {r["status"] for r in registrations(events, event["id"])} == {"cancelled"}
    cancelled = events.events()[-1]
    assert cancelled.type == "events.event.cancelled"
    assert cancelled.data["person_ids"] == ["a", "b", "c"]
    assert register(events, event["id"], known_person(events, "d")).status_code == 409


def test_unknown_events_are_404(events: ServiceHarness, rw: dict) -> None:
    for method, path in [
        ("GET", "/api/v1/events/nope"),
        ("GET", "/api/v1/events/nope.ics"),
        ("POST", "/api/v1/events/nope/publish"),
        ("POST", "/api/v1/events/nope/cancel"),
        ("GET", "/api/v1/events/nope/registrations"),
        ("POST", "/api/v1/events/nope/registrations"),
    ]:
        body = {"person_id": "p"} if path.endswith("registrations") else {}
        response = events.client.open(path, method=method, json=body, headers=rw)
        assert response.status_code == 404, (method, path, response.get_json())


def test_the_list_filters_and_pages_by_start(events: ServiceHarness, rw: dict) -> None:
    made = [
        new_event(
            events,
            publish=kind != "fair",
            kind=kind,
            starts_at=in_days(day),
            ends_at=in_days(day, 17),
        )
        for day, kind in [(40, "fair"), (10, "workshop"), (20, "business_trip"), (30, "workshop")]
    ]
    by_start = sorted(made, key=lambda event: event["starts_at"])
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = events.client.get("/api/v1/events", query_string=query, headers=rw).get_json()
        seen += [event["id"] for event in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [event["id"] for event in by_start]

    def ids(**query: str) -> list[str]:
        response = events.client.get("/api/v1/events", query_string=query, headers=rw)
        assert response.status_code == 200, response.get_json()
        return [event["id"] for event in response.get_json()["items"]]

    assert ids(kind="workshop") == [made[1]["id"], made[3]["id"]]
    assert ids(status="draft") == [made[0]["id"]]
    assert ids(**{"from": in_days(15), "to": in_days(35)}) == [made[2]["id"], made[3]["id"]]
    # the same instant written with another offset
    later = in_days(15).replace("+00:00", "")
    assert ids(**{"from": later + "-01:00"}) == ids(**{"from": in_days(15, 10)})


def test_bad_list_queries_are_422(events: ServiceHarness, rw: dict) -> None:
    for query in [
        {"kind": "party"},
        {"from": "yesterday"},
        {"from": "2027-01-01T00:00:00"},
        {"cursor": "not-a-cursor"},
        {"limit": "0"},
    ]:
        response = events.client.get("/api/v1/events", query_string=query, headers=rw)
        assert response.status_code == 422, (query, response.get_json())


def test_a_self_token_sees_published_events_but_not_drafts(events: ServiceHarness) -> None:
    draft = new_event(events, publish=False)
    published = new_event(events)
    own = events.headers("self", sub="p1")
    listed = events.client.get("/api/v1/events", headers=own).get_json()["items"]
    assert [event["id"] for event in listed] == [published["id"]]
    assert events.client.get(f"/api/v1/events/{draft['id']}", headers=own).status_code == 404
    assert events.client.get(f"/api/v1/events/{draft['id']}.ics", headers=own).status_code == 404
    assert events.client.get(f"/api/v1/events/{published['id']}", headers=own).status_code == 200
    reader = events.headers(READ)
    assert events.client.get(f"/api/v1/events/{draft['id']}", headers=reader).status_code == 200
    write = events.client.post("/api/v1/events", json=trip(), headers=own)
    assert write.status_code == 403


def test_the_calendar_file_holds_the_event_in_its_time_zone(
    events: ServiceHarness, rw: dict
) -> None:
    event = new_event(
        events,
        format="hybrid",
        title="Joint meeting, Tunis; spring",
        starts_at="2027-03-01T08:00:00+00:00",
        ends_at="2027-03-01T16:00:00+00:00",
        timezone="Africa/Tunis",
        city="Tunis",
        country="TN",
        online_link="https://meet.example.org/jm",
        description="Agenda: matching, plans.",
    )
    response = events.client.get(f"/api/v1/events/{event['id']}.ics", headers=rw)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["summary"]) == "Joint meeting, Tunis; spring"
    assert entry["uid"] == f"{event['id']}@booster-track"
    start = entry.decoded("dtstart")
    assert str(start.tzinfo) == "Africa/Tunis" and start.hour == 9
    assert entry.decoded("dtend").isoformat() == "2027-03-01T17:00:00+01:00"
    assert str(entry["location"]) == "Tunis, TN"
    assert str(entry["url"]) == "https://meet.example.org/jm"
    assert str(entry["status"]) == "CONFIRMED"
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "Africa/Tunis"
    events.client.post(f"/api/v1/events/{event['id']}/cancel", json={}, headers=rw)
    cancelled = Calendar.from_ical(
        events.client.get(f"/api/v1/events/{event['id']}.ics", headers=rw).data
    )
    assert str(cancelled["method"]) == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0]["status"]) == "CANCELLED"
    assert cancelled.walk("VEVENT")[0]["sequence"] > entry["sequence"]
