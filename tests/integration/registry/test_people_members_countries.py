"""People (unique emails, soft removal), members, and countries."""

from __future__ import annotations

import pytest

from booster.testing import ServiceHarness
from tests.integration.registry.conftest import READ, new_cluster, new_person
from tests.integration.registry.test_clusters import errors_of, types


def test_register_a_person_with_their_clusters_country(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry, country="TN", name="Cluster Mécatronique")
    person = new_person(
        registry,
        email="Leila.Trabelsi@Example.org",
        cluster_id=cluster["id"],
        role="governance_team",
        phone="+216 71 000 000",
    )
    assert person["country"] == "TN" and person["email"] == "Leila.Trabelsi@Example.org"
    event = registry.events()[-1]
    assert event.type == "registry.person.registered"
    assert event.data == {
        "id": person["id"],
        "name": "Amina Benali",
        "email": "Leila.Trabelsi@Example.org",
        "language": "fr",
        "cluster_id": cluster["id"],
        "country": "TN",
        "role": "governance_team",
        "phone": "+216 71 000 000",
    }


def test_emails_are_unique_case_insensitively(registry: ServiceHarness, rw: dict) -> None:
    first = new_person(registry, email="amina@example.org")
    duplicate = registry.client.post(
        "/api/v1/people",
        json={"name": "B", "email": "AMINA@example.ORG", "language": "ar"},
        headers=rw,
    )
    assert duplicate.status_code == 409
    assert errors_of(duplicate) == {"#/email": "Already registered."}
    other = new_person(registry, email="other@example.org", name="Other")
    taken = registry.client.patch(
        f"/api/v1/people/{other['id']}", json={"email": "Amina@Example.org"}, headers=rw
    )
    assert taken.status_code == 409
    # once removed, the address may be registered again
    assert registry.client.delete(f"/api/v1/people/{first['id']}", headers=rw).status_code == 204
    assert registry.client.get(f"/api/v1/people/{first['id']}", headers=rw).status_code == 404
    again = new_person(registry, email="amina@example.org", name="Amina again")
    assert again["id"] != first["id"]
    assert types(registry) == [
        "registry.person.registered",
        "registry.person.registered",
        "registry.person.removed",
        "registry.person.registered",
    ]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"email": "a@example.org", "language": "fr"}, "#/name"),
        ({"name": "A", "language": "fr"}, "#/email"),
        ({"name": "A", "email": "not-an-email", "language": "fr"}, "#/email"),
        ({"name": "A", "email": "a@example.org"}, "#/language"),
        ({"name": "A", "email": "a@example.org", "language": "de"}, "#/language"),
        ({"name": "A", "email": "a@example.org", "language": "fr", "role": "king"}, "#/role"),
        ({"name": "A", "email": "a@example.org", "language": "fr", "phone": "call me"}, "#/phone"),
        (
            {"name": "A", "email": "a@example.org", "language": "fr", "cluster_id": "nope"},
            "#/cluster_id",
        ),
        ({"name": "A", "email": "a@example.org", "language": "fr", "country": "XX"}, "#/country"),
    ],
)
def test_invalid_people_get_field_errors(
    registry: ServiceHarness, rw: dict, body: dict, pointer: str
) -> None:
    response = registry.client.post("/api/v1/people", json=body, headers=rw)
    assert response.status_code == 422, response.get_json()
    assert pointer in errors_of(response)
    assert registry.events() == []


def test_update_a_person(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry, country="JO", name="int@j")
    person = new_person(registry)
    url = f"/api/v1/people/{person['id']}"
    moved = registry.client.patch(
        url,
        json={"cluster_id": cluster["id"], "language": "ar"},
        headers={**rw, "If-Match": f'"{person["id"]}.1"'},
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["country"] == "JO" and moved.get_json()["version"] == 2
    event = registry.events()[-1]
    assert event.type == "registry.person.updated"
    assert event.data["changed"] == ["cluster_id", "country", "language"]
    stale = registry.client.patch(
        url, json={"name": "X"}, headers={**rw, "If-Match": f'"{person["id"]}.1"'}
    )
    assert stale.status_code == 412
    missing = registry.client.patch(
        "/api/v1/people/00000000-0000-0000-0000-000000000000", json={"name": "X"}, headers=rw
    )
    assert missing.status_code == 404
    assert len(registry.events()) == 3  # cluster, person, one update


def test_list_people(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry)
    new_person(registry, name="Zineb", email="zineb@example.org", cluster_id=cluster["id"])
    new_person(registry, name="Ahmed", email="ahmed@example.org", language="ar", role="expert")
    new_person(registry, name="Karim", email="karim@example.org", cluster_id=cluster["id"])

    def names(query: str) -> list[str]:
        body = registry.client.get(f"/api/v1/people?{query}", headers=registry.headers(READ))
        assert body.status_code == 200, body.get_json()
        return [p["name"] for p in body.get_json()["items"]]

    assert names("") == ["Ahmed", "Karim", "Zineb"]
    assert names(f"cluster_id={cluster['id']}") == ["Karim", "Zineb"]
    assert names("role=expert") == ["Ahmed"]
    assert names("language=ar") == ["Ahmed"]
    assert names("q=ZINEB") == ["Zineb"]
    assert names("q=karim@example") == ["Karim"]
    assert names("limit=2") == ["Ahmed", "Karim"]


def test_members_join_and_leave(registry: ServiceHarness, rw: dict) -> None:
    cluster = new_cluster(registry)
    url = f"/api/v1/clusters/{cluster['id']}/members"
    acme = registry.client.post(
        url, json={"name": "Acme Software", "size_class": "small", "sector": "ICT"}, headers=rw
    )
    assert acme.status_code == 201
    member = acme.get_json()
    assert member["country"] == "MA" and member["left_on"] is None
    registry.client.post(url, json={"name": "Bit SARL", "country": "FR"}, headers=rw)
    bad = registry.client.post(url, json={"name": "X", "size_class": "huge"}, headers=rw)
    assert bad.status_code == 422 and "#/size_class" in errors_of(bad)

    left = registry.client.post(
        f"{url}/{member['id']}/leave", json={"left_on": "2030-01-01"}, headers=rw
    )
    assert left.status_code == 200 and left.get_json()["left_on"] == "2030-01-01"
    twice = registry.client.post(f"{url}/{member['id']}/leave", json={}, headers=rw)
    assert twice.status_code == 409
    unknown = registry.client.post(
        f"{url}/00000000-0000-0000-0000-000000000000/leave", json={}, headers=rw
    )
    assert unknown.status_code == 404

    current = registry.client.get(url, headers=rw).get_json()["items"]
    assert [m["name"] for m in current] == ["Bit SARL"]
    everyone = registry.client.get(f"{url}?current=false", headers=rw).get_json()["items"]
    assert [m["name"] for m in everyone] == ["Acme Software", "Bit SARL"]
    assert types(registry)[1:] == [
        "registry.member.joined",
        "registry.member.joined",
        "registry.member.left",
    ]


def test_countries_are_known_from_the_first_start(registry: ServiceHarness) -> None:
    read = registry.headers(READ)
    morocco = registry.client.get("/api/v1/countries/ma", headers=read).get_json()
    assert morocco["names"] == {"en": "Morocco", "fr": "Maroc", "ar": "المغرب"}
    assert morocco["region"] == "mena" and morocco["programme"] is True
    assert "Maroc Innovation" in morocco["policy"]["summary"]
    assert "11 nationally labelled clusters" in morocco["policy"]["facts"]
    egypt = registry.client.get("/api/v1/countries/EG", headers=read).get_json()
    assert "22 industrial clusters" in egypt["policy"]["facts"]
    japan = registry.client.get("/api/v1/countries/JP", headers=read).get_json()
    assert japan["region"] == "other" and japan["policy"] is None
    assert registry.client.get("/api/v1/countries/QQ", headers=read).status_code == 404

    codes: list[str] = []
    cursor = None
    while True:
        query = "limit=200" + (f"&cursor={cursor}" if cursor else "")
        body = registry.client.get(f"/api/v1/countries?{query}", headers=read).get_json()
        codes += [c["code"] for c in body["items"]]
        if not (cursor := body["next_cursor"]):
            break
    assert len(codes) == 249 and codes == sorted(codes)
    programme = registry.client.get("/api/v1/countries?programme=true", headers=read).get_json()
    assert {c["code"] for c in programme["items"]} == {
        "DZ",
        "EG",
        "JO",
        "LB",
        "MA",
        "PS",
        "TN",
        "FR",
        "IT",
        "ES",
    }
    mena = registry.client.get("/api/v1/countries?region=mena&limit=200", headers=read).get_json()
    assert {"MA", "EG", "PS"} <= {c["code"] for c in mena["items"]}


def test_country_policy_can_be_updated(registry: ServiceHarness, rw: dict) -> None:
    body = {
        "summary": "Algeria's cluster policy, as summarised by the programme.",
        "facts": ["A fact"],
    }
    response = registry.client.put("/api/v1/countries/DZ/policy", json=body, headers=rw)
    assert response.status_code == 200 and response.get_json()["policy"] == body
    assert (
        registry.client.put("/api/v1/countries/QQ/policy", json=body, headers=rw).status_code == 404
    )
    empty = registry.client.put("/api/v1/countries/DZ/policy", json={"summary": ""}, headers=rw)
    assert empty.status_code == 422
