"""Registry -> mentoring portfolio over the real RabbitMQ and PostgreSQL.

Clusters, a label and people made through the registry's API reach the mentoring
service's read copies as events (the cluster's description included: the additive
field of ``registry.cluster.*``); the portfolio shows them. A second download of
unchanged data is the PDF kept from the first, ``If-None-Match`` answers 304, and a
cluster renamed in the registry appears renamed in the next download.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from booster.testing import ServiceHarness
from shared.config import BusSettings
from tests.integration.conftest import eventually, running_platform

REGISTRY_RW = "registry:read registry:write"
MENTORING_RW = "mentoring:read mentoring:write"


@pytest.fixture
def platform(
    postgres_admin_url: str, bus_settings: BusSettings, tmp_path: Path
) -> Iterator[dict[str, ServiceHarness]]:
    names = ("registry", "mentoring")
    with running_platform(names, postgres_admin_url, bus_settings, tmp_path) as p:
        yield p


def _call(
    harness: ServiceHarness, method: str, path: str, scope: str, status: int, **kwargs: Any
) -> Any:
    response = harness.client.open(
        f"/api/v1{path}", method=method, headers=harness.headers(scope), **kwargs
    )
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def _copy(mentoring: ServiceHarness, cluster_id: str) -> Any:
    with mentoring.runtime.uow.read() as tx:
        return tx.clusters.get(cluster_id)


def test_a_cluster_renamed_in_the_registry_appears_renamed_in_the_next_download(
    platform: dict[str, ServiceHarness],
) -> None:
    registry, mentoring = platform["registry"], platform["mentoring"]
    madrid = _call(
        registry,
        "POST",
        "/clusters",
        REGISTRY_RW,
        201,
        json={
            "name": "Clúster Madrid Digital",
            "country": "ES",
            "kind": "cluster",
            "city": "Madrid",
            "founded": 2008,
            "members_count": 75,
            "description": "Digital companies of Madrid, mentors since 2019.",
        },
    )
    tunis = _call(
        registry,
        "POST",
        "/clusters",
        REGISTRY_RW,
        201,
        json={"name": "Tunis Agrifood", "country": "TN", "kind": "cluster", "city": "Tunis"},
    )
    _call(
        registry,
        "POST",
        f"/clusters/{tunis['id']}/labels",
        REGISTRY_RW,
        201,
        json={
            "scheme": "ESCA Cluster Management Excellence",
            "level": "silver",
            "awarded_on": "2020-03-01",
            "valid_until": "2022-03-01",
        },
    )
    people = {}
    for name, cluster, role in (
        ("Marta Puig", madrid, "cluster_manager"),
        ("Salma Ben Ali", tunis, "governance_team"),
    ):
        people[name] = _call(
            registry,
            "POST",
            "/people",
            REGISTRY_RW,
            201,
            json={
                "name": name,
                "email": f"{name.split()[0].lower()}@example.org",
                "phone": "+34 600 123 456",
                "language": "fr",
                "cluster_id": cluster["id"],
                "role": role,
            },
        )["id"]
    eventually(
        lambda: (
            (copy := _copy(mentoring, tunis["id"])) is not None
            and len(copy.labels) == 1
            and _copy(mentoring, madrid["id"]) is not None
        )
    )
    eventually(lambda: len(_people(mentoring, people)) == 2)
    assert _copy(mentoring, madrid["id"]).description == (
        "Digital companies of Madrid, mentors since 2019."
    )

    programme = _call(
        mentoring,
        "POST",
        "/programmes",
        MENTORING_RW,
        201,
        json={
            "name": "Cluster Mentoring Reloaded",
            "edition": "2021",
            "organiser": "ACCIÓ",
            "starts_on": "2021-01-11",
            "ends_on": "2021-10-29",
            "competencies": ["funding"],
        },
    )
    pid = programme["id"]
    _call(mentoring, "POST", f"/programmes/{pid}/open", MENTORING_RW, 200)
    for name, role in (("Marta Puig", "mentor"), ("Salma Ben Ali", "mentee")):
        _call(
            mentoring,
            "POST",
            f"/programmes/{pid}/enrolments",
            MENTORING_RW,
            201,
            json={"person_id": people[name], "role": role},
        )
    _call(
        mentoring,
        "POST",
        f"/programmes/{pid}/pairs",
        MENTORING_RW,
        201,
        json={"mentor_id": people["Marta Puig"], "mentee_id": people["Salma Ben Ali"]},
    )

    def download(**headers: str) -> Any:
        return mentoring.client.get(
            f"/api/v1/programmes/{pid}/portfolio?format=pdf",
            headers=mentoring.headers("mentoring:read", **headers),
        )

    first = download()
    assert first.status_code == 200 and first.headers["X-Portfolio-Cache"] == "miss"
    text = _text(first.data)
    for shown in (
        "Clúster Madrid Digital",
        "Tunis Agrifood",
        "Spain",
        "Tunisia",
        "Digital companies of Madrid, mentors since 2019.",
        "ESCA Cluster Management Excellence (silver), valid until 1 March 2022",
        "Marta Puig",
        "Cluster manager",
        "Salma Ben Ali",
        "Governance team member",
    ):
        assert shown in text, shown
    assert "@" not in text and "600 123 456" not in text
    second = download()
    assert second.headers["X-Portfolio-Cache"] == "hit" and second.data == first.data
    assert download(**{"If-None-Match": first.headers["ETag"]}).status_code == 304

    # the registry renames the mentee's cluster; the event reaches the copy over RabbitMQ
    _call(
        registry,
        "PATCH",
        f"/clusters/{tunis['id']}",
        REGISTRY_RW,
        200,
        json={"name": "Tunis Agrifood Cluster (TAC)"},
    )
    eventually(lambda: _copy(mentoring, tunis["id"]).name == "Tunis Agrifood Cluster (TAC)")
    fresh = download(**{"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["X-Portfolio-Cache"] == "miss"
    assert fresh.headers["ETag"] != first.headers["ETag"]
    renamed = _text(fresh.data)
    assert "Tunis Agrifood Cluster (TAC)" in renamed
    # the old name is gone: every "Tunis Agrifood" is the start of the new one
    assert renamed.count("Tunis Agrifood") == renamed.count("Tunis Agrifood Cluster (TAC)")
    assert download().headers["X-Portfolio-Cache"] == "hit"


def _people(mentoring: ServiceHarness, people: dict[str, str]) -> dict[str, Any]:
    with mentoring.runtime.uow.read() as tx:
        return tx.people.many(list(people.values()))
