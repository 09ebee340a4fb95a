"""The mentoring service on SQLite and on PostgreSQL (each test gets a fresh database),
and helpers that feed its read copies as the registry's events would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import ServiceHarness, service_harness
from services.mentoring.handlers import HANDLERS
from shared.bus.consumer import BATCH_ATTRIBUTE
from shared.events import CloudEvent
from tests.conftest import TEST_SECRET

READ = "mentoring:read"
WRITE = "mentoring:write"
RW = "mentoring:read mentoring:write"
REGIONS = {"ES": "eu", "FR": "eu", "IT": "eu"}


@pytest.fixture
def mentoring(database_url: str, tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness("mentoring", database_url, tmp_path, TEST_SECRET) as harness:
        yield harness


def registry_event(kind: str, data: dict[str, Any], at: datetime | None = None) -> CloudEvent:
    """A registry event as the registry would publish it (``at``: its time)."""
    event_ = platform_catalogue().make_event(kind, subject=data["id"], data=data)
    if at is not None:
        event_ = CloudEvent(**{**event_.__dict__, "time": at.isoformat()})
    return event_


def deliver(harness: ServiceHarness, *events_: CloudEvent) -> None:
    """Hand events to the service's handlers, one transaction each, as its consumer does."""
    for event_ in events_:
        handler = HANDLERS[event_.type]
        with harness.runtime.uow.begin() as tx:
            if getattr(handler, BATCH_ATTRIBUTE, False):
                handler([event_], tx)  # type: ignore[call-arg]
            else:
                handler(event_, tx)


def cluster_data(cluster_id: str, country: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": cluster_id,
        "name": f"Cluster {cluster_id}",
        "acronym": None,
        "country": country,
        "region": REGIONS.get(country, "mena"),
        "city": None,
        "kind": "cluster",
        "sectors": ["agrifood"],
        "founded": None,
        "website": None,
        "members_count": None,
        "status": "active",
        **fields,
    }


def person_data(person_id: str, cluster_id: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "id": person_id,
        "name": f"Person {person_id}",
        "email": f"{person_id}@example.org",
        "language": "fr",
        "cluster_id": cluster_id,
        "country": None,
        "role": "governance_team",
        "phone": None,
        **fields,
    }


def known_cluster(harness: ServiceHarness, cluster_id: str, country: str, **fields: Any) -> str:
    deliver(
        harness,
        registry_event("registry.cluster.registered", cluster_data(cluster_id, country, **fields)),
    )
    return cluster_id


def known_person(
    harness: ServiceHarness, person_id: str, cluster_id: str | None, **fields: Any
) -> str:
    deliver(
        harness,
        registry_event("registry.person.registered", person_data(person_id, cluster_id, **fields)),
    )
    return person_id


def call(
    harness: ServiceHarness, method: str, path: str, expected: int = 200, **kwargs: Any
) -> Any:
    """Call the API with an operator token unless ``headers`` are given; check the status."""
    kwargs.setdefault("headers", harness.headers(RW))
    response = harness.client.open(f"/api/v1{path}", method=method, **kwargs)
    assert response.status_code == expected, (method, path, response.get_json())
    return response.get_json()


def new_programme(harness: ServiceHarness, status: str = "open", **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Cluster Mentoring Reloaded",
        "edition": "2026",
        "organiser": "ACCIÓ",
        "starts_on": "2026-01-01",
        "ends_on": "2027-12-31",
        "competencies": ["value_added_services", "funding", "internationalisation"],
        **fields,
    }
    programme = call(harness, "POST", "/programmes", 201, json=body)
    for verb in {"draft": [], "open": ["open"], "running": ["open", "launch"]}[status]:
        programme = call(harness, "POST", f"/programmes/{programme['id']}/{verb}")
    return programme


def now() -> datetime:
    return datetime.now(UTC)
