"""The read path (``shared.reads``) serves the bytes the schemas' dump would, route by route.

Each test reads a route through the app (the fast path: JSON from the selected columns)
and compares its body, byte for byte, with the old path on the same rows: the use case's
domain objects dumped by the route's marshmallow schema and encoded by Flask's
``jsonify``. The data has what can go wrong: non-ASCII and control characters, nulls,
labels (current, expired, open-ended), a country policy, members who left, microsecond
times. Both databases (the ``database_url`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema

from booster.testing import ServiceHarness, service_harness
from services.registry import operations as ops
from services.registry import schemas as s
from services.registry.domain.model import ClusterStatus, LabelLevel, Language, PersonRole, Region
from services.registry.domain.ports import ClusterQuery, PersonQuery
from shared.http.pagination import decode_cursor, page
from tests.conftest import TEST_SECRET
from tests.integration.registry.conftest import READ, RW, new_cluster, new_person

AWKWARD = 'Ligne\nà "guillemets" \x01 \x7f \u2028 😀 عنقود'


@pytest.fixture
def sqlite_registry(sqlite_url: str, tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness("registry", sqlite_url, tmp_path, TEST_SECRET) as harness:
        yield harness


@pytest.fixture
def data(registry: ServiceHarness) -> dict[str, Any]:
    """Clusters, labels, members, people and a policy, through the API."""
    rw = registry.headers(RW)
    client = registry.client
    numeric = new_cluster(
        registry,
        name="Maroc Numeric Cluster",
        acronym="MNC",
        city="Casablanca",
        sectors=["ICT", "Numérique"],
        founded=2009,
        website="https://mnc.example.org",
        description=AWKWARD,
        members_count=120,
    )
    energy = new_cluster(registry, name="عنقود الطاقة", country="EG", acronym="ERECI")
    pole = new_cluster(registry, name="Pôle Écologique", country="TN", sectors=["Eau"])
    spain = new_cluster(registry, name="Clúster Canarias", country="ES", kind="association")
    for body in (
        {
            "scheme": "ESCA",
            "level": "gold",
            "awarded_on": "2020-01-01",
            "valid_until": "2030-01-01",
        },
        {
            "scheme": "ESCA",
            "level": "silver",
            "awarded_on": "2010-01-01",
            "valid_until": "2012-01-01",
        },
        {"scheme": "Label « Pôle »", "level": "bronze", "awarded_on": "2019-05-05"},
    ):
        response = client.post(f"/api/v1/clusters/{numeric['id']}/labels", json=body, headers=rw)
        assert response.status_code == 201, response.get_json()
    client.post(f"/api/v1/clusters/{spain['id']}/deactivate", json={"reason": "x"}, headers=rw)
    member = client.post(
        f"/api/v1/clusters/{numeric['id']}/members",
        json={"name": "Société Générale", "size_class": "large", "country": "FR"},
        headers=rw,
    ).get_json()
    for name in ("Atlas Data", "Casa Cloud", "Berbère Tech"):
        client.post(f"/api/v1/clusters/{numeric['id']}/members", json={"name": name}, headers=rw)
    client.post(
        f"/api/v1/clusters/{numeric['id']}/members/{member['id']}/leave", json={}, headers=rw
    )
    people = [
        new_person(
            registry,
            name="Amina Benali",
            cluster_id=numeric["id"],
            role="cluster_manager",
            phone="+212 600 000 000",
        ),
        new_person(registry, name="أحمد", email="ahmed@example.org", language="ar"),
        new_person(registry, name="Zoë", email="zoe@example.org", language="en", country="FR"),
        new_person(registry, name="Karim", email="karim@example.org", cluster_id=energy["id"]),
    ]
    policy = {"summary": "Stratégie « clusters »", "facts": ["Depuis 2016", "دعم"]}
    assert client.put("/api/v1/countries/MA/policy", json=policy, headers=rw).status_code == 200
    return {
        "clusters": [numeric, energy, pole, spain],
        "people": people,
        "numeric": numeric["id"],
    }


def old_bytes(registry: ServiceHarness, schema: Schema, value: Any) -> bytes:
    """What the route answered before the read path: the schema's dump, ``jsonify``."""
    with registry.app.app_context():
        return registry.app.json.response(schema.dump(value)).get_data()


def get(registry: ServiceHarness, path: str, status: int = 200) -> Any:
    response = registry.client.get(path, headers=registry.headers(READ))
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == (
        "application/json" if status == 200 else "application/problem+json"
    )
    return response


def old_page(
    listing: Callable[[int, Any], Sequence[Any]],
    limit: int,
    cursor: str | None,
    kinds: tuple[type, ...],
    key: Callable[[Any], list[Any]],
) -> dict[str, Any]:
    return page(listing(limit + 1, decode_cursor(cursor, kinds)), limit, key)


def every_page(
    registry: ServiceHarness,
    path: str,
    schema: Schema,
    listing: Callable[[int, Any], Sequence[Any]],
    key: Callable[[Any], list[Any]],
    kinds: tuple[type, ...] = (str, str),
    limit: int = 2,
) -> int:
    """Follow ``path``'s cursors; every page equals the old path's bytes; the items seen."""
    cursor: str | None = None
    seen = 0
    while True:
        separator = "&" if "?" in path else "?"
        query = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        fast = get(registry, query).get_data()
        expected = old_page(listing, limit, cursor, kinds, key)
        assert fast == old_bytes(registry, schema, expected), query
        body = registry.client.get(query, headers=registry.headers(READ)).get_json()
        seen += len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_country_list_and_detail(registry: ServiceHarness, data: dict[str, Any]) -> None:
    uow = registry.runtime.uow
    by_code = lambda country: [country.code]  # noqa: E731
    for path, region, programme in [
        ("/api/v1/countries?programme=true", None, True),
        ("/api/v1/countries?region=eu&programme=false", Region.EU, False),
        ("/api/v1/countries?region=mena", Region.MENA, None),
    ]:
        seen = every_page(
            registry,
            path,
            s.CountryPage(),
            lambda n, after, r=region, p=programme: ops.list_countries(uow, r, p, n, after),
            by_code,
            (str,),
            limit=7,
        )
        assert seen > 0
    for code in ("MA", "ma", "FR", "PS"):
        fast = get(registry, f"/api/v1/countries/{code}").get_data()
        assert fast == old_bytes(registry, s.CountrySchema(), ops.get_country(uow, code))
    assert b"\\u062f\\u0639\\u0645" in get(registry, "/api/v1/countries/MA").get_data()


def test_cluster_list(registry: ServiceHarness, data: dict[str, Any]) -> None:
    uow = registry.runtime.uow
    by_name = lambda cluster: [cluster.name, cluster.id]  # noqa: E731
    for query, filters in [
        ("", {}),
        ("?country=ma", {"country": "MA"}),
        ("?region=mena", {"region": Region.MENA}),
        ("?sector=ict", {"sector": "ict"}),
        ("?sector=NUMÉRIQUE", {"sector": "NUMÉRIQUE"}),
        ("?label=gold", {"label": LabelLevel.GOLD}),
        ("?label=silver", {"label": LabelLevel.SILVER}),  # expired: none
        ("?status=inactive", {"status": ClusterStatus.INACTIVE}),
        (
            "?region=mena&status=active&label=bronze",
            {"region": Region.MENA, "status": ClusterStatus.ACTIVE, "label": LabelLevel.BRONZE},
        ),
    ]:
        cluster_query = ClusterQuery(**filters)
        every_page(
            registry,
            f"/api/v1/clusters{query}",
            s.ClusterPage(),
            lambda n, after, q=cluster_query: ops.list_clusters(uow, q, n, after),
            by_name,
        )
    body = get(registry, "/api/v1/clusters?limit=200").get_json()
    assert len(body["items"]) == 4
    numeric = next(item for item in body["items"] if item["id"] == data["numeric"])
    assert numeric["description"] == AWKWARD
    assert [label["level"] for label in numeric["labels"]] == ["gold", "silver", "bronze"]


def test_search_without_trigrams_is_the_old_substring_search(
    sqlite_registry: ServiceHarness,
) -> None:
    """SQLite keeps the substring search in name order: the bytes of before."""
    registry = sqlite_registry
    uow = registry.runtime.uow
    new_cluster(registry, name="Maroc Numeric Cluster", acronym="MNC")
    new_cluster(registry, name="عنقود الطاقة", country="EG", acronym="ERECI")
    new_cluster(registry, name="Clúster 100% Canarias", country="ES")
    new_person(registry, name="Karim", email="karim@example.org")
    new_person(registry, name="Zoë", email="zoe@example.org", language="en")
    for q in ("numeric", "ereci", "é", "%", "CANARIAS", "er"):
        every_page(
            registry,
            f"/api/v1/clusters?q={q.replace('%', '%25')}",
            s.ClusterPage(),
            lambda n, after, q=q: ops.list_clusters(uow, ClusterQuery(q=q), n, after),
            lambda cluster: [cluster.name, cluster.id],
            limit=1,
        )
    for q in ("karim@example", "ZO", "example.org"):
        every_page(
            registry,
            f"/api/v1/people?q={q}",
            s.PersonPage(),
            lambda n, after, q=q: ops.list_people(uow, PersonQuery(q=q), n, after),
            lambda person: [person.name, person.id],
            limit=1,
        )


def test_cluster_detail_and_labels(registry: ServiceHarness, data: dict[str, Any]) -> None:
    uow = registry.runtime.uow
    for cluster in data["clusters"]:
        response = get(registry, f"/api/v1/clusters/{cluster['id']}")
        stored = ops.get_cluster(uow, cluster["id"])
        assert response.get_data() == old_bytes(registry, s.ClusterSchema(), stored)
        assert response.headers["ETag"] == f'"{stored.id}.{stored.version}"'
        labels = get(registry, f"/api/v1/clusters/{cluster['id']}/labels").get_data()
        assert labels == old_bytes(registry, s.LabelSchema(many=True), list(stored.labels))
    for path in ("/api/v1/clusters/nope", "/api/v1/clusters/nope/labels"):
        missing = registry.client.get(path, headers=registry.headers(READ))
        assert missing.status_code == 404
        assert missing.get_json()["detail"] == "No cluster 'nope'."


def test_member_list(registry: ServiceHarness, data: dict[str, Any]) -> None:
    uow = registry.runtime.uow
    cluster_id = data["numeric"]
    for query, current in (("", True), ("?current=false", False)):
        seen = every_page(
            registry,
            f"/api/v1/clusters/{cluster_id}/members{query}",
            s.MemberPage(),
            lambda n, after, c=current: ops.list_members(uow, cluster_id, c, n, after),
            lambda member: [member.name, member.id],
        )
        assert seen == (3 if current else 4)
    missing = registry.client.get("/api/v1/clusters/nope/members", headers=registry.headers(READ))
    assert missing.status_code == 404


def test_person_list_and_detail(registry: ServiceHarness, data: dict[str, Any]) -> None:
    uow = registry.runtime.uow
    for query, filters in [
        ("", {}),
        (f"?cluster_id={data['numeric']}", {"cluster_id": data["numeric"]}),
        ("?role=cluster_manager", {"role": PersonRole.CLUSTER_MANAGER}),
        ("?language=ar", {"language": Language.AR}),
    ]:
        person_query = PersonQuery(**filters)
        every_page(
            registry,
            f"/api/v1/people{query}",
            s.PersonPage(),
            lambda n, after, q=person_query: ops.list_people(uow, q, n, after),
            lambda person: [person.name, person.id],
        )
    for person in data["people"]:
        response = get(registry, f"/api/v1/people/{person['id']}")
        stored = ops.get_person(uow, person["id"])
        assert response.get_data() == old_bytes(registry, s.PersonSchema(), stored)
        assert response.headers["ETag"] == f'"{stored.id}.{stored.version}"'
    missing = registry.client.get("/api/v1/people/nope", headers=registry.headers(READ))
    assert missing.status_code == 404 and missing.get_json()["detail"] == "No person 'nope'."


def test_reads_see_the_latest_write(registry: ServiceHarness, data: dict[str, Any]) -> None:
    """Read-your-writes: each read runs on the latest committed data."""
    rw = registry.headers(RW)
    cluster_id = data["numeric"]
    etag = get(registry, f"/api/v1/clusters/{cluster_id}").headers["ETag"]
    changed = registry.client.patch(
        f"/api/v1/clusters/{cluster_id}",
        json={"city": "Rabat"},
        headers={**rw, "If-Match": etag},
    )
    assert changed.status_code == 200
    after = get(registry, f"/api/v1/clusters/{cluster_id}")
    assert after.get_json()["city"] == "Rabat" and after.headers["ETag"] != etag
    listed = get(registry, "/api/v1/clusters?country=MA").get_json()["items"]
    assert [c["city"] for c in listed if c["id"] == cluster_id] == ["Rabat"]
    registry.client.delete(f"/api/v1/clusters/{cluster_id}", headers=rw)
    get(registry, f"/api/v1/clusters/{cluster_id}", status=404)
    assert cluster_id not in [
        c["id"] for c in get(registry, "/api/v1/clusters").get_json()["items"]
    ]


def test_on_postgresql_lookups_are_prepared_and_lists_are_not(
    postgres_url: str, tmp_path: Path
) -> None:
    """A key lookup is a server-side prepared statement (parsed once, a generic plan after
    five runs); a list is planned for each run's values (``shared.reads.reader_engine``)."""
    from services.registry.adapters import reads
    from shared.reads import read_connection

    with service_harness("registry", postgres_url, tmp_path, TEST_SECRET) as registry:
        cluster_id = new_cluster(registry, name="Maroc Numeric Cluster")["id"]
        with read_connection(registry.runtime.database) as connection:
            for _ in range(7):
                assert reads.CLUSTER_BY_ID.get(connection, id=cluster_id)["id"] == cluster_id
                assert len(reads.cluster_page(connection, 20, None)["items"]) == 1
            prepared = connection.exec_driver_sql(
                "SELECT statement, generic_plans FROM pg_prepared_statements"
            ).all()
    assert len(prepared) == 1, prepared
    statement, generic_plans = prepared[0]
    assert "WHERE clusters.id = $1" in statement
    assert generic_plans >= 1
