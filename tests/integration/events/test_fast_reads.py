"""The read path (``shared.reads``) serves the bytes the schemas' dump would, route by route.

Each test reads a route through the app (the fast path: JSON from the selected columns)
and compares its body, byte for byte, with the old path on the same rows: the use case's
domain objects (and views) dumped by the route's marshmallow schema and encoded by
Flask's ``jsonify``. The data has what can go wrong: non-ASCII and control characters,
nulls, no capacity, an agenda with offsets and microseconds, drafts (hidden from a
``self`` token), waitlisted, promoted and cancelled registrations, people and clusters
known or not. Both databases (the ``database_url`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from marshmallow import Schema

from booster.testing import ServiceHarness
from services.events import operations as ops
from services.events import schemas as s
from services.events.domain.model import EventKind, EventStatus, RegistrationStatus
from services.events.domain.ports import EventQuery, ParticipantQuery
from shared.http.pagination import decode_cursor, encode_cursor, page
from tests.integration.events.conftest import (
    READ,
    RW,
    in_days,
    known_cluster,
    known_person,
    new_event,
    register,
)

AWKWARD = 'Ligne\nà "guillemets" \x01 \x7f \u2028 😀 رحلة'
SELF_ONLY = "self"


@pytest.fixture
def data(events: ServiceHarness) -> dict[str, Any]:
    """Events (a draft, a webinar without capacity, a trip with an agenda and sectors, a
    cancelled one) and registrations of known and unknown people, through the API."""
    rw = events.headers(RW)
    client = events.client
    starts = datetime.fromisoformat(in_days(30, 8))
    trip = new_event(
        events,
        title="Mission « Lyon » عنقود",
        description=AWKWARD,
        capacity=2,
        agenda=[
            {
                "starts_at": (starts + timedelta(hours=2, microseconds=5)).isoformat(),
                "title": "Visite 😀",
            },
            {
                "starts_at": starts.astimezone().isoformat(),
                "title": "Accueil",
                "speaker": "Amina Benali",
            },
        ],
        sectors=["Agrifood", "Numérique"],
        host_organisation="Lyon Hub",
        registration_closes_at=in_days(29),
    )
    draft = new_event(events, publish=False, title="Brouillon", starts_at=in_days(30, 8))
    webinar = new_event(
        events,
        kind="webinar",
        format="online",
        title="Webinar",
        city=None,
        country=None,
        capacity=None,
        online_link="https://meet.example.org/abc",
        timezone="Africa/Casablanca",
        starts_at=in_days(10),
        ends_at=in_days(10, 11),
    )
    tunis = new_event(events, city="Tunis", country="TN", timezone="Africa/Tunis")
    client.post(f"/api/v1/events/{tunis['id']}/cancel", json={"reason": "météo"}, headers=rw)
    known_cluster(events, "c-1", "Cluster « Agro »", "MA")
    known_person(events, "p-1", name="Amina Benali", cluster_id="c-1", country=None)
    known_person(events, "p-2", name="أحمد", country="EG")
    known_person(events, "p-3", name="Zoë")
    known_person(events, "p-4", cluster_id="c-unknown", country=None)
    known_person(events, "p-5", name="Removed")
    people = ["p-1", "p-2", "p-3", "p-4", "p-5"]
    registered = {}
    for person in people:
        response = register(events, trip["id"], person)
        assert response.status_code == 201, response.get_json()
        registered[person] = response.get_json()["id"]
    assert register(events, webinar["id"], "p-1").status_code == 201
    cancelled = client.post(
        f"/api/v1/events/{trip['id']}/registrations/{registered['p-1']}/cancel",
        json={"reason": "Empêché\u00a0!"},
        headers=rw,
    )
    assert cancelled.status_code == 200  # p-3 is promoted, p-4 and p-5 wait
    with events.runtime.uow.begin() as tx:  # as registry.person.removed would
        tx.people.forget("p-5", datetime.now(UTC))
    return {"trip": trip, "draft": draft, "webinar": webinar, "tunis": tunis, **registered}


def old_bytes(events: ServiceHarness, schema: Schema, value: Any) -> bytes:
    """What the route answered before the read path: the schema's dump, ``jsonify``."""
    with events.app.app_context():
        return events.app.json.response(schema.dump(value)).get_data()


def get(events: ServiceHarness, path: str, scope: str = READ, sub: str = "tester") -> Any:
    response = events.client.get(path, headers=events.headers(scope, sub=sub))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response


def every_page(
    events: ServiceHarness,
    path: str,
    schema: Schema,
    listing: Callable[[int, list[Any] | None], Sequence[Any]],
    key: Callable[[Any], list[Any]],
    kinds: tuple[type, ...],
    scope: str = READ,
    limit: int = 2,
) -> int:
    """Follow ``path``'s cursors; every page equals the old path's bytes; the items seen."""
    cursor: str | None = None
    seen = 0
    while True:
        separator = "&" if "?" in path else "?"
        query = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        fast = get(events, query, scope).get_data()
        expected = page(listing(limit + 1, decode_cursor(cursor, kinds)), limit, key)
        assert fast == old_bytes(events, schema, expected), query
        body = events.client.get(query, headers=events.headers(scope)).get_json()
        seen += len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def _after_start(after: list[Any] | None) -> tuple[datetime, str] | None:
    return None if after is None else (datetime.fromisoformat(after[0]), after[1])


def test_event_list(events: ServiceHarness, data: dict[str, Any]) -> None:
    uow = events.runtime.uow
    by_start = lambda event: [event.starts_at.isoformat(), event.id]  # noqa: E731
    soon, later = datetime.now(UTC) + timedelta(days=20), datetime.now(UTC) + timedelta(days=40)
    for query, filters, scope in [
        ("", {}, READ),
        ("", {"hide_drafts": True}, SELF_ONLY),
        ("?status=draft", {"status": EventStatus.DRAFT}, SELF_ONLY),
        ("?kind=webinar", {"kind": EventKind.WEBINAR}, READ),
        ("?status=cancelled", {"status": EventStatus.CANCELLED}, READ),
        ("?country=tn", {"country": "TN"}, READ),
        ("?sector=NUMÉRIQUE", {"sector": "numérique"}, READ),
        (
            f"?from={soon.isoformat().replace('+', '%2B')}&to={later:%Y-%m-%dT%H:%M:%SZ}",
            {"starts_from": soon, "starts_before": later.replace(microsecond=0)},
            READ,
        ),
    ]:
        if scope == SELF_ONLY:
            filters = {**filters, "hide_drafts": True}
        event_query = EventQuery(**filters)
        seen = every_page(
            events,
            f"/api/v1/events{query}",
            s.EventPage(),
            lambda n, after, q=event_query: ops.list_events(uow, q, n, _after_start(after)),
            by_start,
            (str, str),
            scope,
        )
        assert seen > 0 or query == "?status=draft"
    body = get(events, "/api/v1/events?limit=200").get_json()
    trip = next(item for item in body["items"] if item["id"] == data["trip"]["id"])
    assert trip["description"] == AWKWARD
    assert [item["title"] for item in trip["agenda"]] == ["Accueil", "Visite 😀"]
    assert trip["seats_left"] == 0 and trip["confirmed"] == 2


def test_event_list_refuses_forged_cursors(events: ServiceHarness, data: dict[str, Any]) -> None:
    for values in (["2030-01-01T00:00:00", "x"], ["nope", "x"], ["0001-01-01T00:00:00+01:00", ""]):
        response = events.client.get(
            f"/api/v1/events?cursor={encode_cursor(values)}", headers=events.headers(READ)
        )
        assert response.status_code == 422, values
        assert response.mimetype == "application/problem+json"


def test_event_detail(events: ServiceHarness, data: dict[str, Any]) -> None:
    uow = events.runtime.uow
    for name in ("trip", "draft", "webinar", "tunis"):
        event_id = data[name]["id"]
        response = get(events, f"/api/v1/events/{event_id}")
        stored = ops.get_event(uow, event_id)
        assert response.get_data() == old_bytes(events, s.EventSchema(), stored)
        assert response.headers["ETag"] == f'"{stored.id}.{stored.version}"'
        if name != "draft":
            own = get(events, f"/api/v1/events/{event_id}", SELF_ONLY, "p-2")
            assert own.get_data() == response.get_data()
    for path, scope in [
        ("/api/v1/events/nope", READ),
        (f"/api/v1/events/{data['draft']['id']}", SELF_ONLY),
    ]:
        missing = events.client.get(path, headers=events.headers(scope))
        assert missing.status_code == 404
        assert missing.get_json()["detail"] == f"No event with id {path.rsplit('/', 1)[1]!r}."


def test_participant_list(events: ServiceHarness, data: dict[str, Any]) -> None:
    uow = events.runtime.uow
    trip_id = data["trip"]["id"]
    for query, filters in [
        ("", {}),
        ("?status=waitlisted", {"status": RegistrationStatus.WAITLISTED}),
        ("?status=cancelled", {"status": RegistrationStatus.CANCELLED}),
        ("?country=ma", {"country": "MA"}),  # from the cluster
        ("?country=EG", {"country": "EG"}),
        ("?cluster_id=c-1", {"cluster_id": "c-1"}),
        ("?status=confirmed&country=eg", {"status": RegistrationStatus.CONFIRMED, "country": "EG"}),
    ]:
        participant_query = ParticipantQuery(**filters)
        every_page(
            events,
            f"/api/v1/events/{trip_id}/registrations{query}",
            s.RegistrationPage(),
            lambda n, after, q=participant_query: [
                s.participant_view(item)
                for item in ops.list_registrations(
                    uow, trip_id, q, n, None if after is None else after[0]
                )
            ],
            lambda view: [view["sequence"]],
            (int,),
        )
    items = get(events, f"/api/v1/events/{trip_id}/registrations").get_json()["items"]
    assert [item["waitlist_position"] for item in items] == [None, None, None, 1, 2]
    assert items[0]["person"]["cluster_name"] == "Cluster « Agro »"
    assert items[3]["person"]["cluster_id"] == "c-unknown"
    assert items[3]["person"]["cluster_name"] is None
    assert items[4]["person"] == dict.fromkeys(
        ("name", "email", "country", "cluster_id", "cluster_name")
    )
    for path in ("/api/v1/events/nope/registrations", f"/api/v1/events/{trip_id}/registrations"):
        cursor = "" if "nope" in path else f"?cursor={encode_cursor([2**31])}"
        response = events.client.get(path + cursor, headers=events.headers(READ))
        assert response.status_code == (404 if "nope" in path else 422)


def test_registration_detail(events: ServiceHarness, data: dict[str, Any]) -> None:
    uow = events.runtime.uow
    trip_id = data["trip"]["id"]
    for person in ("p-1", "p-2", "p-3", "p-4", "p-5"):
        path = f"/api/v1/events/{trip_id}/registrations/{data[person]}"
        fast = get(events, path).get_data()
        registration, place = ops.get_registration(uow, trip_id, data[person])
        view = s.registration_view(registration, place)
        assert fast == old_bytes(events, s.RegistrationSchema(), view)
        assert get(events, path, SELF_ONLY, person).get_data() == fast
        other = events.client.get(path, headers=events.headers(SELF_ONLY, sub="p-2x"))
        assert other.status_code == 404
        assert other.get_json()["detail"] == (
            f"No registration {data[person]!r} to event {trip_id!r}."
        )
    elsewhere = f"/api/v1/events/{data['webinar']['id']}/registrations/{data['p-2']}"
    assert events.client.get(elsewhere, headers=events.headers(READ)).status_code == 404


def test_reads_see_the_latest_write(events: ServiceHarness, data: dict[str, Any]) -> None:
    """Read-your-writes: each read runs on the latest committed data."""
    trip_id = data["trip"]["id"]
    etag = get(events, f"/api/v1/events/{trip_id}").headers["ETag"]
    changed = events.client.patch(
        f"/api/v1/events/{trip_id}",
        json={"capacity": 10},
        headers={**events.headers(RW), "If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    after = get(events, f"/api/v1/events/{trip_id}")
    assert after.get_json()["capacity"] == 10 and after.headers["ETag"] != etag
    listed = get(events, "/api/v1/events?limit=200").get_json()["items"]
    assert [e["seats_left"] for e in listed if e["id"] == trip_id] == [6]
    waiting = get(events, f"/api/v1/events/{trip_id}/registrations?status=waitlisted")
    assert waiting.get_json()["items"] == []
