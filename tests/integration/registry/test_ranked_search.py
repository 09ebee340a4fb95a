"""``q`` on PostgreSQL: trigram word similarity, best match first, pages that hold.

A GiST trigram index orders the matches by distance (``q <<-> search_text``); the
cursor holds the last item's distance and how many items of that distance were shown
(``shared.reads.Ranked``). Many matches tie (every name with the very word has distance
0), so the pages are checked to neither repeat nor miss one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from booster.testing import ServiceHarness, service_harness
from tests.conftest import TEST_SECRET
from tests.integration.registry.conftest import READ, new_cluster, new_person


@pytest.fixture
def registry(postgres_url: str, tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness("registry", postgres_url, tmp_path, TEST_SECRET) as harness:
        yield harness


def pages(registry: ServiceHarness, path: str, limit: int) -> list[list[dict[str, Any]]]:
    result = []
    cursor = None
    while True:
        query = f"{path}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = registry.client.get(query, headers=registry.headers(READ))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        result.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return result


def cursor_of(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_best_matches_first_and_every_page_once(registry: ServiceHarness) -> None:
    exact = [new_cluster(registry, name=f"Kafesi Agrifood {n:02d}")["id"] for n in range(17)]
    typo = new_cluster(registry, name="Kafesy Textile")["id"]
    longer = new_cluster(registry, name="Kafesiland Logistics")["id"]
    new_cluster(registry, name="Souss Massa Agrifood")
    new_cluster(registry, name="Unrelated", acronym="KFS")

    found = pages(registry, "/api/v1/clusters?q=KAFESI", limit=5)
    ids = [item["id"] for items in found for item in items]
    assert len(found) == 4
    assert len(ids) == len(set(ids)) == 19  # no page repeats or misses a match
    assert set(ids[:17]) == set(exact)  # the very word first
    assert set(ids[17:]) == {typo, longer}
    for items in found:  # equal matches by name within a page
        names = [item["name"] for item in items if item["id"] in exact]
        assert names == sorted(names)
    single = registry.client.get(f"/api/v1/clusters/{exact[3]}", headers=registry.headers(READ))
    listed = next(item for items in found for item in items if item["id"] == exact[3])
    assert listed == single.get_json()


def test_search_by_acronym_or_email_and_no_match(registry: ServiceHarness) -> None:
    cluster = new_cluster(registry, name="عنقود الطاقة", country="EG", acronym="ERECI")
    new_cluster(registry, name="Maroc Numeric Cluster", acronym="MNC")
    person = new_person(registry, name="Karim Tazi", email="karim.tazi@example.org")
    new_person(registry, name="Amina Benali", email="amina@example.org")

    def names(path: str) -> list[str]:
        response = registry.client.get(path, headers=registry.headers(READ))
        assert response.status_code == 200, response.get_json()
        return [item["name"] for item in response.get_json()["items"]]

    assert names("/api/v1/clusters?q=ereci") == [cluster["name"]]
    assert names("/api/v1/clusters?q=الطاقة") == [cluster["name"]]
    assert names("/api/v1/clusters?q=numerik") == ["Maroc Numeric Cluster"]  # a typo
    assert names("/api/v1/clusters?q=zzzz") == []
    assert names("/api/v1/people?q=karim.tazi@example") == [person["name"]]
    assert names("/api/v1/people?q=TAZI") == [person["name"]]
    assert names("/api/v1/people?q=benali&role=expert") == []


@pytest.mark.parametrize(
    "cursor",
    [
        cursor_of(["Kafesi", "x"]),  # a name-order cursor
        cursor_of([0.0, -1]),
        cursor_of([0.0, 1.5]),
        base64.urlsafe_b64encode(b"[NaN, 0]").decode(),
        "bm9wZQ",
    ],
)
def test_a_cursor_this_list_did_not_issue_is_refused(registry: ServiceHarness, cursor: str) -> None:
    new_cluster(registry, name="Kafesi Agrifood")
    response = registry.client.get(
        f"/api/v1/clusters?q=kafesi&cursor={cursor}", headers=registry.headers(READ)
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_the_page_is_read_in_distance_order_from_the_gist_index(
    registry: ServiceHarness,
) -> None:
    """The plan: one ordered GiST scan that stops after the page (no sort of the matches)."""
    from services.registry.adapters import reads
    from shared.reads import read_connection

    new_cluster(registry, name="Kafesi Agrifood")
    statement = reads.CLUSTERS_RANKED.statement(("q",), reads.CLUSTERS_BY_MATCH, False)
    with read_connection(registry.runtime.database) as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: force the index
        compiled = statement.compile(connection)
        plan = connection.exec_driver_sql(
            f"EXPLAIN {compiled}", {**compiled.params, "q": "kafesi", "limit": 21}
        ).all()
        connection.exec_driver_sql("RESET enable_seqscan")
    text = "\n".join(row[0] for row in plan)
    assert "ix_clusters_search_text_gist_trgm" in text
    assert "Order By" in text and "Sort" not in text
