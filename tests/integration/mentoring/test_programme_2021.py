"""The 2021 edition, "Cluster Mentoring Reloaded" (ACCIÓ), played through the API.

13 mentors (cluster managers from France, Italy, Palestine and Spain) and 13 mentees
(governance teams of clusters in Egypt, Jordan, Morocco, Palestine and Tunisia),
January to October 2021, fully online: the registry's events feed the read copies,
the programme is created and opened, everyone enrols, matching proposes 13 pairs,
a manager confirms them, the programme runs with bilateral sessions, a group session
and three joint meetings, participants set goals and give feedback with their own
tokens, the programme closes and the report adds up.
"""

from __future__ import annotations

import csv
import io

from booster.testing import ServiceHarness
from tests.integration.mentoring.conftest import (
    READ,
    call,
    known_cluster,
    known_person,
)

MENTOR_COUNTRIES = ["FR", "IT", "PS", "ES"] * 3 + ["ES"]
MENTEE_COUNTRIES = ["EG", "JO", "MA", "PS", "TN"] * 2 + ["EG", "MA", "TN"]
COMPETENCIES = [
    "value_added_services",
    "governance_strategy",
    "internationalisation",
    "funding",
    "digital_tools",
    "member_engagement",
]
LANGUAGE = {
    "FR": "fr",
    "IT": "en",
    "PS": "ar",
    "ES": "en",
    "EG": "ar",
    "JO": "ar",
    "MA": "fr",
    "TN": "fr",
}


def _cast(mentoring: ServiceHarness) -> tuple[list[str], list[str]]:
    """The registry's clusters and people, delivered as its events would be."""
    mentors, mentees = [], []
    for n, country in enumerate(MENTOR_COUNTRIES):
        cluster = known_cluster(mentoring, f"eu-{n}", country, sectors=["agrifood", "ict"][n % 2 :])
        mentors.append(
            known_person(mentoring, f"mentor-{n:02d}", cluster, language=LANGUAGE[country])
        )
    for n, country in enumerate(MENTEE_COUNTRIES):
        cluster = known_cluster(
            mentoring, f"mena-{n}", country, sectors=[["agrifood"], ["ict"], ["textile"]][n % 3]
        )
        mentees.append(
            known_person(mentoring, f"mentee-{n:02d}", cluster, language=LANGUAGE[country])
        )
    return mentors, mentees


def test_the_2021_programme_played_through_the_api(mentoring: ServiceHarness) -> None:
    mentors, mentees = _cast(mentoring)
    programme = call(
        mentoring,
        "POST",
        "/programmes",
        201,
        json={
            "name": "Cluster Mentoring Reloaded",
            "edition": "2021",
            "organiser": "ACCIÓ",
            "starts_on": "2021-01-11",
            "ends_on": "2021-10-29",
            "competencies": COMPETENCIES,
        },
    )
    pid = programme["id"]
    assert programme["status"] == "draft"
    call(mentoring, "POST", f"/programmes/{pid}/open")

    for n, mentor in enumerate(mentors):
        offered = [COMPETENCIES[(n + k) % 6] for k in range(3)]
        call(
            mentoring,
            "POST",
            f"/programmes/{pid}/enrolments",
            201,
            json={
                "person_id": mentor,
                "role": "mentor",
                "languages": ["en", "fr", "ar"][: 1 + n % 3] + ["en"] * (n % 3 == 0),
                "competencies": [{"competency": c, "level": 5} for c in offered],
                "availability": "Tuesday afternoons CET",
            },
        )
    for n, mentee in enumerate(mentees):
        wanted = [COMPETENCIES[(2 * n + k) % 6] for k in range(2)]
        call(
            mentoring,
            "POST",
            f"/programmes/{pid}/enrolments",
            201,
            json={
                "person_id": mentee,
                "role": "mentee",
                "languages": ["en", "fr", "ar"],
                "competencies": [{"competency": c, "level": 2} for c in wanted],
            },
        )
    listed = call(mentoring, "GET", f"/programmes/{pid}/enrolments?role=mentee&limit=200")
    assert len(listed["items"]) == 13

    proposals = call(mentoring, "POST", f"/programmes/{pid}/matching")["proposals"]
    assert len(proposals) == 13
    assert {p["mentee_id"] for p in proposals} == set(mentees)
    assert {p["mentor_id"] for p in proposals} == set(mentors)  # capacity 1 each
    for proposal in proposals:
        assert proposal["status"] == "proposed" and 0.1 <= proposal["score"] <= 1
        assert proposal["reasons"][0].startswith("shared language: ")
    again = call(mentoring, "POST", f"/programmes/{pid}/matching")["proposals"]
    assert [(p["mentor_id"], p["mentee_id"], p["score"]) for p in again] == [
        (p["mentor_id"], p["mentee_id"], p["score"]) for p in proposals
    ]  # deterministic

    pairs = [call(mentoring, "POST", f"/pairs/{p['id']}/confirm") for p in again]
    assert {p["status"] for p in pairs} == {"active"}
    call(mentoring, "POST", f"/programmes/{pid}/launch")

    for pair in pairs:
        for month in ("02", "04", "06"):
            session = call(
                mentoring,
                "POST",
                f"/pairs/{pair['id']}/sessions",
                201,
                json={
                    "starts_at": f"2021-{month}-15T10:00:00+01:00",
                    "duration_minutes": 60,
                    "timezone": "Europe/Madrid",
                    "online_link": "https://meet.example.org/cmr",
                    "agenda": "Value-added services to members",
                },
            )
            came = [pair["mentor_id"], pair["mentee_id"]] if month != "06" else [pair["mentor_id"]]
            call(
                mentoring,
                "POST",
                f"/sessions/{session['id']}/complete",
                json={"attended": came, "notes": "Action plan reviewed"},
            )
        mentee_token = mentoring.headers("self", sub=pair["mentee_id"])
        goal = call(
            mentoring,
            "POST",
            f"/pairs/{pair['id']}/goals",
            201,
            headers=mentee_token,
            json={"title": "A service offer for members", "competency": "funding"},
        )
        call(
            mentoring,
            "PATCH",
            f"/goals/{goal['id']}",
            headers={**mentee_token, "If-Match": f'"{goal["id"]}.1"'},
            json={"progress": 80},
        )
        for author in (pair["mentor_id"], pair["mentee_id"]):
            call(
                mentoring,
                "POST",
                f"/pairs/{pair['id']}/feedback",
                201,
                headers=mentoring.headers("self", sub=author),
                json={"rating": 4 if author == pair["mentor_id"] else 5, "comment": "Worth it"},
            )
    group = call(
        mentoring,
        "POST",
        f"/programmes/{pid}/sessions",
        201,
        json={
            "title": "Peer group: funding",
            "pair_ids": [p["id"] for p in pairs[:4]],
            "starts_at": "2021-05-20T15:00:00+02:00",
            "duration_minutes": 90,
            "timezone": "Europe/Paris",
        },
    )
    assert len(group["person_ids"]) == 8

    for n, month in enumerate(("01", "05", "10")):
        meeting = call(
            mentoring,
            "POST",
            f"/programmes/{pid}/meetings",
            201,
            json={
                "title": f"Joint meeting {n + 1}",
                "starts_at": f"2021-{month}-20T14:00:00+01:00",
                "ends_at": f"2021-{month}-20T16:00:00+01:00",
                "timezone": "Africa/Tunis",
                "online_link": "https://meet.example.org/joint",
            },
        )
        assert len(meeting["person_ids"]) == 26
    scheduled = [e for e in mentoring.events() if e.type == "mentoring.meeting.scheduled"]
    assert len(scheduled) == 3 and set(scheduled[0].data["person_ids"]) == {*mentors, *mentees}

    call(mentoring, "POST", f"/programmes/{pid}/close")
    report = call(mentoring, "GET", f"/programmes/{pid}/report", headers=mentoring.headers(READ))
    totals = report["totals"]
    assert totals["pairs"] == 13 and totals["completed_pairs"] == 13
    assert totals["sessions"] == 39 and totals["bilateral_sessions"] == 39
    assert totals["sessions_scheduled"] == 1  # the group session was not marked held
    assert totals["joint_meetings"] == 3
    assert totals["feedback"] == 26 and totals["average_rating"] == 4.5
    assert totals["goal_progress"] == 80.0
    assert totals["attendance_rate"] == round(65 / 78, 3)
    row = report["pairs"][0]
    assert (row["sessions_held"], row["attendance_rate"], row["average_rating"]) == (3, 0.833, 4.5)
    assert row["mentee_name"].startswith("Person mentee-")

    as_csv = mentoring.client.get(
        f"/api/v1/programmes/{pid}/report?format=csv", headers=mentoring.headers(READ)
    )
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert len(rows) == 14 and rows[-1]["pair_id"] == "total"
    assert rows[0]["sessions_held"] == "3" and rows[0]["goals"] == "1"
    total = rows[-1]
    assert list(total) == list(rows[0])  # the pair rows' columns, numbers only
    assert {k: total[k] for k in ("status", "mentor_id", "mentee_name")} == dict.fromkeys(
        ("status", "mentor_id", "mentee_name"), ""
    )
    assert (total["sessions_held"], total["goals"], total["goal_progress"]) == ("39", "13", "80.0")
    assert totals["goals"] == 13

    types = [e.type for e in mentoring.events()]
    assert types.count("mentoring.enrolment.accepted") == 26
    assert types.count("mentoring.pair.matched") == 13
    assert types.count("mentoring.pair.ended") == 13  # completed with the programme
    assert types.count("mentoring.session.completed") == 39
    assert types.count("mentoring.feedback.submitted") == 26
