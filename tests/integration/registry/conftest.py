"""The registry on SQLite and on PostgreSQL (each test gets a fresh database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from booster.testing import ServiceHarness, service_harness
from tests.conftest import TEST_SECRET

READ = "registry:read"
WRITE = "registry:write"
RW = "registry:read registry:write"


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness("registry", database_url, tmp_path, TEST_SECRET) as harness:
        yield harness


@pytest.fixture
def rw(registry: ServiceHarness) -> dict[str, str]:
    return registry.headers(RW)


def new_cluster(registry: ServiceHarness, **fields: object) -> dict:
    body = {"name": "Maroc Numeric Cluster", "country": "MA", "kind": "cluster", **fields}
    response = registry.client.post("/api/v1/clusters", json=body, headers=registry.headers(RW))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def new_person(registry: ServiceHarness, **fields: object) -> dict:
    body = {"name": "Amina Benali", "email": "amina@example.org", "language": "fr", **fields}
    response = registry.client.post("/api/v1/people", json=body, headers=registry.headers(RW))
    assert response.status_code == 201, response.get_json()
    return response.get_json()
