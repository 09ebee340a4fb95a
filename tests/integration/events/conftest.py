"""The events service on SQLite and on PostgreSQL (each test gets a fresh database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import ServiceHarness, service_harness
from services.events.handlers import keep_clusters, keep_people
from tests.conftest import TEST_SECRET

READ = "events:read"
WRITE = "events:write"
RW = "events:read events:write"


@pytest.fixture
def events(database_url: str, tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness("events", database_url, tmp_path, TEST_SECRET) as harness:
        yield harness


@pytest.fixture
def rw(events: ServiceHarness) -> dict[str, str]:
    return events.headers(RW)


def in_days(days: float, hour: int = 9) -> str:
    """An RFC 3339 time ``days`` from now, at ``hour`` UTC (days > 0: in the future)."""
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def trip(**fields: Any) -> dict[str, Any]:
    """The body of a business trip to Lyon in thirty days."""
    return {
        "kind": "business_trip",
        "title": "Business trip to Lyon",
        "format": "in_person",
        "starts_at": in_days(30, 8),
        "ends_at": in_days(32, 16),
        "timezone": "Europe/Paris",
        "capacity": 3,
        "city": "Lyon",
        "country": "FR",
        **fields,
    }


def new_event(events: ServiceHarness, *, publish: bool = True, **fields: Any) -> dict:
    client, rw = events.client, events.headers(RW)
    response = client.post("/api/v1/events", json=trip(**fields), headers=rw)
    assert response.status_code == 201, response.get_json()
    event = response.get_json()
    if publish:
        response = client.post(f"/api/v1/events/{event['id']}/publish", headers=rw)
        assert response.status_code == 200, response.get_json()
        event = response.get_json()
    return event


def known_person(events: ServiceHarness, person_id: str, **fields: Any) -> str:
    """Tell the events service of a person, as the registry's event would."""
    data = {
        "id": person_id,
        "name": f"Person {person_id}",
        "email": f"{person_id}@example.org",
        "language": "fr",
        "role": "cluster_manager",
        **fields,
    }
    event_ = platform_catalogue().make_event(
        "registry.person.registered", subject=person_id, data=data
    )
    with events.runtime.uow.begin() as tx:
        keep_people([event_], tx)
    return person_id


def known_cluster(events: ServiceHarness, cluster_id: str, name: str, country: str) -> str:
    """Tell the events service of a cluster, as the registry's event would."""
    data = {
        "id": cluster_id,
        "name": name,
        "country": country,
        "region": "mena",
        "kind": "cluster",
        "sectors": [],
        "status": "active",
    }
    event_ = platform_catalogue().make_event(
        "registry.cluster.registered", subject=cluster_id, data=data
    )
    with events.runtime.uow.begin() as tx:
        keep_clusters([event_], tx)
    return cluster_id


def register(events: ServiceHarness, event_id: str, person_id: str, **headers: str) -> Any:
    return events.client.post(
        f"/api/v1/events/{event_id}/registrations",
        json={"person_id": person_id},
        headers=headers or events.headers(RW),
    )


def registrations(events: ServiceHarness, event_id: str, status: str | None = None) -> list:
    query = f"?limit=200&status={status}" if status else "?limit=200"
    response = events.client.get(
        f"/api/v1/events/{event_id}/registrations{query}", headers=events.headers(READ)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]
