"""Registry -> mentoring over the real RabbitMQ and PostgreSQL (flows 1 and 5).

Clusters and people made through the registry's API reach the mentoring service's read
copies through the registry's outbox relay and the mentoring consumer; a mentee can
then be enrolled and paired. Published by hand on the exchange, a redelivered event
(the same id twice) is handled once and an out-of-order update does not overwrite a
newer one. Flow 5: deactivating the mentee's cluster in the registry ends the pair,
and a subscriber of ``mentoring.pair.ended`` hears of it with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from booster.testing import ServiceHarness
from shared.bus.publisher import OutgoingMessage, Publisher
from shared.config import BusSettings
from shared.events import CloudEvent
from tests.integration.conftest import eventually, running_platform
from tests.integration.mentoring.conftest import person_data, registry_event

REGISTRY_RW = "registry:read registry:write"
MENTORING_RW = "mentoring:read mentoring:write"


@pytest.fixture
def platform(
    postgres_admin_url: str, bus_settings: BusSettings, tmp_path: Path
) -> Iterator[dict[str, ServiceHarness]]:
    """The registry and the mentoring service, each with its database and worker."""
    names = ("registry", "mentoring")
    with running_platform(names, postgres_admin_url, bus_settings, tmp_path) as p:
        yield p


def _post(harness: ServiceHarness, path: str, body: dict, scope: str, status: int = 201) -> dict:
    response = harness.client.post(f"/api/v1{path}", json=body, headers=harness.headers(scope))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _person(mentoring: ServiceHarness, person_id: str):  # noqa: ANN202
    with mentoring.runtime.uow.read() as tx:
        return tx.people.get(person_id)


def _cluster(mentoring: ServiceHarness, cluster_id: str):  # noqa: ANN202
    with mentoring.runtime.uow.read() as tx:
        return tx.clusters.get(cluster_id)


def _publish(bus: BusSettings, *events_: CloudEvent) -> None:
    with Connection(bus.broker_url) as connection:
        Publisher(connection).publish(
            [
                OutgoingMessage(body=e.to_json(), routing_key=e.type, message_id=e.id, type=e.type)
                for e in events_
            ],
            exchange=bus.exchange,
        )


def test_flow_5_a_deactivated_cluster_ends_its_mentees_pairs(
    platform: dict[str, ServiceHarness], bus_settings: BusSettings
) -> None:
    registry, mentoring = platform["registry"], platform["mentoring"]
    madrid = _post(
        registry,
        "/clusters",
        {"name": "Clúster Madrid", "country": "ES", "kind": "cluster"},
        REGISTRY_RW,
    )
    tunis = _post(
        registry,
        "/clusters",
        {"name": "Tunis Agrifood", "country": "TN", "kind": "cluster", "sectors": ["agrifood"]},
        REGISTRY_RW,
    )
    mentor = _post(
        registry,
        "/people",
        {
            "name": "Marta Puig",
            "email": "marta@example.org",
            "language": "fr",
            "cluster_id": madrid["id"],
        },
        REGISTRY_RW,
    )
    mentee = _post(
        registry,
        "/people",
        {
            "name": "Salma Ben Ali",
            "email": "salma@example.org",
            "language": "fr",
            "cluster_id": tunis["id"],
        },
        REGISTRY_RW,
    )
    eventually(
        lambda: (
            _person(mentoring, mentee["id"]) is not None
            and _cluster(mentoring, tunis["id"]) is not None
        )
    )
    copy = _cluster(mentoring, tunis["id"])
    assert (copy.country, copy.region, copy.sectors, copy.active) == (
        "TN",
        "mena",
        ("agrifood",),
        True,
    )

    programme = _post(
        mentoring,
        "/programmes",
        {
            "name": "Cluster Mentoring Reloaded",
            "starts_on": "2026-01-01",
            "ends_on": "2027-12-31",
            "competencies": ["funding"],
        },
        MENTORING_RW,
    )
    pid = programme["id"]
    _post(mentoring, f"/programmes/{pid}/open", {}, MENTORING_RW, 200)
    eventually(lambda: _person(mentoring, mentor["id"]) is not None)
    for person, role in ((mentor, "mentor"), (mentee, "mentee")):
        _post(
            mentoring,
            f"/programmes/{pid}/enrolments",
            {"person_id": person["id"], "role": role},
            MENTORING_RW,
        )
    [proposal] = _post(mentoring, f"/programmes/{pid}/matching", {}, MENTORING_RW, 200)["proposals"]
    assert "cross-country: ES and TN" in proposal["reasons"]
    pair = _post(mentoring, f"/pairs/{proposal['id']}/confirm", {}, MENTORING_RW, 200)

    exchange = Exchange(bus_settings.exchange, type="topic", durable=True)
    with Connection(bus_settings.broker_url) as connection:
        listener = Queue("", exchange, routing_key="mentoring.pair.ended", exclusive=True)(
            connection.channel()
        )
        listener.declare()
        _post(
            registry,
            f"/clusters/{tunis['id']}/deactivate",
            {"reason": "Dissolved"},
            REGISTRY_RW,
            200,
        )

        def ended() -> bool:
            response = mentoring.client.get(
                f"/api/v1/pairs/{pair['id']}", headers=mentoring.headers(MENTORING_RW)
            )
            return response.get_json()["status"] == "ended"

        eventually(ended)
        message = None
        deadline = time.monotonic() + 15
        while message is None and time.monotonic() < deadline:
            message = listener.get(no_ack=True)
            time.sleep(0.05)
    assert message is not None, "no mentoring.pair.ended on the exchange"
    payload = json.loads(message.body)
    assert payload["data"]["status"] == "ended"
    assert (
        payload["data"]["reason"]
        == "The mentee's cluster Tunis Agrifood was deactivated: Dissolved"
    )
    assert payload["data"]["mentee"]["person_id"] == mentee["id"]
    assert payload["data"]["mentor"]["name"] == "Marta Puig"
    assert _cluster(mentoring, tunis["id"]).active is False


def test_the_read_copy_survives_redelivery_and_disorder(
    platform: dict[str, ServiceHarness], bus_settings: BusSettings
) -> None:
    mentoring = platform["mentoring"]
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    registered = registry_event(
        "registry.person.registered", person_data("p-1", None, name="Amina"), t0
    )
    newer = registry_event(
        "registry.person.updated",
        {**person_data("p-1", None, name="Amina B."), "changed": ["name"]},
        t0 + timedelta(minutes=2),
    )
    older = registry_event(
        "registry.person.updated",
        {**person_data("p-1", None, name="Stale"), "changed": ["name"]},
        t0 + timedelta(minutes=1),
    )
    # the newer update first, then the registration, the older update, and the newer
    # one again (a redelivery: same event id)
    _publish(bus_settings, newer, registered, older, newer)
    eventually(lambda: _person(mentoring, "p-1") is not None)
    time.sleep(0.5)  # let every message of the run be handled
    assert _person(mentoring, "p-1").name == "Amina B."
    with mentoring.runtime.database.session() as session:
        from sqlalchemy import func, select

        inbox = mentoring.runtime.spec.inbox_table
        handled = session.scalar(select(func.count()).select_from(inbox))
    assert handled == 3  # the redelivered one was claimed once
