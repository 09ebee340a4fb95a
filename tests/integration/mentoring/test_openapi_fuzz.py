"""The mentoring HTTP API against its own OpenAPI document, property-based.

Every documented operation is fuzzed, positive and negative, with random path ids and
with the ids of resources made for the case (see ``tests/integration/openapi_fuzz.py``
for the machinery and the checks); hypothesis runs derandomized, so every run sends
the same requests. ``{programme_id}`` is a draft for ``/open``, an open programme for
``/launch``, enrolment and matching, else a running one with one active pair;
``{pair_id}`` that pair (a proposal for confirm/reject/override), ``{session_id}`` a
past session of it, ``{goal_id}`` one of its goals, ``{meeting_id}`` a joint meeting.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from booster.testing import ServiceHarness
from tests.integration.mentoring.conftest import (
    RW,
    call,
    known_cluster,
    known_person,
    new_programme,
)
from tests.integration.openapi_fuzz import (
    Edge,
    assert_conforms,
    backend_harness,
    check_edge,
    cursor,
    edge_params,
    load_schema,
)

MIN_CASES = 600


class RealIds:
    def __init__(self, harness: ServiceHarness) -> None:
        self.harness = harness
        self.serial = itertools.count()
        known_cluster(harness, "es", "ES")
        known_cluster(harness, "tn", "TN")

    def for_operation(self, operation: Any) -> dict[str, str]:
        names = {parameter.name for parameter in operation.path_parameters}
        path: str = operation.path
        ids: dict[str, str] = {}
        if names == {"programme_id"}:
            if path.endswith("/open"):
                ids["programme_id"] = new_programme(self.harness, "draft")["id"]
            elif path.endswith(("/launch", "/enrolments", "/matching")):
                ids["programme_id"] = self._programme(launch=False)[0]
            else:
                ids["programme_id"] = self._programme(launch=True)[0]
        elif "pair_id" in names:
            proposal = path.endswith(("/confirm", "/reject", "/override"))
            ids["pair_id"] = self._programme(launch=not proposal, proposal=proposal)[1]
        elif "session_id" in names:
            _, pair_id = self._programme(launch=True)
            ids["session_id"] = call(
                self.harness,
                "POST",
                f"/pairs/{pair_id}/sessions",
                201,
                json={"starts_at": "2026-02-01T10:00:00+00:00", "duration_minutes": 60},
            )["id"]
        elif "goal_id" in names:
            _, pair_id = self._programme(launch=True)
            ids["goal_id"] = call(
                self.harness,
                "POST",
                f"/pairs/{pair_id}/goals",
                201,
                json={"title": "Goal", "competency": "funding"},
            )["id"]
        elif "meeting_id" in names:
            programme_id, _ = self._programme(launch=True)
            ids["meeting_id"] = call(
                self.harness,
                "POST",
                f"/programmes/{programme_id}/meetings",
                201,
                json={
                    "title": "Joint",
                    "timezone": "UTC",
                    "starts_at": "2026-06-01T10:00:00Z",
                    "ends_at": "2026-06-01T12:00:00Z",
                    "online_link": "https://meet.example.org/j",
                },
            )["id"]
        assert names == set(ids), f"no real ids for {sorted(names - set(ids))}"
        return ids

    def _programme(self, *, launch: bool, proposal: bool = False) -> tuple[str, str]:
        """A programme (open, or running if ``launch``) with a mentor and a mentee; their
        pair active, or proposed if ``proposal``."""
        n = next(self.serial)
        programme_id = new_programme(self.harness, "open")["id"]
        mentor = known_person(self.harness, f"fuzz-mentor-{n}", "es")
        mentee = known_person(self.harness, f"fuzz-mentee-{n}", "tn")
        for person, role in ((mentor, "mentor"), (mentee, "mentee")):
            call(
                self.harness,
                "POST",
                f"/programmes/{programme_id}/enrolments",
                201,
                json={"person_id": person, "role": role},
            )
        if proposal:
            [pair] = call(self.harness, "POST", f"/programmes/{programme_id}/matching")["proposals"]
        else:
            pair = call(
                self.harness,
                "POST",
                f"/programmes/{programme_id}/pairs",
                201,
                json={"mentor_id": mentor, "mentee_id": mentee},
            )
        if launch:
            call(self.harness, "POST", f"/programmes/{programme_id}/launch")
        return programme_id, pair["id"]


def test_mentoring_api_conforms_to_its_openapi_document(mentoring: ServiceHarness) -> None:
    schema = load_schema(mentoring, allow_nul=True)
    assert_conforms(schema, mentoring.headers(RW), RealIds(mentoring), min_cases=MIN_CASES)


PROGRAMMES = "GET /api/v1/programmes"
EDGES = [
    Edge("cursor-not-iso", PROGRAMMES, {"cursor": cursor("next tuesday", "x")}),
    Edge("cursor-naive", PROGRAMMES, {"cursor": cursor("2030-01-01T09:00:00", "x")}),
    Edge("cursor-year-1", PROGRAMMES, {"cursor": cursor("0001-01-01T00:00:00+05:00", "x")}),
    Edge("cursor-numbers", PROGRAMMES, {"cursor": cursor(1, 2)}),
    Edge("cursor-nul", PROGRAMMES, {"cursor": cursor("2030-01-01T09:00:00+00:00", "x\x00")}),
    Edge("nul-path", "GET /api/v1/programmes/{programme_id}", {}, path={"programme_id": "a\x00"}),
    Edge(
        "surrogate-body",
        "POST /api/v1/programmes/{programme_id}/enrolments",
        {},
        body={"person_id": "\ud800", "role": "mentee"},
    ),
    Edge(
        "session-year-9999",
        "POST /api/v1/pairs/{pair_id}/sessions",
        {},
        body={"starts_at": "9999-12-31T23:59:59-05:00", "duration_minutes": 30},
    ),
    Edge(
        "meeting-zone",
        "POST /api/v1/programmes/{programme_id}/meetings",
        {},
        body={
            "title": "x",
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2026-01-01T01:00:00Z",
            "timezone": "localtime",
            "online_link": "https://example.org",
        },
    ),
]


@pytest.mark.parametrize(("backend", "edge"), edge_params(EDGES))
def test_edge_inputs(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, edge: Edge
) -> None:
    with backend_harness(request, tmp_path, "mentoring", backend) as harness:
        schema = load_schema(harness)
        check_edge(schema, edge, harness.headers(RW), RealIds(harness), refused=True)
