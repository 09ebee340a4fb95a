"""Over HTTP (SQLite and PostgreSQL): a programme's edits and closing with work under
way, strict JSON types, joint meetings' own refusals, a mentee's capacity and the
programme list's status filter."""

from __future__ import annotations

from typing import Any

import pytest

from booster.testing import ServiceHarness
from tests.integration.mentoring.conftest import (
    READ,
    RW,
    call,
    known_cluster,
    known_person,
    new_programme,
)

FAR = {"starts_on": "2026-01-01", "ends_on": "2100-12-31"}
"""Dates whose end stays in the future, so that sessions can be still to come."""


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    return body


def _running(mentoring: ServiceHarness) -> tuple[str, dict[str, Any]]:
    """A running programme (2026-2100) with one active pair; both enrolled on funding."""
    pid = new_programme(mentoring, **FAR)["id"]
    known_cluster(mentoring, "es", "ES")
    known_cluster(mentoring, "tn", "TN")
    known_person(mentoring, "mentor", "es")
    known_person(mentoring, "mentee", "tn")
    for person in ("mentor", "mentee"):
        call(
            mentoring,
            "POST",
            f"/programmes/{pid}/enrolments",
            201,
            json={
                "person_id": person,
                "role": person,
                "competencies": [{"competency": "funding", "level": 3}],
            },
        )
    pair = call(
        mentoring,
        "POST",
        f"/programmes/{pid}/pairs",
        201,
        json={"mentor_id": "mentor", "mentee_id": "mentee"},
    )
    call(mentoring, "POST", f"/programmes/{pid}/launch")
    return pid, pair


def _session(mentoring: ServiceHarness, pair_id: str, starts_at: str) -> dict[str, Any]:
    return call(  # type: ignore[no-any-return]
        mentoring,
        "POST",
        f"/pairs/{pair_id}/sessions",
        201,
        json={"starts_at": starts_at, "duration_minutes": 60, "timezone": "Africa/Tunis"},
    )


def _meeting(mentoring: ServiceHarness, pid: str, day: str) -> dict[str, Any]:
    return call(  # type: ignore[no-any-return]
        mentoring,
        "POST",
        f"/programmes/{pid}/meetings",
        201,
        json={
            "title": "Joint meeting",
            "starts_at": f"{day}T10:00:00+01:00",
            "ends_at": f"{day}T12:00:00+01:00",
            "timezone": "Africa/Tunis",
            "online_link": "https://meet.example.org/j",
        },
    )


def _patch(mentoring: ServiceHarness, pid: str, **changes: Any) -> Any:
    return mentoring.client.patch(
        f"/api/v1/programmes/{pid}", json=changes, headers=mentoring.headers(RW)
    )


def test_a_patch_keeps_sessions_meetings_and_used_competencies_in_place(
    mentoring: ServiceHarness,
) -> None:
    pid, pair = _running(mentoring)
    session = _session(mentoring, pair["id"], "2099-06-01T10:00:00+01:00")
    meeting = _meeting(mentoring, pid, "2099-07-01")
    early = _problem(_patch(mentoring, pid, ends_on="2099-05-31"), 409)
    assert f"session {session['id']}" in early["detail"]
    assert "outside the new dates (2026-01-01 to 2099-05-31)" in early["detail"]
    late = _problem(_patch(mentoring, pid, starts_on="2099-06-02"), 409)
    assert "outside the new dates" in late["detail"]
    call(mentoring, "POST", f"/sessions/{session['id']}/cancel", json={})
    moved = _problem(_patch(mentoring, pid, ends_on="2099-06-15"), 409)
    assert f"joint meeting {meeting['id']}" in moved["detail"]
    _problem(_patch(mentoring, pid, ends_on="2025-12-31"), 422)  # before it starts

    used = _problem(_patch(mentoring, pid, competencies=["innovation"]), 409)
    assert used["detail"] == (
        "Competencies used by the programme's enrolments cannot be dropped: funding."
    )
    call(
        mentoring,
        "POST",
        f"/pairs/{pair['id']}/goals",
        201,
        json={"title": "Go abroad", "competency": "internationalisation"},
    )
    aimed = _problem(_patch(mentoring, pid, competencies=["funding"]), 409)
    assert aimed["detail"].endswith("goals cannot be dropped: internationalisation.")

    harmless = _patch(
        mentoring,
        pid,
        name="Cluster Mentoring Reloaded II",
        ends_on="2099-07-01",
        competencies=["funding", "internationalisation", "innovation"],
    )
    assert harmless.status_code == 200, harmless.get_json()
    edited = harmless.get_json()
    assert (edited["ends_on"], edited["status"]) == ("2099-07-01", "running")
    dropped = _patch(mentoring, pid, competencies=["funding", "internationalisation"])
    assert dropped.status_code == 200  # value_added_services and innovation were unused


def test_closing_cancels_the_sessions_and_meetings_to_come(mentoring: ServiceHarness) -> None:
    pid, pair = _running(mentoring)
    past = _session(mentoring, pair["id"], "2026-03-01T10:00:00+01:00")
    coming = _session(mentoring, pair["id"], "2099-06-01T10:00:00+01:00")
    meeting = _meeting(mentoring, pid, "2099-07-01")
    before = len(mentoring.events())
    call(mentoring, "POST", f"/programmes/{pid}/close")

    sessions = {s["id"]: s for s in call(mentoring, "GET", f"/programmes/{pid}/sessions")["items"]}
    assert sessions[past["id"]]["status"] == "scheduled"  # it took place: it may be completed
    assert (sessions[coming["id"]]["status"], sessions[coming["id"]]["cancel_reason"]) == (
        "cancelled",
        "The programme was closed.",
    )
    assert call(mentoring, "GET", f"/meetings/{meeting['id']}")["status"] == "cancelled"
    closing = mentoring.events()[before:]
    assert [e.type for e in closing] == [
        "mentoring.programme.closed",
        "mentoring.pair.ended",
        "mentoring.session.cancelled",
        "mentoring.meeting.cancelled",
    ]
    assert [e.subject for e in closing[-2:]] == [coming["id"], meeting["id"]]
    assert {e.data["reason"] for e in closing[-2:]} == {"The programme was closed."}
    report = call(mentoring, "GET", f"/programmes/{pid}/report", headers=mentoring.headers(READ))
    assert (report["totals"]["sessions_scheduled"], report["totals"]["joint_meetings"]) == (1, 0)


@pytest.mark.parametrize("wrong", [50.5, "50", True, 50.0])
def test_integers_are_strict(mentoring: ServiceHarness, wrong: Any) -> None:
    pid, pair = _running(mentoring)
    goals = f"/api/v1/pairs/{pair['id']}/goals"
    body = {"title": "Go abroad", "competency": "funding"}
    headers = mentoring.headers(RW)
    refused = _problem(
        mentoring.client.post(goals, json={**body, "progress": wrong}, headers=headers), 422
    )
    assert {e["pointer"] for e in refused["errors"]} == {"#/progress"}
    goal = call(mentoring, "POST", goals[len("/api/v1") :], 201, json={**body, "progress": 50})
    patched = mentoring.client.patch(
        f"/api/v1/goals/{goal['id']}", json={"progress": wrong}, headers=headers
    )
    _problem(patched, 422)
    assert call(mentoring, "GET", f"/goals/{goal['id']}")["progress"] == 50

    session = _session(mentoring, pair["id"], "2026-03-01T10:00:00+01:00")
    rated = mentoring.client.post(
        f"/api/v1/pairs/{pair['id']}/feedback",
        json={"rating": wrong if wrong != "50" else "5"},
        headers=mentoring.headers("self", sub="mentee"),
    )
    assert {e["pointer"] for e in _problem(rated, 422)["errors"]} == {"#/rating"}
    for path, json in (
        (f"/pairs/{pair['id']}/sessions", {"starts_at": "2026-04-01T10:00:00Z"}),
        (f"/sessions/{session['id']}/reschedule", {"starts_at": "2026-04-01T10:00:00Z"}),
    ):
        moved = mentoring.client.post(
            f"/api/v1{path}", json={**json, "duration_minutes": wrong}, headers=headers
        )
        assert {e["pointer"] for e in _problem(moved, 422)["errors"]} == {"#/duration_minutes"}

    other = new_programme(mentoring)["id"]
    known_person(mentoring, "mentor-2", "es")
    for field, enrolment in (
        ("#/capacity", {"capacity": wrong}),
        ("#/competencies/0/level", {"competencies": [{"competency": "funding", "level": wrong}]}),
    ):
        enrolled = mentoring.client.post(
            f"/api/v1/programmes/{other}/enrolments",
            json={"person_id": "mentor-2", "role": "mentor", **enrolment},
            headers=headers,
        )
        assert {e["pointer"] for e in _problem(enrolled, 422)["errors"]} == {field}


def test_joint_meetings_say_why_they_are_refused(mentoring: ServiceHarness) -> None:
    pid, _ = _running(mentoring)
    meeting = _meeting(mentoring, pid, "2026-06-01")
    call(mentoring, "POST", f"/programmes/{pid}/close")
    scheduled = mentoring.client.post(
        f"/api/v1/programmes/{pid}/meetings",
        json={
            "title": "Too late",
            "starts_at": "2026-07-01T10:00:00Z",
            "ends_at": "2026-07-01T11:00:00Z",
            "timezone": "UTC",
            "online_link": "https://meet.example.org/j",
        },
        headers=mentoring.headers(RW),
    )
    assert _problem(scheduled, 409)["detail"] == (
        "Joint meetings are scheduled only while the programme is open or running; it is closed."
    )
    moved = mentoring.client.post(
        f"/api/v1/meetings/{meeting['id']}/reschedule",
        json={"starts_at": "2026-06-02T10:00:00Z", "ends_at": "2026-06-02T11:00:00Z"},
        headers=mentoring.headers(RW),
    )
    assert _problem(moved, 409)["detail"] == (
        "Joint meetings are rescheduled only while the programme is open or running; it is closed."
    )


def test_a_mentee_enrolled_with_a_capacity_is_refused(mentoring: ServiceHarness) -> None:
    pid = new_programme(mentoring)["id"]
    known_cluster(mentoring, "tn", "TN")
    known_person(mentoring, "mentee", "tn")
    refused = mentoring.client.post(
        f"/api/v1/programmes/{pid}/enrolments",
        json={"person_id": "mentee", "role": "mentee", "capacity": 3},
        headers=mentoring.headers(RW),
    )
    body = _problem(refused, 422)
    assert body["detail"] == "Only a mentor has a capacity; a mentee takes none."
    assert [e["pointer"] for e in body["errors"]] == ["#/capacity"]
    assert mentoring.events()[-1].type == "mentoring.programme.opened"  # nothing enrolled
    enrolled = call(
        mentoring,
        "POST",
        f"/programmes/{pid}/enrolments",
        201,
        json={"person_id": "mentee", "role": "mentee", "capacity": None},
    )
    assert enrolled["capacity"] is None


def test_programmes_are_filtered_by_a_valid_status(mentoring: ServiceHarness) -> None:
    draft = new_programme(mentoring, status="draft")
    running = new_programme(mentoring, status="running")
    listed = call(mentoring, "GET", "/programmes?status=running", headers=mentoring.headers(READ))
    assert [p["id"] for p in listed["items"]] == [running["id"]]
    drafts = call(mentoring, "GET", "/programmes?status=draft&limit=1")
    assert [p["id"] for p in drafts["items"]] == [draft["id"]] and drafts["next_cursor"] is None
    assert call(mentoring, "GET", "/programmes?status=closed")["items"] == []
    bad = mentoring.client.get("/api/v1/programmes?status=zzz", headers=mentoring.headers(READ))
    assert [e["parameter"] for e in _problem(bad, 422)["errors"]] == ["status"]
