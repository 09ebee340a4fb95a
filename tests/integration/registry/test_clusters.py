"""Clusters: create, read, update, deactivate, labels, delete; filters and pages."""

from __future__ import annotations

from typing import Any

import pytest

from booster.testing import ServiceHarness
from tests.integration.registry.conftest import READ, new_cluster


def errors_of(response: Any) -> dict[str, str]:
    body = response.get_json()
    assert response.mimetype == "application/problem+json", body
    return {
        e.get("pointer") or e.get("parameter") or e.get("header"): e["detail"]
        for e in body.get("errors", [])
    }


def types(registry: ServiceHarness) -> list[str]:
    return [event.type for event in registry.events()]


def test_register_and_read_a_cluster(registry: ServiceHarness, rw: dict) -> None:
    body = {
        "name": "Egyptian Renewable Energy Cluster Initiative",
        "acronym": "ERECI",
        "country": "eg",
        "kind": "cluster",
        "city": "Cairo",
        "sectors": ["Renewable energy", " renewable  ENERGY ", "Solar"],
        "founded": 2016,
        "website": "https://ereci.example.org",
        "description": "Demo",
        "members_count": 40,
    }
    created = registry.client.post("/api/v1/clusters", json=body, headers=rw)
    assert created.status_code == 201
    cluster = created.get_json()
    assert created.headers["Location"] == f"/api/v1/clusters/{cluster['id']}"
    assert created.headers["ETag"] == f'"{cluster["id"]}.1"'
    assert cluster["country"] == "EG" and cluster["region"] == "mena"
    assert cluster["sectors"] == ["Renewable energy", "Solar"]
    assert cluster["status"] == "active" and cluster["labels"] == []

    read = registry.client.get(f"/api/v1/clusters/{cluster['id']}", headers=registry.headers(READ))
    assert read.status_code == 200 and read.get_json() == cluster
    assert read.headers["ETag"] == created.headers["ETag"]

    [event] = registry.events()
    assert event.type == "registry.cluster.registered"
    assert event.subject == cluster["id"]
    assert event.source == "/booster/registry"
    assert event.data["sectors"] == ["Renewable energy", "Solar"]
    assert event.data["region"] == "mena"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"country": "MA", "kind": "cluster"}, "#/name"),
        ({"name": "X", "kind": "cluster"}, "#/country"),
        ({"name": "X", "country": "MA"}, "#/kind"),
        ({"name": "X", "country": "MA", "kind": "guild"}, "#/kind"),
        ({"name": "   ", "country": "MA", "kind": "cluster"}, "#/name"),
        ({"name": "X", "country": "Morocco", "kind": "cluster"}, "#/country"),
        ({"name": "X", "country": "ZZ", "kind": "cluster"}, "#/country"),
        ({"name": "X", "country": "MA", "kind": "cluster", "founded": 1700}, "#/founded"),
        ({"name": "X", "country": "MA", "kind": "cluster", "website": "ftp://x"}, "#/website"),
        ({"name": "X", "country": "MA", "kind": "cluster", "members_count": -1}, "#/members_count"),
        ({"name": "X", "country": "MA", "kind": "cluster", "sectors": "ICT"}, "#/sectors"),
        ({"name": "X", "country": "MA", "kind": "cluster", "sectors": [""]}, "#/sectors/0"),
        ({"name": "X", "country": "MA", "kind": "cluster", "colour": "red"}, "#/colour"),
        ({"name": "X" * 201, "country": "MA", "kind": "cluster"}, "#/name"),
    ],
)
def test_invalid_clusters_get_field_errors_and_emit_nothing(
    registry: ServiceHarness, rw: dict, body: dict, pointer: str
) -> None:
    response = registry.client.post("/api/v1/clusters", json=body, headers=rw)
    assert response.status_code == 422
    assert pointer in errors_of(response)
    assert registry.events() == []


def test_malformed_json_is_400(registry: ServiceHarness, rw: dict) -> None:
    response = registry.client.post(
        "/api/v1/clusters", data="{not json", content_type="application/json", headers=rw
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_unknown_cluster_is_404_everywhere(registry: ServiceHarness, rw: dict) -> None:
    missing = "/api/v1/clusters/00000000-0000-0000-0000-000000000000"
    client = registry.client
    for response in (
        client.get(missing, headers=rw),
        client.patch(missing, json={"city": "X"}, headers=rw),
        client.delete(missing, headers=rw),
        client.post(f"{missing}/deactivate", json={}, headers=rw),
        client.post(f"{missing}/reactivate", json={}, headers=rw),
        client.get(f"{missing}/labels", headers=rw),
        client.post(
            f"{missing}/labels",
            json={"scheme": "ESCA", "level": "gold", "awarded_on": "2020-01-01"},
            headers=rw,
        ),
        client.get(f"{missing}/members", headers=rw),
        client.post(f"{missing}/members", json={"name": "Acme"}, headers=rw),
    ):
        assert response.status_code == 404, response.get_json()
        assert response.mimetype == "application/problem+json"
    assert registry.events() == []


def test_patch_with_if_match_and_a_stale_write(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry)
    url = f"/api/v1/clusters/{cluster['id']}"
    first = registry.client.patch(
        url, json={"city": "Casablanca"}, headers={**rw, "If-Match": f'"{cluster["id"]}.1"'}
    )
    assert first.status_code == 200
    assert first.get_json()["city"] == "Casablanca" and first.get_json()["version"] == 2
    assert first.headers["ETag"] == f'"{cluster["id"]}.2"'
    stale = registry.client.patch(
        url, json={"city": "Rabat"}, headers={**rw, "If-Match": f'"{cluster["id"]}.1"'}
    )
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    garbage = registry.client.patch(url, json={"city": "Rabat"}, headers={**rw, "If-Match": '"x"'})
    assert garbage.status_code == 412
    stale_delete = registry.client.delete(url, headers={**rw, "If-Match": f'"{cluster["id"]}.1"'})
    assert stale_delete.status_code == 412
    assert registry.client.get(url, headers=rw).get_json()["city"] == "Casablanca"
    assert types(registry) == ["registry.cluster.registered", "registry.cluster.updated"]
    updated = registry.events()[1]
    assert updated.data["changed"] == ["city"] and updated.data["city"] == "Casablanca"


def test_patch_that_changes_nothing_emits_nothing(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry, city="Casablanca")
    url = f"/api/v1/clusters/{cluster['id']}"
    same = registry.client.patch(url, json={"city": "Casablanca"}, headers=rw)
    assert same.status_code == 200 and same.get_json()["version"] == 1
    invalid = registry.client.patch(url, json={"name": None, "kind": "x"}, headers=rw)
    assert invalid.status_code == 422
    assert set(errors_of(invalid)) == {"#/name", "#/kind"}
    moved = registry.client.patch(url, json={"country": "fr"}, headers=rw)
    assert moved.get_json()["country"] == "FR" and moved.get_json()["region"] == "eu"
    assert types(registry) == ["registry.cluster.registered", "registry.cluster.updated"]


def test_deactivate_reactivate_and_invalid_transitions(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry)
    url = f"/api/v1/clusters/{cluster['id']}"
    off = registry.client.post(f"{url}/deactivate", json={"reason": "merged"}, headers=rw)
    assert off.status_code == 200 and off.get_json()["status"] == "inactive"
    again = registry.client.post(f"{url}/deactivate", json={}, headers=rw)
    assert again.status_code == 409
    assert again.get_json()["title"] == "Invalid state transition"
    label = registry.client.post(
        f"{url}/labels",
        json={"scheme": "ESCA", "level": "gold", "awarded_on": "2020-01-01"},
        headers=rw,
    )
    assert label.status_code == 409
    on = registry.client.post(f"{url}/reactivate", json={}, headers=rw)
    assert on.status_code == 200 and on.get_json()["status"] == "active"
    assert registry.client.post(f"{url}/reactivate", json={}, headers=rw).status_code == 409
    assert types(registry) == [
        "registry.cluster.registered",
        "registry.cluster.deactivated",
        "registry.cluster.reactivated",
    ]
    assert registry.events()[1].data == {
        "id": cluster["id"],
        "name": cluster["name"],
        "country": "MA",
        "reason": "merged",
    }


def test_labels(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry)
    url = f"/api/v1/clusters/{cluster['id']}/labels"
    body = {
        "scheme": "ESCA Cluster Management Excellence",
        "level": "bronze",
        "awarded_on": "2014-06-01",
        "valid_until": "2016-06-01",
    }
    created = registry.client.post(url, json=body, headers=rw)
    assert created.status_code == 201
    assert created.get_json()["level"] == "bronze"
    assert registry.client.post(url, json=body, headers=rw).status_code == 409  # same award
    backwards = registry.client.post(
        url, json={**body, "level": "gold", "valid_until": "2013-01-01"}, headers=rw
    )
    assert backwards.status_code == 422 and "#/valid_until" in errors_of(backwards)
    future = registry.client.post(url, json={**body, "awarded_on": "2999-01-01"}, headers=rw)
    assert future.status_code == 422 and "#/awarded_on" in errors_of(future)
    labels = registry.client.get(url, headers=rw).get_json()
    assert [label["scheme"] for label in labels] == ["ESCA Cluster Management Excellence"]
    assert types(registry)[-1] == "registry.cluster.label_awarded"
    event = registry.events()[-1]
    assert event.data["label"]["level"] == "bronze"
    assert event.data["label"]["awarded_on"] == "2014-06-01"


def test_delete_is_soft_and_final(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry)
    url = f"/api/v1/clusters/{cluster['id']}"
    assert registry.client.delete(url, headers=rw).status_code == 204
    assert registry.client.get(url, headers=rw).status_code == 404
    assert registry.client.delete(url, headers=rw).status_code == 404
    assert registry.client.get("/api/v1/clusters", headers=rw).get_json()["items"] == []
    assert types(registry) == ["registry.cluster.registered", "registry.cluster.removed"]


def _names(registry: ServiceHarness, query: str) -> list[str]:
    response = registry.client.get(f"/api/v1/clusters?{query}", headers=registry.headers(READ))
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()["items"]]


def test_filters(registry: ServiceHarness, rw: dict) -> None:
    numeric = new_cluster(registry, name="Maroc Numeric Cluster", sectors=["ICT"])
    new_cluster(registry, name="Agrinova", kind="competitiveness_pole", sectors=["Agri-food"])
    new_cluster(registry, name="Cluster Marbre", country="TN", sectors=["Marble"])
    tenerife = new_cluster(registry, name="Clúster 100% Canarias", country="ES", sectors=["ict"])
    registry.client.post(
        f"/api/v1/clusters/{numeric['id']}/labels",
        json={"scheme": "ESCA", "level": "gold", "awarded_on": "2020-01-01"},
        headers=rw,
    )
    registry.client.post(
        f"/api/v1/clusters/{tenerife['id']}/labels",
        json={
            "scheme": "ESCA",
            "level": "gold",
            "awarded_on": "2010-01-01",
            "valid_until": "2012-01-01",
        },
        headers=rw,
    )
    registry.client.post(f"/api/v1/clusters/{tenerife['id']}/deactivate", json={}, headers=rw)

    everything = ["Agrinova", "Cluster Marbre", "Clúster 100% Canarias", "Maroc Numeric Cluster"]
    assert _names(registry, "") == everything
    assert _names(registry, "country=ma") == ["Agrinova", "Maroc Numeric Cluster"]
    assert _names(registry, "region=eu") == ["Clúster 100% Canarias"]
    assert _names(registry, "region=mena&country=TN") == ["Cluster Marbre"]
    assert _names(registry, "sector=ict") == ["Clúster 100% Canarias", "Maroc Numeric Cluster"]
    assert _names(registry, "label=gold") == ["Maroc Numeric Cluster"]  # the other expired
    assert _names(registry, "status=inactive") == ["Clúster 100% Canarias"]
    assert _names(registry, "q=numeric") == ["Maroc Numeric Cluster"]
    assert _names(registry, "q=100%25") == ["Clúster 100% Canarias"]  # % is literal
    assert _names(registry, "q=_") == []  # _ is literal too
    bad = registry.client.get("/api/v1/clusters?region=asia&limit=0", headers=rw)
    assert bad.status_code == 422
    assert set(errors_of(bad)) == {"region", "limit"}


def test_keyset_pages_are_stable(registry: ServiceHarness, rw: dict) -> None:
    names = [f"Cluster {i:02d}" for i in range(25)] + ["Cluster 05"]  # a duplicate name
    for name in names:
        new_cluster(registry, name=name)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=7" + (f"&cursor={cursor}" if cursor else "")
        body = registry.client.get(f"/api/v1/clusters?{query}", headers=rw).get_json()
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == 26
    listed = registry.client.get("/api/v1/clusters?limit=200", headers=rw).get_json()
    assert [item["id"] for item in listed["items"]] == seen
    assert listed["next_cursor"] is None
    bad = registry.client.get("/api/v1/clusters?cursor=bm9wZQ", headers=rw)
    assert bad.status_code == 422 and "cursor" in errors_of(bad)
    too_many = registry.client.get("/api/v1/clusters?limit=201", headers=rw)
    assert too_many.status_code == 422


def test_idempotency_key_replays_the_first_result(registry: ServiceHarness, rw: dict) -> None:
    body = {"name": "OASIS500", "country": "JO", "kind": "association"}
    headers = {**rw, "Idempotency-Key": "create-oasis"}
    first = registry.client.post("/api/v1/clusters", json=body, headers=headers)
    second = registry.client.post("/api/v1/clusters", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert types(registry) == ["registry.cluster.registered"]
    other = registry.client.post(
        "/api/v1/clusters", json={**body, "name": "Other"}, headers=headers
    )
    assert other.status_code == 422 and "Idempotency-Key" in errors_of(other)
    # the key belongs to the caller: another subject may use the same key
    someone = registry.client.post(
        "/api/v1/clusters",
        json=body,
        headers={
            **registry.headers("registry:write", sub="other"),
            "Idempotency-Key": "create-oasis",
        },
    )
    assert someone.status_code == 201 and someone.get_json()["id"] != first.get_json()["id"]
    assert len(registry.events()) == 2


def test_search_folds_case_in_every_alphabet(registry: ServiceHarness, rw: dict) -> None:
    new_cluster(registry, name="Pôle Écologique")
    new_cluster(registry, name="عنقود الطاقة", acronym="ERECI", country="EG")
    assert _names(registry, "q=écologique") == ["Pôle Écologique"]
    assert _names(registry, "q=ÉCOLOGIQUE") == ["Pôle Écologique"]
    assert _names(registry, "q=الطاقة") == ["عنقود الطاقة"]
    assert _names(registry, "q=ereci") == ["عنقود الطاقة"]


@pytest.mark.parametrize("founded", [1999.5, "1999", True])
def test_a_founding_year_that_is_not_a_json_integer_is_refused(
    registry: ServiceHarness, founded: object
) -> None:
    body = {"name": "Loose", "country": "TN", "kind": "cluster", "founded": founded}
    response = registry.client.post(
        "/api/v1/clusters", json=body, headers=registry.headers("registry:write")
    )

    assert response.status_code == 422, response.get_json()
    assert "#/founded" in [error["pointer"] for error in response.get_json()["errors"]]
