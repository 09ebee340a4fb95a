"""The registry part of ``booster seed``: the 2021 demo data through the registry's HTTP
API, once (SQLite and PostgreSQL).

The real registry app serves on a loopback port in a thread; :func:`seed_registry` runs
against it as ``booster seed`` does first. The whole seed (mentoring and events too,
across a running platform) is ``tests/e2e/test_seed.py``.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from booster.cli import main
from booster.seed import ApiClient, SeedError, SeedReport, _accepted_fields, seed_registry
from booster.seed_2021 import (
    CLUSTERS,
    COUNTRIES,
    DEMO_PERSON,
    LANGUAGES,
    MENTORS,
    TRIP_EXTRAS,
)
from booster.testing import ServiceHarness, service_harness
from services.registry.domain.countries import MENA, POLICIES, PROGRAMME
from shared.auth import mint_token
from tests.conftest import TEST_SECRET
from tests.integration.registry.conftest import READ, RW


@contextmanager
def serving(harness: ServiceHarness) -> Iterator[str]:
    """The registry app on a free loopback port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, harness.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="registry-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def registry_url(database_url: str, tmp_path: Path) -> Iterator[tuple[ServiceHarness, str]]:
    with service_harness("registry", database_url, tmp_path, TEST_SECRET) as harness:
        with serving(harness) as url:
            yield harness, url


@pytest.fixture
def client(registry_url: tuple[ServiceHarness, str]) -> Iterator[ApiClient]:
    seeder = ApiClient("registry", registry_url[1], mint_token(TEST_SECRET, "seed", RW))
    yield seeder
    seeder.close()


def all_items(harness: ServiceHarness, path: str) -> list[dict[str, Any]]:
    response = harness.client.get(f"{path}?limit=200", headers=harness.headers(READ))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["next_cursor"] is None
    return list(body["items"])


def test_the_demo_data_covers_the_programme() -> None:
    assert set(COUNTRIES) == set(PROGRAMME) == set(POLICIES)
    assert len(CLUSTERS) == 12 and len({cluster.name for cluster in CLUSTERS}) == 12
    assert all(cluster.country in MENA for cluster in CLUSTERS)
    mentees = [person for cluster in CLUSTERS for person in cluster.people]
    mentors = [mentor.person for mentor in MENTORS]
    assert len(mentees) == 13 and len(mentors) == 13
    assert {mentor.country for mentor in MENTORS} == {"FR", "IT", "PS", "ES"}
    emails = [person.email.casefold() for person in (*mentees, *mentors)]
    assert len(set(emails)) == 26
    for person in (*mentees, *mentors):
        assert person.demo == DEMO_PERSON and "DEMO DATA" in DEMO_PERSON
        assert person.email.endswith("@example.org")
    for cluster in CLUSTERS:
        assert not {"founded", "website", "members_count"} & set(cluster.body())


def test_the_registry_part_loads_once(
    registry_url: tuple[ServiceHarness, str], client: ApiClient
) -> None:
    harness, _ = registry_url
    assert harness.events() == []

    first = SeedReport()
    mentees, mentors = seed_registry(client, first)
    assert (first.countries.present, first.countries.updated) == (10, 0)
    assert (first.clusters.created, first.people.created) == (25, 26)

    clusters = {item["name"]: item for item in all_items(harness, "/api/v1/clusters")}
    assert set(clusters) == {cluster.name for cluster in CLUSTERS} | {
        mentor.cluster_name for mentor in MENTORS
    }
    people = {item["email"]: item for item in all_items(harness, "/api/v1/people")}
    assert len(people) == 26
    for cluster in CLUSTERS:
        stored = clusters[cluster.name]
        assert (stored["country"], stored["kind"], stored["acronym"]) == (
            cluster.country,
            cluster.kind,
            cluster.acronym,
        )
        assert (stored["city"], stored["sectors"]) == (cluster.city, list(cluster.sectors))
        assert stored["founded"] is None and stored["members_count"] is None
        for member in cluster.people:
            person = people[member.email]
            assert (person["name"], person["cluster_id"]) == (member.name, stored["id"])
            assert (person["role"], person["country"]) == ("governance_team", cluster.country)
            assert person["language"] == LANGUAGES[cluster.country]
    for mentor in MENTORS:
        person = people[mentor.person.email]
        assert (person["role"], person["country"]) == ("cluster_manager", mentor.country)
        managed = clusters[mentor.cluster_name]
        assert person["cluster_id"] == managed["id"]
        assert (managed["country"], managed["city"]) == (mentor.country, mentor.city)
    assert [person for _, person in mentees] == [
        people[member.email]["id"] for cluster in CLUSTERS for member in cluster.people
    ]
    assert [person for _, person in mentors] == [people[m.person.email]["id"] for m in MENTORS]
    assert clusters["Pôle de Compétitivité Agrinova"]["kind"] == "competitiveness_pole"
    assert clusters["ICT Association of Jordan"]["acronym"] == "int@j"

    events = harness.events()
    assert Counter(event.type for event in events) == {
        "registry.cluster.registered": 25,
        "registry.person.registered": 26,
    }

    again = SeedReport()
    assert seed_registry(client, again) == (mentees, mentors)
    assert (again.clusters.present, again.people.present) == (25, 26)
    assert not again.changed
    assert [event.id for event in harness.events()] == [event.id for event in events]


def test_seed_restores_a_changed_policy_and_only_that(
    registry_url: tuple[ServiceHarness, str], client: ApiClient
) -> None:
    harness, _ = registry_url
    changed = harness.client.put(
        "/api/v1/countries/TN/policy",
        json={"summary": "Something else.", "facts": []},
        headers=harness.headers(RW),
    )
    assert changed.status_code == 200, changed.get_json()

    report = SeedReport()
    seed_registry(client, report, clusters=(), mentors=())
    assert (report.countries.present, report.countries.updated) == (9, 1)
    assert report.actions == ["country TN: policy context updated"]
    tunisia = harness.client.get("/api/v1/countries/TN", headers=harness.headers(READ))
    assert tunisia.get_json()["policy"] == {
        "summary": POLICIES["TN"].summary,
        "facts": list(POLICIES["TN"].facts),
    }
    again = SeedReport()
    seed_registry(client, again, clusters=(), mentors=())
    assert (again.countries.present, again.countries.updated) == (10, 0)


def test_seed_keeps_people_registered_by_someone_else(
    registry_url: tuple[ServiceHarness, str], client: ApiClient
) -> None:
    harness, _ = registry_url
    someone = CLUSTERS[0].person
    response = harness.client.post(
        "/api/v1/people",
        json={"name": someone.name, "email": someone.email.upper(), "language": "en"},
        headers=harness.headers(RW),
    )
    assert response.status_code == 201, response.get_json()

    report = SeedReport()
    mentees, _ = seed_registry(client, report)
    assert (report.people.created, report.people.present) == (25, 1)
    assert mentees[0][1] == response.get_json()["id"]  # enrolled as the one found
    assert len(all_items(harness, "/api/v1/people")) == 26


def test_seed_with_another_secret_is_refused_clearly(
    registry_url: tuple[ServiceHarness, str],
) -> None:
    harness, url = registry_url
    stranger = ApiClient(
        "registry", url, mint_token("another-secret-" + "xyz0123456789" * 3, "s", RW)
    )
    with pytest.raises(SeedError) as refused:
        seed_registry(stranger, SeedReport())
    assert refused.value.status == 401
    assert "BOOSTER_JWT_SECRET" in str(refused.value)
    assert harness.events() == []


def test_seed_without_a_registry_fails_clearly(cli_env: dict[str, str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(
        main, ["seed", "--registry-url", f"http://127.0.0.1:{port}"], env=cli_env
    )
    assert result.exit_code == 1
    assert f"Cannot reach the registry service at http://127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


class Document(ApiClient):
    """A client whose GET /openapi.json answers a given document."""

    def __init__(self, properties: dict[str, Any]) -> None:
        super().__init__("events", "http://127.0.0.1:9", "token")
        self.document = {
            "paths": {
                "/api/v1/events": {
                    "post": {
                        "requestBody": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/EventWrite"}
                                }
                            }
                        }
                    }
                }
            },
            "components": {"schemas": {"EventWrite": {"properties": properties}}},
        }

    def request(self, method: str, path: str, **_: Any) -> Any:
        assert (method, path) == ("GET", "/openapi.json")
        return type("Answer", (), {"body": self.document})()


@pytest.mark.parametrize(
    ("properties", "sent"),
    [
        ({"kind": {}, "title": {}}, set()),  # before the events API took them
        ({"kind": {}, "sectors": {}, "host_organisation": {}}, set(TRIP_EXTRAS)),
        ({"kind": {}, "sectors": {}}, {"sectors"}),
    ],
)
def test_trip_extras_are_sent_only_when_the_events_api_takes_them(
    properties: dict[str, Any], sent: set[str]
) -> None:
    assert _accepted_fields(Document(properties), set(TRIP_EXTRAS)) == sent
