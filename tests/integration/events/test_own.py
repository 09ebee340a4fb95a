"""A person's own view over HTTP (SQLite and PostgreSQL): ``/me/registrations``, their
calendar, and its secret feed, which needs no token and stops once revoked."""

from __future__ import annotations

from urllib.parse import urlsplit

from icalendar import Calendar
from sqlalchemy import select

from booster.testing import ServiceHarness
from services.events.adapters.tables import calendar_feeds
from tests.integration.events.conftest import RW, in_days, known_person, new_event, register


def test_own_registrations_never_show_anyone_else(events: ServiceHarness) -> None:
    me, other = known_person(events, "me"), known_person(events, "other")
    soon = new_event(events, title="Soon", starts_at=in_days(5), ends_at=in_days(6))
    full = new_event(events, title="Full", capacity=1, starts_at=in_days(8), ends_at=in_days(9))
    later = new_event(events, title="Later", starts_at=in_days(50), ends_at=in_days(51))
    theirs = new_event(events, title="Theirs only")
    for event in (later, soon):
        assert register(events, event["id"], me).status_code == 201
        assert register(events, event["id"], other).status_code == 201
    register(events, full["id"], other)
    register(events, full["id"], me)
    register(events, theirs["id"], other)
    own = events.headers("self", sub=me)
    response = events.client.get("/api/v1/me/registrations?limit=2", headers=own)
    assert response.status_code == 200, response.get_json()
    first = response.get_json()
    response = events.client.get(
        f"/api/v1/me/registrations?limit=2&cursor={first['next_cursor']}", headers=own
    )
    rest = response.get_json()
    assert rest["next_cursor"] is None
    items = first["items"] + rest["items"]
    assert {item["person_id"] for item in items} == {me}
    assert [(i["event"]["title"], i["status"], i["waitlist_position"]) for i in items] == [
        ("Soon", "confirmed", None),
        ("Full", "waitlisted", 1),
        ("Later", "confirmed", None),
    ]
    assert items[0]["event"]["status"] == "published"
    assert "key" not in items[0]
    theirs_seen = events.client.get(
        "/api/v1/me/registrations", headers=events.headers("self", sub=other)
    ).get_json()["items"]
    assert {item["person_id"] for item in theirs_seen} == {other}
    assert len(theirs_seen) == 4
    nobody = events.client.get("/api/v1/me/registrations", headers=events.headers("self"))
    assert nobody.get_json() == {"items": [], "next_cursor": None}
    forged = events.client.get("/api/v1/me/registrations?cursor=bm9wZQ", headers=own)
    assert forged.status_code == 422


def test_own_calendar_holds_the_events_with_a_seat(events: ServiceHarness) -> None:
    me, other = known_person(events, "me"), known_person(events, "other")
    seated = new_event(events, title="Seated")
    full = new_event(events, title="Full", capacity=1)
    register(events, seated["id"], me)
    register(events, full["id"], other)
    register(events, full["id"], me)
    response = events.client.get("/api/v1/me/calendar.ics", headers=events.headers("self", sub=me))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    assert [str(entry["SUMMARY"]) for entry in calendar.walk("VEVENT")] == ["Seated"]
    operator = events.client.get("/api/v1/me/calendar.ics", headers=events.headers(RW))
    assert operator.status_code == 403  # /me is a person's own


def test_the_feed_works_without_a_token_and_stops_once_revoked(events: ServiceHarness) -> None:
    me = known_person(events, "me")
    trip = new_event(events, title="Trip to Lyon")
    register(events, trip["id"], me)
    own = events.headers("self", sub=me)
    opened = events.client.post("/api/v1/me/calendar-feed", headers=own)
    assert opened.status_code == 201, opened.get_json()
    url = urlsplit(opened.get_json()["url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "localhost", "/feeds/calendar.ics")
    secret = url.query.removeprefix("key=")
    assert len(secret) >= 43
    feed = f"{url.path}?{url.query}"
    response = events.client.get(feed)  # no token
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    titles = [str(e["SUMMARY"]) for e in Calendar.from_ical(response.data).walk("VEVENT")]
    assert titles == ["Trip to Lyon"]
    with events.runtime.database.reading() as session:
        (stored,) = session.scalars(select(calendar_feeds.c.secret_hash)).all()
    assert secret not in stored and len(stored) == 64  # only its hash
    assert events.client.delete("/api/v1/me/calendar-feed", headers=own).status_code == 204
    gone = events.client.get(feed)
    assert gone.status_code == 404
    assert gone.mimetype == "application/problem+json"
    assert events.client.delete("/api/v1/me/calendar-feed", headers=own).status_code == 204


def test_a_new_feed_replaces_the_old_one(events: ServiceHarness) -> None:
    own = events.headers("self", sub=known_person(events, "me"))
    first = urlsplit(events.client.post("/api/v1/me/calendar-feed", headers=own).get_json()["url"])
    second = urlsplit(events.client.post("/api/v1/me/calendar-feed", headers=own).get_json()["url"])
    assert first.query != second.query
    assert events.client.get(f"{first.path}?{first.query}").status_code == 404
    assert events.client.get(f"{second.path}?{second.query}").status_code == 200


def test_an_unknown_or_missing_feed_key_is_refused(events: ServiceHarness) -> None:
    assert events.client.get("/feeds/calendar.ics?key=not-a-feed").status_code == 404
    missing = events.client.get("/feeds/calendar.ics")
    assert missing.status_code == 422
    assert missing.mimetype == "application/problem+json"
