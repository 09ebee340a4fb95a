"""The read path (``shared.reads``) serves the bytes the schemas' dump would, route by route.

Each test reads a route through the app (the fast path: JSON from the selected columns)
and compares its body, byte for byte, with the old path on the same rows: the use case's
domain objects (and views) dumped by the route's marshmallow schema and encoded by
Flask's ``jsonify``. The data has what can go wrong: non-ASCII and control characters,
nulls, matching scores, manual and proposed pairs, competencies with levels, meetings in
several time zones. Both databases (the ``database_url`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pytest
from marshmallow import Schema

from booster.testing import ServiceHarness
from services.mentoring import operations as ops
from services.mentoring import schemas as s
from services.mentoring.domain.model import PairStatus, ProgrammeStatus, Role
from services.mentoring.domain.ports import PairQuery
from shared.http.pagination import decode_cursor, encode_cursor, page
from tests.integration.mentoring.conftest import (
    READ,
    call,
    known_cluster,
    known_person,
    new_programme,
)

AWKWARD = 'Ligne\nà "guillemets" \x01 \x7f \u2028 😀 عنقود'


@pytest.fixture
def data(mentoring: ServiceHarness) -> dict[str, Any]:
    """Programmes in each status, enrolments, proposed and manual pairs, meetings."""
    draft = new_programme(mentoring, "draft", name="Brouillon « 2027 »", edition=None)
    closed = new_programme(mentoring, "running", name="Ancien", organiser=None)
    call(mentoring, "POST", f"/programmes/{closed['id']}/close")
    programme = new_programme(mentoring, name=AWKWARD)
    pid = programme["id"]
    known_cluster(mentoring, "es", "ES")
    known_cluster(mentoring, "fr", "FR")
    known_cluster(mentoring, "tn", "TN")
    known_cluster(mentoring, "ma", "MA")
    people = [
        ("mentor-1", "es", "mentor"),
        ("mentor-2", "fr", "mentor"),
        ("mentee-1", "tn", "mentee"),
        ("mentee-2", "ma", "mentee"),
        ("mentee-3", "tn", "mentee"),
    ]
    for number, (person, cluster, role) in enumerate(people):
        known_person(mentoring, person, cluster)
        body: dict[str, Any] = {"person_id": person, "role": role}
        if number % 2 == 0:
            body |= {
                "languages": ["fr", "en"],
                "competencies": [
                    {"competency": "funding", "level": 4},
                    {"competency": "internationalisation"},
                ],
                "sectors": ["Agroalimentaire", "Numérique"],
                "availability": "Mardi « matin »",
                "capacity": 2 if role == "mentor" else None,
            }
        call(mentoring, "POST", f"/programmes/{pid}/enrolments", 201, json=body)
    call(
        mentoring,
        "POST",
        f"/programmes/{pid}/pairs",
        201,
        json={"mentor_id": "mentor-1", "mentee_id": "mentee-1"},
    )
    proposals = call(mentoring, "POST", f"/programmes/{pid}/matching")["proposals"]
    assert proposals, "matching proposed no pairs"
    call(mentoring, "POST", f"/programmes/{pid}/launch")
    for title, starts, ends, zone in (
        (
            "Réunion conjointe 😀",
            "2026-06-01T10:00:00+02:00",
            "2026-06-01T12:00:00+02:00",
            "Europe/Madrid",
        ),
        ("اجتماع", "2026-03-01T09:30:00.5+01:00", "2026-03-01T11:00:00+01:00", "Africa/Tunis"),
        ("Third", "2026-03-01T08:30:00.5+00:00", "2026-03-01T09:00:00+00:00", "UTC"),
    ):
        call(
            mentoring,
            "POST",
            f"/programmes/{pid}/meetings",
            201,
            json={
                "title": title,
                "starts_at": starts,
                "ends_at": ends,
                "timezone": zone,
                "online_link": "https://meet.example.org/j",
                "agenda": AWKWARD if zone == "UTC" else None,
            },
        )
    return {"programme": pid, "others": [draft["id"], closed["id"]]}


def old_bytes(harness: ServiceHarness, schema: Schema, value: Any) -> bytes:
    """What the route answered before the read path: the schema's dump, ``jsonify``."""
    with harness.app.app_context():
        return harness.app.json.response(schema.dump(value)).get_data()


def get(harness: ServiceHarness, path: str) -> Any:
    response = harness.client.get(path, headers=harness.headers(READ))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response


def _after(values: list[Any] | None) -> tuple[datetime, str] | None:
    return None if values is None else (datetime.fromisoformat(values[0]), values[1])


def every_page(
    harness: ServiceHarness,
    path: str,
    schema: Schema,
    listing: Callable[[int, tuple[datetime, str] | None], Sequence[Any]],
    key: Callable[[Any], list[Any]],
    limit: int = 2,
) -> int:
    """Follow ``path``'s cursors; every page equals the old path's bytes; the items seen."""
    cursor: str | None = None
    seen = 0
    while True:
        separator = "&" if "?" in path else "?"
        query = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        fast = get(harness, query).get_data()
        expected = page(listing(limit + 1, _after(decode_cursor(cursor, (str, str)))), limit, key)
        assert fast == old_bytes(harness, schema, expected), query
        body = get(harness, query).get_json()
        seen += len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def by_creation(item: Any) -> list[Any]:
    return [item.created_at.isoformat(), item.id]


def test_programme_list_and_detail(mentoring: ServiceHarness, data: dict[str, Any]) -> None:
    uow = mentoring.runtime.uow
    for query, status in (
        ("", None),
        ("?status=draft", ProgrammeStatus.DRAFT),
        ("?status=running", ProgrammeStatus.RUNNING),
        ("?status=closed", ProgrammeStatus.CLOSED),
    ):
        seen = every_page(
            mentoring,
            f"/api/v1/programmes{query}",
            s.ProgrammePage(),
            lambda n, after, st=status: ops.list_programmes(uow, n, after, st),
            by_creation,
        )
        assert seen == (3 if status is None else 1)
    for programme_id in (data["programme"], *data["others"]):
        response = get(mentoring, f"/api/v1/programmes/{programme_id}")
        stored = ops.get_programme(uow, programme_id)
        assert response.get_data() == old_bytes(mentoring, s.ProgrammeSchema(), stored)
        assert response.headers["ETag"] == f'"{stored.id}.{stored.version}"'
    missing = mentoring.client.get("/api/v1/programmes/nope", headers=mentoring.headers(READ))
    assert missing.status_code == 404
    assert missing.get_json()["detail"] == "No programme with id 'nope'."
    forged = encode_cursor(["2026-01-01T00:00:00", "x"])
    response = mentoring.client.get(
        f"/api/v1/programmes?cursor={forged}", headers=mentoring.headers(READ)
    )
    assert response.status_code == 422


def test_enrolment_list(mentoring: ServiceHarness, data: dict[str, Any]) -> None:
    uow = mentoring.runtime.uow
    pid = data["programme"]
    for query, role in (("", None), ("?role=mentor", Role.MENTOR), ("?role=mentee", Role.MENTEE)):
        seen = every_page(
            mentoring,
            f"/api/v1/programmes/{pid}/enrolments{query}",
            s.EnrolmentPage(),
            lambda n, after, r=role: [
                s.enrolment_view(e) for e in ops.list_enrolments(uow, pid, r, n, after)
            ],
            lambda view: [view["created_at"].isoformat(), view["id"]],
        )
        assert seen == {None: 5, Role.MENTOR: 2, Role.MENTEE: 3}[role]
    items = get(mentoring, f"/api/v1/programmes/{pid}/enrolments?limit=1").get_json()["items"]
    assert items[0]["competencies"] == [
        {"competency": "funding", "level": 4},
        {"competency": "internationalisation", "level": 3},
    ]


def test_pair_list(mentoring: ServiceHarness, data: dict[str, Any]) -> None:
    uow = mentoring.runtime.uow
    pid = data["programme"]
    for query, status in (
        ("", None),
        ("?status=active", PairStatus.ACTIVE),
        ("?status=proposed", PairStatus.PROPOSED),
    ):
        pair_query = PairQuery(pid, status)
        every_page(
            mentoring,
            f"/api/v1/programmes/{pid}/pairs{query}",
            s.PairPage(),
            lambda n, after, q=pair_query: ops.list_pairs(uow, q, n, after),
            by_creation,
            limit=1,
        )
    items = get(mentoring, f"/api/v1/programmes/{pid}/pairs").get_json()["items"]
    assert {item["manual"] for item in items} == {True, False}
    assert any(isinstance(item["score"], float) for item in items)


def test_meeting_list_and_detail(mentoring: ServiceHarness, data: dict[str, Any]) -> None:
    uow = mentoring.runtime.uow
    pid = data["programme"]
    seen = every_page(
        mentoring,
        f"/api/v1/programmes/{pid}/meetings",
        s.MeetingPage(),
        lambda n, after: ops.list_meetings(uow, pid, n, after),
        lambda meeting: [meeting.starts_at.isoformat(), meeting.id],
    )
    assert seen == 3
    for meeting in get(mentoring, f"/api/v1/programmes/{pid}/meetings").get_json()["items"]:
        fast = get(mentoring, f"/api/v1/meetings/{meeting['id']}").get_data()
        stored = ops.get_meeting(uow, meeting["id"])
        assert fast == old_bytes(mentoring, s.MeetingSchema(), stored)
    missing = mentoring.client.get("/api/v1/meetings/nope", headers=mentoring.headers(READ))
    assert missing.status_code == 404
    assert missing.get_json()["detail"] == "No meeting with id 'nope'."


def test_lists_of_an_unknown_programme_are_404(mentoring: ServiceHarness) -> None:
    for part in ("enrolments", "pairs", "meetings"):
        response = mentoring.client.get(
            f"/api/v1/programmes/nope/{part}", headers=mentoring.headers(READ)
        )
        assert response.status_code == 404, part
        assert response.get_json()["detail"] == "No programme with id 'nope'."


def test_reads_see_the_latest_write(mentoring: ServiceHarness, data: dict[str, Any]) -> None:
    """Read-your-writes: each read runs on the latest committed data."""
    pid = data["programme"]
    etag = get(mentoring, f"/api/v1/programmes/{pid}").headers["ETag"]
    changed = mentoring.client.patch(
        f"/api/v1/programmes/{pid}",
        json={"organiser": "ANIMA"},
        headers={**mentoring.headers("mentoring:read mentoring:write"), "If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    after = get(mentoring, f"/api/v1/programmes/{pid}")
    assert after.get_json()["organiser"] == "ANIMA" and after.headers["ETag"] != etag
    listed = get(mentoring, "/api/v1/programmes?status=running").get_json()["items"]
    assert [p["organiser"] for p in listed] == ["ANIMA"]
