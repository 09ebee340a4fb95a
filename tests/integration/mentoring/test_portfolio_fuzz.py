"""The portfolio's routes against the OpenAPI document, property-based (schemathesis):
no server error, the documented content types (HTML, PDF, problem+json), schemas and
headers, invalid input refused. ``{programme_id}`` is a running programme with one pair
whose portfolio is published, so the public route is reached too. (The service's whole
document is fuzzed by ``test_openapi_fuzz.py``; here every case is a portfolio's.)"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

from booster.testing import ServiceHarness
from tests.integration.mentoring.conftest import (
    RW,
    call,
    known_cluster,
    known_person,
    new_programme,
)
from tests.integration.openapi_fuzz import describe, fuzz, load_schema, plan

OPERATIONS = {
    "GET /api/v1/programmes/{programme_id}/portfolio",
    "GET /api/v1/programmes/{programme_id}/portfolio/publication",
    "POST /api/v1/programmes/{programme_id}/portfolio/publish",
    "POST /api/v1/programmes/{programme_id}/portfolio/unpublish",
    "GET /portfolios/{programme_id}",
}
CASES_PER_OPERATION = 24
MIN_CASES = 100


class PublishedProgrammes:
    """A fresh running programme with a Spanish mentor and a Tunisian mentee paired, its
    portfolio published, for each case."""

    def __init__(self, harness: ServiceHarness) -> None:
        self.harness = harness
        self.serial = itertools.count()
        known_cluster(harness, "es", "ES", name="Clúster Madrid", description="Madrid")
        known_cluster(harness, "tn", "TN", name="Tunis Agrifood", city="Tunis")

    def for_operation(self, operation: Any) -> dict[str, str]:
        n = next(self.serial)
        pid = new_programme(self.harness, "open")["id"]
        mentor = known_person(self.harness, f"portfolio-mentor-{n}", "es")
        mentee = known_person(self.harness, f"portfolio-mentee-{n}", "tn")
        for person, role in ((mentor, "mentor"), (mentee, "mentee")):
            call(
                self.harness,
                "POST",
                f"/programmes/{pid}/enrolments",
                201,
                json={"person_id": person, "role": role},
            )
        call(
            self.harness,
            "POST",
            f"/programmes/{pid}/pairs",
            201,
            json={"mentor_id": mentor, "mentee_id": mentee},
        )
        call(self.harness, "POST", f"/programmes/{pid}/launch")
        call(self.harness, "POST", f"/programmes/{pid}/portfolio/publish")
        return {"programme_id": pid}


def test_the_portfolio_routes_conform_to_the_openapi_document(mentoring: ServiceHarness) -> None:
    schema = load_schema(mentoring).include(path_regex="portfolio")
    runs = plan(schema, CASES_PER_OPERATION)
    assert {run.operation.label for run in runs} == OPERATIONS
    counts: Counter[str] = Counter()
    failures = []
    ids = PublishedProgrammes(mentoring)
    for run in runs:
        try:
            fuzz(run, mentoring.headers(RW), ids, counts)
        except (AssertionError, BaseExceptionGroup) as error:
            failures.append(f"== {run.name}\n{describe(error)}")
    assert not failures, "\n\n".join(failures)
    assert all(counts[run.name] > 0 for run in runs), counts
    assert sum(counts.values()) >= MIN_CASES, counts
