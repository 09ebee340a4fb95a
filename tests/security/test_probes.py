"""The probes of issue #14, replayed as an outside client would send them to a real
service (the registry): each is answered 4xx with a problem document, and writes at
most a couple of KB to the log (no traceback).

Before the hardening: a body nested ~330 deep anywhere (``/healthz`` included, before
any authentication) raised RecursionError and logged ~116 KB; an ``If-Match`` of
``"id.²"`` or a 5,000-digit version, and a JSON integer over 4,300 digits, were 500s;
every invented HTTP method added a metrics series.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from booster.testing import ServiceHarness
from tests.security.helpers import Log, assert_refused

NESTED_10K = "[" * 10_000 + "]" * 10_000
NESTED_330 = '{"name": ' + "[" * 330 + "]" * 330 + "}"
JSON = {"Content-Type": "application/json"}
CLUSTER = {"name": "Cluster Marbre", "country": "TN", "kind": "cluster"}


def _cluster(registry: ServiceHarness) -> dict[str, Any]:
    response = registry.client.post(
        "/api/v1/clusters", json=CLUSTER, headers=registry.headers("registry:write")
    )
    assert response.status_code == 201, response.get_json()
    return {**response.get_json(), "etag": response.headers["ETag"]}


# --- bodies: parsed only on routes that take one, after authentication, bounded --------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/healthz", 405),
        ("GET", "/healthz", None),  # a GET's body is never read: 200
        ("POST", "/readyz", 405),
        ("POST", "/metrics", 401),
        ("POST", "/openapi.json", 405),
        ("POST", "/nowhere", 404),
        ("POST", "/api/v1/nowhere", 404),
        ("POST", "/api/v1/clusters", 401),  # no token: the body is never read
        ("PATCH", "/api/v1/clusters/x", 401),
    ],
)
def test_a_10000_level_body_on_an_open_path_is_never_parsed(
    registry: ServiceHarness, log: Log, method: str, path: str, status: int | None
) -> None:
    response = registry.client.open(path, method=method, data=NESTED_10K, headers=JSON)
    if status is None:
        assert response.status_code == 200
        assert len(log.since_mark().encode()) <= 2048
    else:
        assert_refused(response, log, status)


@pytest.mark.parametrize(
    "body",
    [NESTED_10K, NESTED_330, '{"name": ' + "[" * 33 + "]" * 33 + "}"],
    ids=["10000-levels", "330-levels", "33-levels"],
)
def test_a_deep_body_with_a_token_is_400_pointing_at_the_body(
    registry: ServiceHarness, log: Log, body: str
) -> None:
    response = registry.client.post(
        "/api/v1/clusters", data=body, headers={**registry.headers("registry:write"), **JSON}
    )
    problem = assert_refused(response, log, 400)
    assert "nests deeper than 32 levels" in problem["detail"]
    assert problem["errors"] == [{"pointer": "#", "detail": problem["detail"]}]


def test_a_body_at_the_depth_limit_is_parsed(registry: ServiceHarness, log: Log) -> None:
    body = '{"name": ' + "[" * 31 + "]" * 31 + ', "country": "TN", "kind": "cluster"}'
    response = registry.client.post(
        "/api/v1/clusters", data=body, headers={**registry.headers("registry:write"), **JSON}
    )
    assert_refused(response, log, 422)  # parsed; the schema refuses a list as a name


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"members_count": ' + "9" * 5000 + "}", 400),  # past Python's 4,300 digits
        (
            '{"members_count": '
            + "9" * 4300
            + ', "name": "x", "country": "TN", "kind": "cluster"}',
            422,
        ),
        ('{"members_count": NaN, "name": "x", "country": "TN", "kind": "cluster"}', 400),
        ('{"members_count": -Infinity}', 400),
        ('{"name": "x"', 400),
        ("", None),
    ],
    ids=["5000-digits", "4300-digits", "nan", "infinity", "truncated", "empty"],
)
def test_odd_numbers_and_broken_json_are_4xx(
    registry: ServiceHarness, log: Log, body: str, status: int | None
) -> None:
    response = registry.client.post(
        "/api/v1/clusters", data=body, headers={**registry.headers("registry:write"), **JSON}
    )
    assert_refused(response, log, status)


def test_a_body_that_is_not_utf8_is_400(registry: ServiceHarness, log: Log) -> None:
    response = registry.client.post(
        "/api/v1/clusters",
        data=b'{"name": "\xff\xfe"}',
        headers={**registry.headers("registry:write"), **JSON},
    )
    assert_refused(response, log, 400)


@pytest.mark.parametrize("where", ["body", "query"])
def test_nul_and_lone_surrogates_are_422(registry: ServiceHarness, log: Log, where: str) -> None:
    headers = {**registry.headers("registry:read registry:write"), **JSON}
    if where == "body":
        response = registry.client.post(
            "/api/v1/clusters", data='{"name": "a\\u0000b", "items": ["\\ud800"]}', headers=headers
        )
    else:
        response = registry.client.get("/api/v1/clusters?q=a%00b", headers=headers)
    assert_refused(response, log, 422)


def test_a_text_body_on_a_json_route_is_415(registry: ServiceHarness, log: Log) -> None:
    response = registry.client.post(
        "/api/v1/clusters",
        data="name=x",
        headers={**registry.headers("registry:write"), "Content-Type": "text/plain"},
    )
    assert_refused(response, log, 415)


def test_an_oversized_body_is_413(registry: ServiceHarness, log: Log) -> None:
    response = registry.client.post(
        "/api/v1/clusters",
        data=b"[" + b"1," * (600 * 1024) + b"1]",
        headers={**registry.headers("registry:write"), **JSON},
    )
    assert_refused(response, log, 413)


# --- If-Match: odd versions name no version (412), never a 500 -------------------------


@pytest.mark.parametrize(
    "version",
    ["²", "٣", "1²", "9" * 5000, "-1", "+1", "1e3", " 1", "0x1", "", "1" * 19],
    ids=[
        "superscript-two",
        "arabic-indic-three",
        "digit-superscript",
        "5000-digits",
        "negative",
        "plus",
        "exponent",
        "space",
        "hex",
        "empty",
        "19-digits",
    ],
)
def test_odd_if_match_versions_are_412(registry: ServiceHarness, log: Log, version: str) -> None:
    cluster = _cluster(registry)
    log.since_mark()
    response = registry.client.patch(
        f"/api/v1/clusters/{cluster['id']}",
        json={"city": "Sfax"},
        headers={**registry.headers("registry:write"), "If-Match": f'"{cluster["id"]}.{version}"'},
    )
    assert_refused(response, log, 412)


def test_the_current_etag_still_matches(registry: ServiceHarness) -> None:
    cluster = _cluster(registry)
    response = registry.client.patch(
        f"/api/v1/clusters/{cluster['id']}",
        json={"city": "Sfax"},
        headers={**registry.headers("registry:write"), "If-Match": cluster["etag"]},
    )
    assert response.status_code == 200, response.get_json()


# --- metrics labels come from closed sets ----------------------------------------------


def test_invented_methods_add_no_metrics_series(registry: ServiceHarness, log: Log) -> None:
    invented = [f"X{uuid.uuid4().hex[:8].upper()}" for _ in range(5)]
    for method in invented:
        for path in ("/healthz", "/api/v1/clusters", f"/{uuid.uuid4().hex}"):
            response = registry.client.open(path, method=method)
            assert_refused(response, log, (404, 405))
    text = registry.client.get("/metrics", headers=registry.headers("ops:read")).get_data(
        as_text=True
    )
    assert not any(method in text for method in invented)
    series = [line for line in text.splitlines() if line.startswith("booster_http_requests_total{")]
    assert any('method="other"' in line for line in series)
    labels = [
        dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.index("}")].split(","))
        for line in series
    ]
    assert {label["status"] for label in labels} <= {'"1xx"', '"2xx"', '"3xx"', '"4xx"', '"5xx"'}
    assert {label["method"].strip('"') for label in labels} <= {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "other",
    }
    assert all(
        label["route"] == '"<unmatched>"' or label["route"].startswith('"/') for label in labels
    )


def test_a_long_unknown_path_logs_a_bounded_line(registry: ServiceHarness, log: Log) -> None:
    path = "/api/v1/" + "a" * 20_000
    assert_refused(registry.client.get(path), log, 404)
    line = json.loads(log.stream.getvalue().splitlines()[-1])
    assert len(line["path"]) <= 257
