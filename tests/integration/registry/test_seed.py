"""`booster seed` loads the 2021 demo data through the registry's HTTP API, once.

The real registry app serves on a loopback port in a thread (SQLite and PostgreSQL);
the command runs through click's runner, as an operator would run it.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from werkzeug.serving import make_server

from booster.cli import main
from booster.seed import CLUSTERS, COUNTRIES, DEMO_PERSON, LANGUAGES
from booster.testing import ServiceHarness, service_harness
from services.registry.domain.countries import POLICIES, PROGRAMME
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


def run_seed(url: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, ["seed", "--registry-url", url], env=env)


def all_items(harness: ServiceHarness, path: str) -> list[dict]:
    response = harness.client.get(f"{path}?limit=200", headers=harness.headers(READ))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["next_cursor"] is None
    return body["items"]


def test_the_demo_data_covers_the_programme() -> None:
    assert set(COUNTRIES) == set(PROGRAMME) == set(POLICIES)
    assert len(CLUSTERS) == 12
    assert len({cluster.name for cluster in CLUSTERS}) == 12
    assert len({cluster.person.email.casefold() for cluster in CLUSTERS}) == 12
    for cluster in CLUSTERS:
        assert cluster.person.demo == DEMO_PERSON and "DEMO DATA" in DEMO_PERSON
        assert cluster.person.email.endswith("@example.org")
        body = cluster.body()
        assert not {"founded", "website", "members_count"} & set(body)


def test_seed_loads_the_demo_data_once(
    registry_url: tuple[ServiceHarness, str], cli_env: dict[str, str]
) -> None:
    harness, url = registry_url
    assert harness.events() == []

    first = run_seed(url, cli_env)
    assert first.exit_code == 0, first.output
    assert "clusters:  12 created, 0 already present" in first.stdout
    assert "people:    12 created, 0 already present" in first.stdout
    assert "countries: 0 created, 10 already present, 0 updated" in first.stdout

    clusters = {item["name"]: item for item in all_items(harness, "/api/v1/clusters")}
    assert set(clusters) == {cluster.name for cluster in CLUSTERS}
    people = {item["email"]: item for item in all_items(harness, "/api/v1/people")}
    assert set(people) == {cluster.person.email for cluster in CLUSTERS}
    for cluster in CLUSTERS:
        stored = clusters[cluster.name]
        assert stored["country"] == cluster.country
        assert stored["kind"] == cluster.kind
        assert stored["acronym"] == cluster.acronym
        assert stored["city"] == cluster.city
        assert stored["sectors"] == list(cluster.sectors)
        assert stored["founded"] is None and stored["website"] is None
        assert stored["members_count"] is None
        person = people[cluster.person.email]
        assert person["name"] == cluster.person.name
        assert person["cluster_id"] == stored["id"]
        assert person["country"] == cluster.country
        assert person["role"] == "governance_team"
        assert person["language"] == LANGUAGES[cluster.country]
        assert person["language"] == ("fr" if cluster.country in ("MA", "TN") else "ar")
    assert clusters["OASIS500"]["kind"] == "association"
    assert clusters["Pôle de Compétitivité Agrinova"]["kind"] == "competitiveness_pole"
    assert clusters["ICT Association of Jordan"]["acronym"] == "int@j"

    events = harness.events()
    assert Counter(event.type for event in events) == {
        "registry.cluster.registered": 12,
        "registry.person.registered": 12,
    }

    second = run_seed(url, cli_env)
    assert second.exit_code == 0, second.output
    assert "countries: 0 created, 10 already present, 0 updated" in second.stdout
    assert "clusters:  0 created, 12 already present, 0 updated" in second.stdout
    assert "people:    0 created, 12 already present, 0 updated" in second.stdout
    assert "nothing to do" in second.stdout
    assert [event.id for event in harness.events()] == [event.id for event in events]
    assert len(all_items(harness, "/api/v1/clusters")) == 12
    assert len(all_items(harness, "/api/v1/people")) == 12


def test_seed_restores_a_changed_policy_and_only_that(
    registry_url: tuple[ServiceHarness, str], cli_env: dict[str, str]
) -> None:
    harness, url = registry_url
    changed = harness.client.put(
        "/api/v1/countries/TN/policy",
        json={"summary": "Something else.", "facts": []},
        headers=harness.headers(RW),
    )
    assert changed.status_code == 200, changed.get_json()

    result = run_seed(url, cli_env)
    assert result.exit_code == 0, result.output
    assert "countries: 0 created, 9 already present, 1 updated" in result.stdout
    assert "country TN: policy context updated" in result.stdout
    tunisia = harness.client.get("/api/v1/countries/TN", headers=harness.headers(READ))
    assert tunisia.get_json()["policy"] == {
        "summary": POLICIES["TN"].summary,
        "facts": list(POLICIES["TN"].facts),
    }

    again = run_seed(url, cli_env)
    assert again.exit_code == 0, again.output
    assert "countries: 0 created, 10 already present, 0 updated" in again.stdout


def test_seed_keeps_people_registered_by_someone_else(
    registry_url: tuple[ServiceHarness, str], cli_env: dict[str, str]
) -> None:
    harness, url = registry_url
    someone = CLUSTERS[0].person
    response = harness.client.post(
        "/api/v1/people",
        json={"name": someone.name, "email": someone.email.upper(), "language": "en"},
        headers=harness.headers(RW),
    )
    assert response.status_code == 201, response.get_json()

    result = run_seed(url, cli_env)
    assert result.exit_code == 0, result.output
    assert "people:    11 created, 1 already present" in result.stdout
    assert len(all_items(harness, "/api/v1/people")) == 12


def test_seed_with_another_secret_is_refused_clearly(
    registry_url: tuple[ServiceHarness, str], cli_env: dict[str, str]
) -> None:
    harness, url = registry_url
    env = {**cli_env, "BOOSTER_JWT_SECRET": "another-secret-" + "x" * 40}
    result = run_seed(url, env)
    assert result.exit_code == 1
    assert "401" in result.output and "BOOSTER_JWT_SECRET" in result.output
    assert harness.events() == []


def test_seed_without_a_registry_fails_clearly(cli_env: dict[str, str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_seed(f"http://127.0.0.1:{port}", cli_env)
    assert result.exit_code == 1
    assert f"Cannot reach the registry at http://127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
