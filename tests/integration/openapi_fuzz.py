"""A service's HTTP API against its own OpenAPI document, property-based (schemathesis).

The machinery every service's ``test_openapi_fuzz.py`` shares; a service supplies only
its real ids (an object whose ``for_operation`` makes resources for a case's path
parameters) and its edge inputs.

The document is loaded from the app's ``/openapi.json`` and every documented operation
is called in-process (WSGI) with requests hypothesis generates from it: valid ones
(positive) and, where there is a body or a query string, invalid ones (negative); with
random path ids (mostly 404) and with the ids of resources made for the case. Each
response must hold to the contract: no 5xx, the documented schema and content type
(errors are ``application/problem+json``), the documented headers, invalid input
refused, and a problem's ``status`` equal to the HTTP status. Hypothesis runs
derandomized (a fixed seed) with a fixed number of examples, so every run sends the
same requests.

Edge inputs (:class:`Edge`) are schema-valid inputs that random generation practically
never produces (well-formed but forged cursors, NUL characters), one case each.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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

from booster.testing import ServiceHarness, service_harness
from tests.conftest import TEST_SECRET

CASES_PER_OPERATION = 40
"""Split evenly over an operation's runs (positive/negative × random/real ids)."""
BACKENDS = ("sqlite", "postgresql")


class RealIds(Protocol):
    """Makes fresh resources for a case's path parameters, so the happy paths are reached."""

    def for_operation(self, operation: Any) -> dict[str, str]:
        """A value for each of ``operation``'s path parameters, named as in its path."""
        ...


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


# positive_data_acceptance is left out on purpose: a document cannot say that a country
# code or a person must exist, a cursor must be one we issued, or a state change must
# be allowed, so schema-valid input meets a documented 422 (or a 404/409) by design.
# status_code_conformance is kept although every operation documents `default` (so any
# status conforms); content type and schema still apply.
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


def plan(schema: Any, cases_per_operation: int = CASES_PER_OPERATION) -> list[Run]:
    runs: list[Run] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # raises if the document has an operation it cannot use
        # A path parameter (a non-empty string) has no invalid form to send, so an
        # operation with nothing else cannot be negated (hypothesis: Unsatisfiable).
        modes = [GenerationMode.POSITIVE]
        if operation.body or operation.query:
            modes.append(GenerationMode.NEGATIVE)
        id_kinds = [False, True] if operation.path_parameters else [False]
        examples = cases_per_operation // (len(modes) * len(id_kinds))
        runs += [Run(operation, mode, real, examples) for mode in modes for real in id_kinds]
    return runs


def describe(error: BaseException) -> str:
    """The failure report (schemathesis' own, with a curl line) and hypothesis' notes."""
    if isinstance(error, BaseExceptionGroup) and not isinstance(error, FailureGroup):
        return "\n".join(describe(inner) for inner in error.exceptions)
    notes = "\n".join(getattr(error, "__notes__", []))
    return f"{type(error).__name__}: {error}\n{notes}".strip()


def fuzz(run: Run, auth: dict[str, str], real_ids: RealIds, counts: Counter[str]) -> None:
    # A read changes nothing, so the cases of one read operation share one set of real
    # resources; a write gets fresh ones for each case (building them is most of the cost).
    shared_ids: dict[str, str] = {}
    safe = run.operation.method.upper() in {"GET", "HEAD", "OPTIONS"}

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
            if not safe:
                ids = real_ids.for_operation(run.operation)
            else:
                if not shared_ids:
                    shared_ids.update(real_ids.for_operation(run.operation))
                ids = dict(shared_ids)
            # Schemathesis revalidates the case after the edit, so a negative case
            # stays judged by what is actually sent.
            case.path_parameters = ids
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    check()


def assert_conforms(
    schema: Any, auth: dict[str, str], real_ids: RealIds, *, min_cases: int
) -> Counter[str]:
    """Fuzz every documented operation; fail with every failing run's report."""
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
    assert sum(counts.values()) >= min_cases, counts
    return counts


# -- schema-valid inputs that random generation practically never produces ----------------


def cursor(*values: Any) -> str:
    """A well-formed cursor (base64url JSON list) holding any values, as a client can forge."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


class ServerErrorResponse(AssertionError):
    """The API answered 5xx to a schema-valid edge input."""


class NotRefused(AssertionError):
    """The API accepted an edge input it must refuse (4xx)."""


@dataclass(frozen=True)
class Edge:
    id: str
    label: str
    query: dict[str, str]
    path: dict[str, str] | None = None  # None: the service's real ids for the operation
    body: dict[str, Any] | None = None


def edge_params(edges: Sequence[Edge]) -> list[Any]:
    """``(backend, edge)`` parameters: every edge on every database."""
    return [
        pytest.param(backend, edge, id=f"{backend}-{edge.id}")
        for backend in BACKENDS
        for edge in edges
    ]


@contextmanager
def backend_harness(
    request: pytest.FixtureRequest, tmp_path: Path, service: str, backend: str
) -> Iterator[ServiceHarness]:
    """``service`` on a fresh database of ``backend`` (sqlite or postgresql)."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    with service_harness(service, url, tmp_path, TEST_SECRET) as harness:
        yield harness


def check_edge(
    schema: Any,
    edge: Edge,
    headers: dict[str, str],
    real_ids: RealIds,
    *,
    refused: bool = False,
) -> None:
    """Send the edge input: never a 5xx, the contract's checks hold, and with ``refused``
    it must be answered 4xx (a problem, as the checks see to)."""
    operation = schema.find_operation_by_label(edge.label)
    path = edge.path
    if path is None and operation.path_parameters:
        path = real_ids.for_operation(operation)
    extra = {"body": edge.body} if edge.body is not None else {}
    case = operation.Case(path_parameters=path, query=edge.query, headers=headers, **extra)
    response = case.call()
    sent = f"{case.method} {case.formatted_path} {edge.query} {edge.body!r}"
    if response.status_code >= 500:
        raise ServerErrorResponse(f"{sent}: {response.status_code} {response.text}")
    case.validate_response(response, checks=CHECKS)
    if refused and not 400 <= response.status_code < 500:
        raise NotRefused(f"{sent}: {response.status_code} {response.text}")
