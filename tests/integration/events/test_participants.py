"""The participant list over HTTP (SQLite and PostgreSQL): who registered, from the read
copies of people and clusters; filters; the CSV export matches the JSON list."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from booster.testing import ServiceHarness
from tests.integration.events.conftest import (
    READ,
    RW,
    known_cluster,
    known_person,
    new_event,
    register,
)


@pytest.fixture
def trip(events: ServiceHarness) -> dict:
    """A trip with three seats and seven people from four places; one has left."""
    known_cluster(events, "c-tunis", "Tunis Agrifood", "TN")
    known_cluster(events, "c-madrid", "Clúster Madrid", "ES")
    people = [
        ("amina", {"name": "Amina Ben Salah", "cluster_id": "c-tunis"}),
        ("marc", {"name": "Marc Dupont", "cluster_id": "c-tunis", "country": "FR"}),
        ("lucia", {"name": "Lucía García", "cluster_id": "c-madrid"}),
        ("karim", {"name": '=HYPERLINK("x")', "cluster_id": "c-unknown", "country": "MA"}),
        ("nadia", {"name": "Nadia Haddad", "cluster_id": "c-tunis"}),
        ("omar", {"name": "Omar Khalil"}),
        ("sara", {"name": "Sara Rossi", "country": "IT"}),
    ]
    event = new_event(events, capacity=3)
    for person_id, fields in people:
        known_person(events, person_id, **fields)
        assert register(events, event["id"], person_id).status_code == 201
    first = register(events, event["id"], "amina")  # registered already: 409
    assert first.status_code == 409
    listed = list_json(events, event["id"], "")
    sara = next(r for r in listed if r["person_id"] == "sara")
    cancelled = events.client.post(
        f"/api/v1/events/{event['id']}/registrations/{sara['id']}/cancel",
        json={},
        headers=events.headers(RW),
    )
    assert cancelled.status_code == 200
    return event


def list_json(events: ServiceHarness, event_id: str, query: str, limit: int = 2) -> list[dict]:
    """Every item of the JSON list under ``query``, page by page (``limit`` a page)."""
    items: list[dict] = []
    cursor = ""
    while True:
        url = f"/api/v1/events/{event_id}/registrations?limit={limit}&{query}{cursor}"
        response = events.client.get(url, headers=events.headers(READ))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        cursor = f"&cursor={body['next_cursor']}"


def list_csv(events: ServiceHarness, event_id: str, query: str) -> list[dict[str, str]]:
    url = f"/api/v1/events/{event_id}/registrations?format=csv&{query}"
    response = events.client.get(url, headers=events.headers(READ))
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = csv.DictReader(io.StringIO(response.data.decode()))
    assert reader.fieldnames == [
        "name",
        "email",
        "country",
        "cluster",
        "status",
        "waitlist_position",
        "registered_at",
    ]
    return list(reader)


def as_row(item: dict[str, Any]) -> dict[str, str]:
    """A JSON item as the CSV writes it (None as empty; a formula-like name quoted)."""
    person = item["person"]
    name = person["name"] or ""
    position = item["waitlist_position"]
    return {
        "name": "'" + name if name[:1] in "=+-@" and name else name,
        "email": person["email"] or "",
        "country": person["country"] or "",
        "cluster": person["cluster_name"] or person["cluster_id"] or "",
        "status": item["status"],
        "waitlist_position": "" if position is None else str(position),
        "registered_at": item["created_at"],
    }


def test_the_list_says_who_registered(events: ServiceHarness, trip: dict) -> None:
    listed = list_json(events, trip["id"], "")
    assert [
        (r["person_id"], r["status"], r["waitlist_position"], r["person"]["country"])
        for r in listed
    ] == [
        ("amina", "confirmed", None, "TN"),  # her cluster's country
        ("marc", "confirmed", None, "FR"),  # his own
        ("lucia", "confirmed", None, "ES"),
        ("karim", "waitlisted", 1, "MA"),
        ("nadia", "waitlisted", 2, "TN"),
        ("omar", "waitlisted", 3, None),
        ("sara", "cancelled", None, "IT"),
    ]
    assert listed[0]["person"] == {
        "name": "Amina Ben Salah",
        "email": "amina@example.org",
        "country": "TN",
        "cluster_id": "c-tunis",
        "cluster_name": "Tunis Agrifood",
    }
    assert listed[3]["person"]["cluster_name"] is None  # a cluster not known (yet)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=TN", ["amina", "nadia"]),
        ("country=tn&status=waitlisted", ["nadia"]),
        ("cluster_id=c-tunis", ["amina", "marc", "nadia"]),
        ("cluster_id=c-tunis&country=FR", ["marc"]),
        ("status=cancelled", ["sara"]),
        ("country=JP", []),
        ("", ["amina", "marc", "lucia", "karim", "nadia", "omar", "sara"]),
    ],
)
def test_the_csv_holds_the_rows_of_the_json_list_under_the_same_filters(
    events: ServiceHarness, trip: dict, query: str, expected: list[str]
) -> None:
    listed = list_json(events, trip["id"], query)
    assert [r["person_id"] for r in listed] == expected
    rows = list_csv(events, trip["id"], query)
    assert rows == [as_row(item) for item in listed]


def test_a_formula_in_a_name_is_not_run_by_a_spreadsheet(
    events: ServiceHarness, trip: dict
) -> None:
    (row,) = list_csv(events, trip["id"], "cluster_id=c-unknown")
    assert row["name"] == '\'=HYPERLINK("x")'
    assert row["cluster"] == "c-unknown"  # no name known: its id


def test_the_list_and_its_csv_are_for_operators(events: ServiceHarness, trip: dict) -> None:
    own = events.headers("self", sub="amina")
    for query in ("", "?format=csv"):
        url = f"/api/v1/events/{trip['id']}/registrations{query}"
        assert events.client.get(url, headers=own).status_code == 403
    for query, parameter in (
        ("format=xml", "format"),
        ("country=XX", "country"),
        ("cluster_id=" + "x" * 37, "cluster_id"),
    ):
        url = f"/api/v1/events/{trip['id']}/registrations?{query}"
        response = events.client.get(url, headers=events.headers(READ))
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["parameter"] == parameter
    unknown = events.client.get(
        "/api/v1/events/nope/registrations?format=csv", headers=events.headers(READ)
    )
    assert unknown.status_code == 404
