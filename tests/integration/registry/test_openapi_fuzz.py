"""The registry's HTTP API against its own OpenAPI document, property-based (schemathesis).

The document is loaded from the app's ``/openapi.json`` and every documented operation
is called in-process (WSGI) with requests hypothesis generates from it: valid ones
(positive) and, where there is a body or a query string, invalid ones (negative); with
random path ids (mostly 404) and with the ids of resources made for the case. Each
response must hold to the contract: no 5xx, the documented schema and content type
(errors are ``application/problem+json``), the documented headers, invalid input
refused, and a problem's ``status`` equal to the HTTP status. Hypothesis runs
derandomized (a fixed seed) with a fixed number of examples, so every run sends the
same requests.

``test_edge_inputs`` adds schema-valid inputs that random generation practically
never produces (well-formed but forged cursors, NUL characters), one case each.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.testing import ServiceHarness, service_harness
from tests.conftest import TEST_SECRET
from tests.integration.registry.conftest import RW, new_cluster, new_person

CASES_PER_OPERATION = 40
"""Split evenly over an operation's runs (positive/negative × random/real ids)."""
MIN_CASES = 300
COUNTRY_CODES = ("MA", "TN", "EG", "FR", "DE")


def problem_status_matches(ctx: Any, response: Any, case: Any) -> None:
    """An error's problem details carry the response's own status (the HTTP contract)."""
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"HTTP {response.status_code} without a JSON body") from None
        status = body.get("status") if isinstance(body, dict) else None
        assert status == response.status_code, (
            f"problem status {status!r} != HTTP {response.status_code}"
        )


# positive_data_acceptance is left out on purpose: the document cannot say that a
# country code must exist, a cursor must be one we issued, a label cannot be awarded in
# the future or a cluster_id must name a cluster, so schema-valid input meets a
# documented 422 by design. status_code_conformance is kept although every operation
# documents `default` (so any status conforms); content type and schema still apply.
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    problem_status_matches,
]


def load_schema(harness: ServiceHarness, *, allow_nul: bool = True) -> Any:
    """The app's own OpenAPI document, bound to the app (calls go through WSGI)."""
    # An explicit config: no schemathesis.toml is discovered from the working directory.
    config = schemathesis.Config.from_dict({"generation": {"allow-x00": allow_nul}})
    return schemathesis.openapi.from_wsgi("/openapi.json", harness.app, config=config)


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


@dataclass(frozen=True)
class Run:
    operation: Any
    mode: GenerationMode
    real_ids: bool
    examples: int

    @property
    def name(self) -> str:
        ids = "real ids" if self.real_ids else "random ids"
        return f"{self.operation.label} [{self.mode.value}, {ids}]"


def plan(schema: Any) -> list[Run]:
    runs: list[Run] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # raises if the document has an operation it cannot use
        # A path parameter (a non-empty string) has no invalid form to send, so an
        # operation with nothing else cannot be negated (hypothesis: Unsatisfiable).
        modes = [GenerationMode.POSITIVE]
        if operation.body or operation.query:
            modes.append(GenerationMode.NEGATIVE)
        id_kinds = [False, True] if operation.path_parameters else [False]
        examples = CASES_PER_OPERATION // (len(modes) * len(id_kinds))
        runs += [Run(operation, mode, real, examples) for mode in modes for real in id_kinds]
    return runs


def describe(error: BaseException) -> str:
    """The failure report (schemathesis' own, with a curl line) and hypothesis' notes."""
    if isinstance(error, BaseExceptionGroup) and not isinstance(error, FailureGroup):
        return "\n".join(describe(inner) for inner in error.exceptions)
    notes = "\n".join(getattr(error, "__notes__", []))
    return f"{type(error).__name__}: {error}\n{notes}".strip()


def fuzz(run: Run, auth: dict[str, str], real_ids: RealIds, counts: Counter[str]) -> None:
    @settings(
        max_examples=run.examples,
        derandomize=True,  # a fixed seed: the same requests on every run
        database=None,  # nothing written to .hypothesis/, nothing replayed from it
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=run.operation.as_strategy(generation_mode=run.mode, headers=auth))
    def check(case: Any) -> None:
        counts[run.name] += 1
        if run.real_ids:
            # Schemathesis revalidates the case after the edit, so a negative case
            # stays judged by what is actually sent.
            case.path_parameters = real_ids.for_operation(run.operation)
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    check()


def test_registry_api_conforms_to_its_openapi_document(registry: ServiceHarness) -> None:
    schema = load_schema(registry, allow_nul=True)
    auth = registry.headers(RW)
    real_ids = RealIds(registry)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    runs = plan(schema)
    for run in runs:
        try:
            fuzz(run, auth, real_ids, counts)
        except (AssertionError, BaseExceptionGroup) as error:  # check failures: collect all
            failures.append(f"== {run.name}\n{describe(error)}")

    assert not failures, f"{len(failures)} failing run(s):\n\n" + "\n\n".join(failures)
    documented = {
        f"{method.upper()} {path}"
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    assert {run.operation.label for run in runs} == documented
    assert all(counts[run.name] > 0 for run in runs), counts
    assert sum(counts.values()) >= MIN_CASES, counts


# -- schema-valid inputs that random generation practically never produces ----------------


def cursor(*values: Any) -> str:
    """A well-formed cursor (base64url JSON list) holding any values, as a client can forge."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


class ServerErrorResponse(AssertionError):
    """The API answered 5xx to a schema-valid edge input."""


@dataclass(frozen=True)
class Edge:
    id: str
    label: str
    query: dict[str, str]
    path: dict[str, str] | None = None  # None: a fresh cluster's id for {cluster_id}
    body: dict[str, Any] | None = None


EDGES = [
    Edge("cursor-object", "GET /api/v1/clusters", {"cursor": cursor({"a": 1}, "x")}),
    Edge("cursor-null", "GET /api/v1/countries", {"cursor": cursor(None)}),
    Edge("cursor-numbers", "GET /api/v1/people", {"cursor": cursor(1, 2)}),
    Edge("cursor-huge-int", "GET /api/v1/clusters/{cluster_id}/members",
         {"cursor": cursor(10**30, "x")}),
    Edge("nul-body", "POST /api/v1/clusters", {},
         body={"name": "Nul\x00Cluster", "country": "MA", "kind": "cluster"}),
    Edge("nul-query", "GET /api/v1/clusters", {"q": "Nul\x00"}),
    Edge("nul-path", "GET /api/v1/people/{person_id}", {}, path={"person_id": "nul\x00id"}),
]  # fmt: skip


def _edge_params() -> list[Any]:
    return [
        pytest.param(
            backend,
            edge,
            id=f"{backend}-{edge.id}",
        )
        for backend in ("sqlite", "postgresql")
        for edge in EDGES
    ]


@pytest.mark.parametrize(("backend", "edge"), _edge_params())
def test_edge_inputs(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, edge: Edge
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    with service_harness("registry", url, tmp_path, TEST_SECRET) as harness:
        operation = load_schema(harness).find_operation_by_label(edge.label)
        path = edge.path
        if path is None and operation.path_parameters:
            path = {"cluster_id": new_cluster(harness)["id"]}
        extra = {"body": edge.body} if edge.body is not None else {}
        case = operation.Case(
            path_parameters=path, query=edge.query, headers=harness.headers(RW), **extra
        )
        response = case.call()
        if response.status_code >= 500:
            raise ServerErrorResponse(
                f"{case.method} {case.formatted_path} {edge.query} {edge.body!r}: "
                f"{response.status_code} {response.text}"
            )
        case.validate_response(response, checks=CHECKS)
