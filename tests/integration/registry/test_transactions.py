"""A write and its event commit together or not at all."""

from __future__ import annotations

import pytest

from booster.testing import ServiceHarness
from services.registry.adapters.repository import SqlClusters, SqlRegistryTx
from tests.integration.registry.conftest import new_cluster
from tests.integration.registry.test_clusters import types


def test_when_the_event_cannot_be_staged_the_change_is_not_kept(
    registry: ServiceHarness, rw: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_emit(self: SqlRegistryTx, *args: object, **kwargs: object) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(SqlRegistryTx, "emit", broken_emit)
    response = registry.client.post(
        "/api/v1/people", json={"name": "A", "email": "a@example.org", "language": "en"}, headers=rw
    )
    assert response.status_code == 500
    assert "outbox unavailable" not in response.get_data(as_text=True)
    monkeypatch.undo()
    assert registry.client.get("/api/v1/people", headers=rw).get_json()["items"] == []
    assert registry.events() == []


def test_when_the_change_fails_after_the_event_neither_is_kept(
    registry: ServiceHarness, rw: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = new_cluster(registry)

    def broken_add_label(self: SqlClusters, *args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(SqlClusters, "add_label", broken_add_label)
    response = registry.client.post(
        f"/api/v1/clusters/{cluster['id']}/labels",
        json={"scheme": "ESCA", "level": "silver", "awarded_on": "2020-02-02"},
        headers=rw,
    )
    assert response.status_code == 500
    monkeypatch.undo()
    after = registry.client.get(f"/api/v1/clusters/{cluster['id']}", headers=rw).get_json()
    assert after["version"] == 1 and after["labels"] == []
    assert types(registry) == ["registry.cluster.registered"]


def test_each_successful_write_emits_exactly_one_event(registry: ServiceHarness, rw: dict) -> None:
    client = registry.client
    cluster = new_cluster(registry)
    cid = cluster["id"]
    person = client.post(
        "/api/v1/people",
        json={"name": "A", "email": "a@example.org", "language": "en", "cluster_id": cid},
        headers=rw,
    ).get_json()
    member = client.post(f"/api/v1/clusters/{cid}/members", json={"name": "M"}, headers=rw)
    writes = [
        client.patch(f"/api/v1/clusters/{cid}", json={"city": "Fes"}, headers=rw),
        client.post(
            f"/api/v1/clusters/{cid}/labels",
            json={"scheme": "ESCA", "level": "gold", "awarded_on": "2021-01-01"},
            headers=rw,
        ),
        client.post(
            f"/api/v1/clusters/{cid}/members/{member.get_json()['id']}/leave", json={}, headers=rw
        ),
        client.patch(
            f"/api/v1/people/{person['id']}", json={"phone": "+212 600 000 000"}, headers=rw
        ),
        client.post(f"/api/v1/clusters/{cid}/deactivate", json={}, headers=rw),
        client.post(f"/api/v1/clusters/{cid}/reactivate", json={}, headers=rw),
        client.delete(f"/api/v1/people/{person['id']}", headers=rw),
        client.delete(f"/api/v1/clusters/{cid}", headers=rw),
    ]
    assert all(response.status_code < 300 for response in writes)
    assert types(registry) == [
        "registry.cluster.registered",
        "registry.person.registered",
        "registry.member.joined",
        "registry.cluster.updated",
        "registry.cluster.label_awarded",
        "registry.member.left",
        "registry.person.updated",
        "registry.cluster.deactivated",
        "registry.cluster.reactivated",
        "registry.person.removed",
        "registry.cluster.removed",
    ]
    events = registry.events()
    assert len({event.id for event in events}) == len(events)
    assert all(event.correlationid for event in events)


def test_the_requests_correlation_id_is_carried_into_its_events(
    registry: ServiceHarness, rw: dict
) -> None:
    response = registry.client.post(
        "/api/v1/clusters",
        json={"name": "Cluster Marbre", "country": "TN", "kind": "cluster"},
        headers={
            **rw,
            "X-Correlation-ID": "corr-42",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        },
    )
    assert response.headers["X-Correlation-ID"] == "corr-42"
    [event] = registry.events()
    assert event.correlationid == "corr-42"
    assert event.traceparent.startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")


def test_a_lost_database_connection_is_503_then_recovers(
    postgres_url: str,
    tmp_path,
    postgres_admin_url: str,  # noqa: ANN001
) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    from booster.testing import service_harness
    from tests.conftest import TEST_SECRET
    from tests.integration.registry.conftest import RW

    with service_harness("registry", postgres_url, tmp_path, TEST_SECRET) as registry:
        headers = registry.headers(RW)
        assert registry.client.get("/api/v1/clusters", headers=headers).status_code == 200
        database = make_url(postgres_url).database
        admin = make_url(postgres_admin_url).set(drivername="postgresql")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
        lost = registry.client.get("/api/v1/clusters", headers=headers)
        assert lost.status_code == 503
        assert lost.headers["Retry-After"] == "1"
        assert lost.mimetype == "application/problem+json"
        assert registry.client.get("/api/v1/clusters", headers=headers).status_code == 200
