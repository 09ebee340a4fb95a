"""The notifications service's HTTP API against its own OpenAPI document, property-based.

Every documented operation is fuzzed, positive and negative, with random path ids and
with the ids of resources made for the case (see ``tests/integration/openapi_fuzz.py``);
the token is an operator's that is also a person's own (``self`` with ``sub`` = the fuzz
person), so the ``/me`` routes are reached too. Random webhook URLs resolve nowhere or
to refused addresses, so nearly every subscription the fuzz posts is refused (422): the
real ones come from the real ids.

``test_edge_inputs`` adds schema-valid inputs that random generation practically never
produces (forged cursors, NUL characters), one case each: each must be refused (4xx).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from booster.testing import ServiceHarness
from services.notifications.samples import SAMPLES
from tests.integration.notifications.conftest import (
    RW,
    handle,
    make,
    pair_matched,
    person_registered,
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

MIN_CASES = 300
PERSON = "fuzz-person"


def auth(harness: ServiceHarness) -> dict[str, str]:
    return harness.headers(f"{RW} self", sub=PERSON)


class RealIds:
    """Fresh resources for a case's path parameters, so the happy paths are reached."""

    def __init__(self, harness: ServiceHarness) -> None:
        self.harness = harness
        self.serial = itertools.count()
        handle(harness, person_registered(PERSON))

    def for_operation(self, operation: Any) -> dict[str, str]:
        names = {parameter.name for parameter in operation.path_parameters}
        ids: dict[str, str] = {}
        n = next(self.serial)
        if "person_id" in names:
            ids["person_id"] = PERSON
        if "notification_id" in names:
            other = f"fuzz-other-{n}"
            handle(self.harness, person_registered(other), pair_matched(PERSON, other, f"p{n}"))
            inbox = self.harness.client.get(
                "/api/v1/me/notifications", headers=auth(self.harness)
            ).get_json()
            ids["notification_id"] = inbox["items"][0]["id"]
        if "subscription_id" in names:
            made = self.harness.client.post(
                "/api/v1/webhooks",
                json={"url": "https://93.184.215.14/hook", "types": ["mentoring.#"]},
                headers=auth(self.harness),
            )
            assert made.status_code == 201, made.get_json()
            ids["subscription_id"] = made.get_json()["id"]
            if "delivery_id" in names:
                handle(self.harness, _programme(f"prog-{n}"))
                deliveries = self.harness.client.get(
                    f"/api/v1/webhooks/{ids['subscription_id']}/deliveries",
                    headers=auth(self.harness),
                ).get_json()
                ids["delivery_id"] = deliveries["items"][0]["id"]
        if "event_type" in names:
            ids["event_type"] = sorted(SAMPLES)[n % len(SAMPLES)]
        if "language" in names:
            ids["language"] = ("en", "fr", "ar", "es")[n % 4]
        assert names == set(ids), f"no real ids for {sorted(names - set(ids))}"
        return ids


def _programme(programme_id: str) -> Any:
    return make(
        "mentoring.programme.created",
        programme_id,
        id=programme_id,
        name="Cluster Mentoring Reloaded",
        edition=None,
        organiser=None,
        starts_on="2026-01-01",
        ends_on="2026-10-31",
        competencies=[],
        status="draft",
    )


def test_notifications_api_conforms_to_its_openapi_document(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from booster.testing import service_harness
    from tests.conftest import TEST_SECRET

    with service_harness("notifications", database_url, tmp_path, TEST_SECRET) as harness:
        schema = load_schema(harness, allow_nul=True)
        assert_conforms(schema, auth(harness), RealIds(harness), min_cases=MIN_CASES)


INBOX = "GET /api/v1/me/notifications"
DELIVERIES = "GET /api/v1/webhooks/{subscription_id}/deliveries"
EDGES = [
    Edge("cursor-not-iso", INBOX, {"cursor": cursor("yesterday", "x")}),
    Edge("cursor-naive", INBOX, {"cursor": cursor("2030-01-01T09:00:00", "x")}),
    Edge("cursor-year-1", INBOX, {"cursor": cursor("0001-01-01T00:00:00+05:00", "x")}),
    Edge("cursor-numbers", INBOX, {"cursor": cursor(1, 2)}),
    Edge("cursor-nul", INBOX, {"cursor": cursor("2030-01-01T09:00:00+00:00", "x\x00")}),
    Edge("cursor-deliveries", DELIVERIES, {"cursor": cursor(True, None)}),
    Edge("nul-path-notification", "POST /api/v1/me/notifications/{notification_id}/read", {},
         path={"notification_id": "nul\x00id"}),
    Edge("nul-path-webhook", "GET /api/v1/webhooks/{subscription_id}", {},
         path={"subscription_id": "nul\x00id"}),
    Edge("nul-path-person", "GET /api/v1/recipients/{person_id}/notifications", {},
         path={"person_id": "nul\x00id"}),
    Edge("nul-body-url", "POST /api/v1/webhooks", {},
         body={"url": "https://example.org/\x00", "types": ["#"]}),
    Edge("nul-body-pattern", "POST /api/v1/webhooks", {},
         body={"url": "https://93.184.215.14/h", "types": ["mentoring.\x00"]}),
    Edge("metadata-url", "POST /api/v1/webhooks", {},
         body={"url": "http://169.254.169.254/latest/meta-data/", "types": ["#"]}),
    Edge("ipv4-mapped-url", "POST /api/v1/webhooks", {},
         body={"url": "http://[::ffff:10.0.0.1]/", "types": ["#"]}),
    Edge("preview-bad-data", "POST /api/v1/templates/{event_type}/{language}/preview", {},
         body={"data": {"id": None}}),
]  # fmt: skip


@pytest.mark.parametrize(("backend", "edge"), edge_params(EDGES))
def test_edge_inputs(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, edge: Edge
) -> None:
    with backend_harness(request, tmp_path, "notifications", backend) as harness:
        schema = load_schema(harness)
        check_edge(schema, edge, auth(harness), RealIds(harness), refused=True)
