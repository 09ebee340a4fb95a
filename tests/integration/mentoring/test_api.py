"""The mentoring API's rules over HTTP (SQLite and PostgreSQL): problems, transitions,
hard rules, `self` access, scopes, ETags and idempotency."""

from __future__ import annotations

import re
from typing import Any

from booster.testing import ServiceHarness
from shared.auth import SCOPES_ATTRIBUTE
from tests.integration.mentoring.conftest import (
    READ,
    RW,
    WRITE,
    call,
    known_cluster,
    known_person,
    new_programme,
)

ID = "00000000-0000-0000-0000-000000000000"


def _routes(harness: ServiceHarness) -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for rule in harness.app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", ID, rule.rule)
            view = harness.app.view_functions[rule.endpoint].view_class  # type: ignore[attr-defined]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                scopes = getattr(getattr(view, method.lower()), SCOPES_ATTRIBUTE)
                found.append((method, path, scopes))
    return found


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def _pair_setup(mentoring: ServiceHarness) -> tuple[str, dict[str, Any]]:
    """A running programme with one active pair (Spanish mentor, Tunisian mentee)."""
    programme = new_programme(mentoring)
    pid = programme["id"]
    known_cluster(mentoring, "es", "ES")
    known_cluster(mentoring, "tn", "TN")
    known_person(mentoring, "mentor", "es")
    known_person(mentoring, "mentee", "tn")
    known_person(mentoring, "stranger", "tn")
    for person, role in (("mentor", "mentor"), ("mentee", "mentee")):
        call(
            mentoring,
            "POST",
            f"/programmes/{pid}/enrolments",
            201,
            json={"person_id": person, "role": role},
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


def test_every_route_checks_token_and_scope(mentoring: ServiceHarness) -> None:
    routes = _routes(mentoring)
    assert len(routes) >= 35
    for method, path, scopes in routes:
        assert scopes, (method, path)
        assert mentoring.client.open(path, method=method, json={}).status_code == 401
        wrong = WRITE if method == "GET" else READ
        others = "registry:read registry:write events:read events:write"
        if "self" not in scopes:
            response = mentoring.client.open(
                path, method=method, json={}, headers=mentoring.headers(f"{wrong} {others}")
            )
            assert response.status_code == 403, (method, path)
            own = mentoring.client.open(
                path, method=method, json={}, headers=mentoring.headers("self", sub="p")
            )
            assert own.status_code == 403, (method, path)
        for scope in ("admin", RW):
            response = mentoring.client.open(
                path, method=method, json={}, headers=mentoring.headers(scope)
            )
            assert response.status_code not in (401, 403)
            assert response.status_code < 500, (method, path, response.get_json())


def test_bad_input_is_a_problem_with_field_errors(mentoring: ServiceHarness) -> None:
    response = mentoring.client.post(
        "/api/v1/programmes",
        json={"name": " ", "starts_on": "2026-13-01", "competencies": ["cooking"], "x": 1},
        headers=mentoring.headers(RW),
    )
    body = _problem(response, 422)
    pointers = {error["pointer"] for error in body["errors"]}
    assert {"#/name", "#/starts_on", "#/ends_on", "#/competencies/0", "#/x"} <= pointers
    backwards = mentoring.client.post(
        "/api/v1/programmes",
        json={
            "name": "x",
            "starts_on": "2026-02-01",
            "ends_on": "2026-01-01",
            "competencies": ["funding"],
        },
        headers=mentoring.headers(RW),
    )
    _problem(backwards, 422)
    _problem(mentoring.client.get(f"/api/v1/programmes/{ID}", headers=mentoring.headers(READ)), 404)
    _problem(
        mentoring.client.get("/api/v1/programmes?cursor=abc", headers=mentoring.headers(READ)), 422
    )


def test_invalid_transitions_answer_409(mentoring: ServiceHarness) -> None:
    draft = new_programme(mentoring, status="draft")
    pid = draft["id"]
    for verb in ("launch", "close"):
        _problem(
            mentoring.client.post(
                f"/api/v1/programmes/{pid}/{verb}", headers=mentoring.headers(RW)
            ),
            409,
        )
    known_cluster(mentoring, "tn", "TN")
    known_person(mentoring, "amina", "tn")
    enrol = mentoring.client.post(
        f"/api/v1/programmes/{pid}/enrolments",
        json={"person_id": "amina", "role": "mentee"},
        headers=mentoring.headers(RW),
    )
    assert "open" in _problem(enrol, 409)["detail"]
    _problem(
        mentoring.client.post(f"/api/v1/programmes/{pid}/matching", headers=mentoring.headers(RW)),
        409,
    )


def test_overrides_that_break_the_hard_rules_are_refused(mentoring: ServiceHarness) -> None:
    pid = new_programme(mentoring)["id"]
    known_cluster(mentoring, "es", "ES")
    known_cluster(mentoring, "tn", "TN")
    for person, home in (("m-fr", "es"), ("m-ar", "tn"), ("e-fr", "tn"), ("e-both", "tn")):
        known_person(mentoring, person, home)
    for person, role, languages in (
        ("m-fr", "mentor", ["fr"]),
        ("m-ar", "mentor", ["ar"]),
        ("e-fr", "mentee", ["fr"]),
        ("e-both", "mentee", ["fr", "ar"]),
    ):
        call(
            mentoring,
            "POST",
            f"/programmes/{pid}/enrolments",
            201,
            json={"person_id": person, "role": role, "languages": languages},
        )

    def pair(mentor: str, mentee: str) -> Any:
        return mentoring.client.post(
            f"/api/v1/programmes/{pid}/pairs",
            headers=mentoring.headers(RW),
            json={"mentor_id": mentor, "mentee_id": mentee},
        )

    assert "language" in _problem(pair("m-ar", "e-fr"), 422)["detail"]
    assert "cluster" in _problem(pair("m-ar", "e-both"), 422)["detail"]
    [proposal] = call(mentoring, "POST", f"/programmes/{pid}/matching")["proposals"]
    assert proposal["mentor_id"] == "m-fr"  # m-ar can pair with neither mentee
    chosen = proposal["mentee_id"]
    other = "e-both" if chosen == "e-fr" else "e-fr"
    override = mentoring.client.post(
        f"/api/v1/pairs/{proposal['id']}/override",
        json={"mentor_id": "m-ar"},
        headers=mentoring.headers(RW),
    )
    _problem(override, 422)
    made = call(
        mentoring, "POST", f"/pairs/{proposal['id']}/override", 201, json={"mentor_id": "m-fr"}
    )
    assert made["manual"] and made["score"] is None
    assert call(mentoring, "GET", f"/pairs/{proposal['id']}")["status"] == "ended"
    assert "capacity" in _problem(pair("m-fr", other), 409)["detail"]
    _problem(pair("m-fr", chosen), 409)
    _problem(
        mentoring.client.post(f"/api/v1/pairs/{made['id']}/confirm", headers=mentoring.headers(RW)),
        409,
    )


def test_a_self_token_sees_and_changes_only_its_own(mentoring: ServiceHarness) -> None:
    pid, pair = _pair_setup(mentoring)
    mentee = mentoring.headers("self", sub="mentee")
    stranger = mentoring.headers("self", sub="stranger")
    assert call(mentoring, "GET", f"/pairs/{pair['id']}", headers=mentee)["id"] == pair["id"]
    assert [p["id"] for p in call(mentoring, "GET", "/me/pairs", headers=mentee)["items"]] == [
        pair["id"]
    ]
    assert call(mentoring, "GET", "/me/pairs", headers=stranger)["items"] == []
    for path in (
        f"/pairs/{pair['id']}",
        f"/pairs/{pair['id']}/goals",
        f"/pairs/{pair['id']}/sessions",
        f"/pairs/{pair['id']}/feedback",
    ):
        _problem(mentoring.client.get(f"/api/v1{path}", headers=stranger), 404)
    goal = call(
        mentoring,
        "POST",
        f"/pairs/{pair['id']}/goals",
        201,
        headers=mentee,
        json={"title": "Member survey", "competency": "value_added_services"},
    )
    _problem(
        mentoring.client.patch(
            f"/api/v1/goals/{goal['id']}", json={"progress": 10}, headers=stranger
        ),
        404,
    )
    stale = mentoring.client.patch(
        f"/api/v1/goals/{goal['id']}",
        json={"progress": 10},
        headers={**mentee, "If-Match": f'"{goal["id"]}.7"'},
    )
    _problem(stale, 412)
    updated = mentoring.client.patch(
        f"/api/v1/goals/{goal['id']}",
        json={"progress": 30},
        headers={**mentee, "If-Match": f'"{goal["id"]}.1"'},
    )
    assert updated.status_code == 200 and updated.headers["ETag"] == f'"{goal["id"]}.2"'
    session = call(
        mentoring,
        "POST",
        f"/pairs/{pair['id']}/sessions",
        201,
        json={"starts_at": "2026-02-01T10:00:00+01:00", "duration_minutes": 45},
    )
    assert (
        call(mentoring, "GET", f"/sessions/{session['id']}", headers=mentee)["id"] == session["id"]
    )
    _problem(mentoring.client.get(f"/api/v1/sessions/{session['id']}", headers=stranger), 404)
    call(mentoring, "POST", f"/sessions/{session['id']}/complete", json={"attended": ["mentee"]})
    feedback = {"rating": 5, "session_id": session["id"], "comment": "=HYPERLINK()"}
    _problem(
        mentoring.client.post(
            f"/api/v1/pairs/{pair['id']}/feedback", json=feedback, headers=stranger
        ),
        404,
    )
    operator = mentoring.client.post(
        f"/api/v1/pairs/{pair['id']}/feedback",
        json=feedback,
        headers=mentoring.headers(RW, sub="manager"),
    )
    _problem(operator, 403)  # feedback is given by its own author only
    call(mentoring, "POST", f"/pairs/{pair['id']}/feedback", 201, headers=mentee, json=feedback)
    _problem(
        mentoring.client.post(
            f"/api/v1/pairs/{pair['id']}/feedback", json=feedback, headers=mentee
        ),
        409,
    )
    _problem(
        mentoring.client.post(
            f"/api/v1/pairs/{pair['id']}/feedback", json={"rating": 6}, headers=mentee
        ),
        422,
    )
    mine = call(mentoring, "GET", f"/pairs/{pair['id']}/feedback", headers=mentee)["items"]
    assert [f["author_id"] for f in mine] == ["mentee"]
    assert (
        call(mentoring, "GET", f"/pairs/{pair['id']}/feedback", headers=mentoring.headers(READ))[
            "items"
        ][0]["comment"]
        == "=HYPERLINK()"
    )
    report = mentoring.client.get(
        f"/api/v1/programmes/{pid}/report?format=csv", headers=mentoring.headers(READ)
    )
    assert report.status_code == 200
    _problem(mentoring.client.get(f"/api/v1/programmes/{pid}/report", headers=mentee), 403)


def test_a_retried_post_with_its_idempotency_key_emits_once(mentoring: ServiceHarness) -> None:
    body = {
        "name": "CMR",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "competencies": ["funding"],
    }
    headers = mentoring.headers(RW, **{"Idempotency-Key": "k-1"})
    first = mentoring.client.post("/api/v1/programmes", json=body, headers=headers)
    second = mentoring.client.post("/api/v1/programmes", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert [e.type for e in mentoring.events()] == ["mentoring.programme.created"]


def test_sessions_and_meetings_over_http(mentoring: ServiceHarness) -> None:
    pid, pair = _pair_setup(mentoring)
    outside = mentoring.client.post(
        f"/api/v1/pairs/{pair['id']}/sessions",
        json={"starts_at": "2031-01-01T10:00:00Z", "duration_minutes": 30},
        headers=mentoring.headers(RW),
    )
    _problem(outside, 422)
    zone = mentoring.client.post(
        f"/api/v1/pairs/{pair['id']}/sessions",
        json={"starts_at": "2026-03-01T10:00:00Z", "duration_minutes": 30, "timezone": "Mars/Base"},
        headers=mentoring.headers(RW),
    )
    _problem(zone, 422)
    session = call(
        mentoring,
        "POST",
        f"/pairs/{pair['id']}/sessions",
        201,
        json={
            "starts_at": "2027-03-01T10:00:00+01:00",
            "duration_minutes": 30,
            "timezone": "Europe/Madrid",
        },
    )
    moved = call(
        mentoring,
        "POST",
        f"/sessions/{session['id']}/reschedule",
        json={"starts_at": "2027-03-02T10:00:00+01:00"},
    )
    assert moved["starts_at"].startswith("2027-03-02T09:00:00")
    early = mentoring.client.post(
        f"/api/v1/sessions/{session['id']}/complete",
        json={"attended": []},
        headers=mentoring.headers(RW),
    )
    _problem(early, 409)
    call(mentoring, "POST", f"/sessions/{session['id']}/cancel", json={"reason": "Clash"})
    meeting = call(
        mentoring,
        "POST",
        f"/programmes/{pid}/meetings",
        201,
        json={
            "title": "Joint meeting",
            "starts_at": "2026-06-01T10:00:00+02:00",
            "ends_at": "2026-06-01T12:00:00+02:00",
            "timezone": "Europe/Madrid",
            "online_link": "https://meet.example.org/j",
        },
    )
    assert meeting["person_ids"] == ["mentor", "mentee"]
    call(
        mentoring,
        "POST",
        f"/meetings/{meeting['id']}/reschedule",
        json={"starts_at": "2026-06-02T10:00:00+02:00", "ends_at": "2026-06-02T12:00:00+02:00"},
    )
    call(mentoring, "POST", f"/meetings/{meeting['id']}/cancel", json={})
    _problem(
        mentoring.client.post(
            f"/api/v1/meetings/{meeting['id']}/cancel", json={}, headers=mentoring.headers(RW)
        ),
        409,
    )
    types = [e.type for e in mentoring.events()][-3:]
    assert types == [
        "mentoring.meeting.scheduled",
        "mentoring.meeting.rescheduled",
        "mentoring.meeting.cancelled",
    ]
    listed = call(mentoring, "GET", f"/programmes/{pid}/sessions?limit=1")
    assert len(listed["items"]) == 1 and listed["next_cursor"] is None
    ended = call(mentoring, "POST", f"/pairs/{pair['id']}/end", json={"reason": "Left the cluster"})
    assert (ended["status"], ended["end_reason"]) == ("ended", "Left the cluster")
    assert mentoring.events()[-1].data["reason"] == "Left the cluster"
