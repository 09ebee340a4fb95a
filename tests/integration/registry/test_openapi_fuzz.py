"""The registry's HTTP API against its own OpenAPI document, property-based (schemathesis).

Every documented operation is fuzzed, positive and negative, with random path ids and
with the ids of resources made for the case (see ``tests/integration/openapi_fuzz.py``
for the machinery and the checks); hypothesis runs derandomized, so every run sends
the same requests.

``test_edge_inputs`` adds schema-valid inputs that random generation practically
never produces (well-formed but forged cursors, NUL characters), one case each.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from booster.testing import ServiceHarness
from tests.integration.openapi_fuzz import (
    Edge,
    assert_conforms,
    backend_harness,
    check_edge,
    cursor,
    edge_params,
    load_schema,
)
from tests.integration.registry.conftest import RW, new_cluster, new_person

MIN_CASES = 300
COUNTRY_CODES = ("MA", "TN", "EG", "FR", "DE")


class RealIds:
    """Fresh resources for a case's path parameters, so the happy paths are reached."""

    def __init__(self, harness: ServiceHarness) -> None:
        self.harness = harness
        self.serial = itertools.count()
        self.codes = itertools.cycle(COUNTRY_CODES)

    def for_operation(self, operation: Any) -> dict[str, str]:
        names = {parameter.name for parameter in operation.path_parameters}
        ids: dict[str, str] = {}
        if "code" in names:
            ids["code"] = next(self.codes)
        if "cluster_id" in names:
            ids["cluster_id"] = self._cluster(inactive=operation.path.endswith("/reactivate"))
        if "member_id" in names:
            ids["member_id"] = self._post(
                f"/api/v1/clusters/{ids['cluster_id']}/members", {"name": "Fuzz Member"}, 201
            )["id"]
        if "person_id" in names:
            email = f"fuzz{next(self.serial)}@example.org"
            ids["person_id"] = new_person(self.harness, email=email)["id"]
        assert names == set(ids), f"no real ids for {sorted(names - set(ids))}"
        return ids

    def _cluster(self, *, inactive: bool) -> str:
        cluster_id = new_cluster(self.harness)["id"]
        if inactive:  # so that reactivate has something to do
            self._post(f"/api/v1/clusters/{cluster_id}/deactivate", {}, 200)
        return cluster_id

    def _post(self, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
        response = self.harness.client.post(path, json=body, headers=self.harness.headers(RW))
        assert response.status_code == status, response.get_json()
        return response.get_json()


def test_registry_api_conforms_to_its_openapi_document(registry: ServiceHarness) -> None:
    schema = load_schema(registry, allow_nul=True)
    assert_conforms(schema, registry.headers(RW), RealIds(registry), min_cases=MIN_CASES)


# -- schema-valid inputs that random generation practically never produces ----------------

EDGES = [
    Edge("cursor-object", "GET /api/v1/clusters", {"cursor": cursor({"a": 1}, "x")}),
    Edge("cursor-null", "GET /api/v1/countries", {"cursor": cursor(None)}),
    Edge("cursor-numbers", "GET /api/v1/people", {"cursor": cursor(1, 2)}),
    Edge("cursor-huge-int", "GET /api/v1/clusters/{cluster_id}/members",
         {"cursor": cursor(10**30, "x")}),  # {cluster_id}: a fresh cluster's
    Edge("nul-body", "POST /api/v1/clusters", {},
         body={"name": "Nul\x00Cluster", "country": "MA", "kind": "cluster"}),
    Edge("nul-query", "GET /api/v1/clusters", {"q": "Nul\x00"}),
    Edge("surrogate-body", "POST /api/v1/people", {},
         body={"name": "Lone \udc00", "email": "lone@example.org", "language": "en"}),
    Edge("nul-path", "GET /api/v1/people/{person_id}", {}, path={"person_id": "nul\x00id"}),
]  # fmt: skip


@pytest.mark.parametrize(("backend", "edge"), edge_params(EDGES))
def test_edge_inputs(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, edge: Edge
) -> None:
    with backend_harness(request, tmp_path, "registry", backend) as harness:
        check_edge(load_schema(harness), edge, harness.headers(RW), RealIds(harness))
