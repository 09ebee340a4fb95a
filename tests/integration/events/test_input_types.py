"""Inputs are taken as given or refused: an unknown country and a capacity that is not a
JSON integer answer 422, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from booster.testing import ServiceHarness
from tests.integration.events.conftest import RW, trip


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"country": "QQ"}, "#/country"),
        ({"capacity": 2.5}, "#/capacity"),
        ({"capacity": "10"}, "#/capacity"),
        ({"capacity": True}, "#/capacity"),
    ],
)
def test_an_unknown_country_or_a_loose_capacity_is_refused(
    events: ServiceHarness, fields: dict[str, Any], pointer: str
) -> None:
    response = events.client.post("/api/v1/events", json=trip(**fields), headers=events.headers(RW))

    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert pointer in [error["pointer"] for error in response.get_json()["errors"]]
    listed = events.client.get("/api/v1/events", headers=events.headers(RW)).get_json()
    assert listed["items"] == []


def test_a_known_country_in_any_case_is_stored_upper_case(events: ServiceHarness) -> None:
    response = events.client.post(
        "/api/v1/events", json=trip(country="fr"), headers=events.headers(RW)
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["country"] == "FR"
