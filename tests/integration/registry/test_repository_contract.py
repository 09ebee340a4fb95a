"""The in-memory repositories behave like the SQL ones: one scenario, both answers equal.

The scenario goes through the use cases (and, for stale writes, the repositories
themselves) and records what a caller can see: names in list order, versions,
statuses, refusals, the events committed. It runs on the fakes of
``services.registry.adapters.memory`` and on the service's SQL unit of work (SQLite);
every unit test of ``tests/unit/registry`` relies on the two agreeing. (PostgreSQL
orders text by its collation, not by code point, so the scenario stays on SQLite.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import ServiceHarness, service_harness
from services.registry import operations as ops
from services.registry.adapters.memory import fake_uow
from services.registry.domain.commands import (
    AddMember,
    AwardLabel,
    DeactivateCluster,
    RegisterCluster,
    RegisterPerson,
    RemoveCluster,
    RemoveMember,
    RemovePerson,
    UpdateCluster,
    UpdateCountryPolicy,
    UpdatePerson,
)
from services.registry.domain.countries import PolicyContext
from services.registry.domain.model import (
    ClusterKind,
    ClusterStatus,
    LabelLevel,
    Language,
    PersonRole,
    Region,
)
from services.registry.domain.ports import ClusterQuery, PersonQuery, RegistryUnitOfWork
from shared.errors import PlatformError
from tests.conftest import TEST_SECRET

TODAY = date.today()
LONG_AGO = TODAY - timedelta(days=900)


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[ServiceHarness]:
    with service_harness(
        "registry", f"sqlite:///{tmp_path / 'contract.db'}", tmp_path, TEST_SECRET
    ) as harness:
        yield harness


def refusal(call: Callable[[], Any]) -> str:
    """The name of the error ``call`` raises (it must raise one)."""
    try:
        call()
    except PlatformError as error:
        return type(error).__name__
    raise AssertionError("expected a refusal")


def names(items: list[Any]) -> list[str]:
    return [item.name for item in items]


def pages(fetch: Callable[[int, list[str] | None], list[Any]], size: int) -> list[list[str]]:
    """Every page of a keyset list, as names (checked to come in (name, id) order)."""
    result: list[list[str]] = []
    keys: list[tuple[str, str]] = []
    after = None
    while items := fetch(size, after):
        result.append(names(items))
        keys += [(item.name, item.id) for item in items]
        after = list(keys[-1])
    assert keys == sorted(keys)
    return result


def scenario(uow: RegistryUnitOfWork) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def register(name: str, country: str, **fields: Any) -> str:
        command = RegisterCluster(name, country, ClusterKind.CLUSTER, **fields)
        return ops.register_cluster(uow, command).id

    # clusters, their labels and sectors
    bravo_ma = register("Bravo", "MA", sectors=("ICT", "Aéronautique"))
    bravo_tn = register("Bravo", "tn", sectors=("ict",))
    alpha = register("alpha", "FR", acronym="ALF")
    pole = register("Pôle ÉCOTECH", "MA", acronym="PEC")
    gone = register("Gone", "EG")
    ops.award_label(uow, AwardLabel(bravo_ma, "ESCA", LabelLevel.GOLD, LONG_AGO))
    ops.award_label(
        uow, AwardLabel(pole, "ESCA", LabelLevel.GOLD, LONG_AGO, LONG_AGO + timedelta(days=1))
    )
    ops.award_label(uow, AwardLabel(alpha, "ESCA", LabelLevel.SILVER, TODAY))
    ops.deactivate_cluster(uow, DeactivateCluster(bravo_tn, "Merged", 1))
    updated = ops.update_cluster(uow, UpdateCluster(alpha, {"city": "Lyon"}, 2))
    seen["update"] = (updated.version, updated.city, updated.region)
    seen["stale update"] = refusal(
        lambda: ops.update_cluster(uow, UpdateCluster(alpha, {"city": "Nice"}, 2))
    )
    ops.remove_cluster(uow, RemoveCluster(gone, 1))
    seen["removed"] = refusal(lambda: ops.get_cluster(uow, gone))
    stored = ops.get_cluster(uow, bravo_ma)
    seen["cluster"] = (stored.version, stored.sectors, [lb.level for lb in stored.labels])
    with uow.begin() as tx:
        fresh = tx.clusters.get(alpha)
        assert fresh is not None
        seen["stale save"] = refusal(lambda: tx.clusters.save(replace(fresh, city="X"), 1))
        seen["stale remove"] = refusal(lambda: tx.clusters.remove(replace(fresh, version=1)))

    def clusters(**filters: Any) -> list[list[str]]:
        query = ClusterQuery(**filters)
        return pages(lambda limit, after: ops.list_clusters(uow, query, limit, after), 2)

    seen["clusters"] = clusters()
    seen["by country"] = clusters(country="MA")
    seen["by region"] = clusters(region=Region.MENA)
    seen["by status"] = clusters(status=ClusterStatus.INACTIVE)
    seen["by sector"] = clusters(sector="ICT")
    seen["by accented sector"] = clusters(sector="AÉRONAUTIQUE")
    seen["by current gold"] = clusters(label=LabelLevel.GOLD)
    seen["by silver"] = clusters(label=LabelLevel.SILVER)
    seen["search"] = [clusters(q=q) for q in ("écotech", "alf", "  BRAVO ", "%", "nothing")]

    # members
    first = ops.add_member(uow, AddMember(bravo_ma, "Atlas", joined_on=LONG_AGO))
    ops.add_member(uow, AddMember(bravo_ma, "Berbère Tech", country="fr"))
    ops.add_member(uow, AddMember(bravo_ma, "Casa Data"))
    ops.add_member(uow, AddMember(alpha, "Elsewhere"))
    left = ops.remove_member(uow, RemoveMember(bravo_ma, first.id, TODAY))
    seen["left"] = left.left_on == TODAY
    seen["left twice"] = refusal(lambda: ops.remove_member(uow, RemoveMember(bravo_ma, first.id)))
    seen["wrong cluster"] = refusal(lambda: ops.remove_member(uow, RemoveMember(alpha, first.id)))
    seen["members"] = pages(lambda n, after: ops.list_members(uow, bravo_ma, True, n, after), 2)
    seen["all members"] = pages(
        lambda n, after: ops.list_members(uow, bravo_ma, False, n, after), 2
    )

    # people
    def person(name: str, email: str, **fields: Any) -> str:
        return ops.register_person(uow, RegisterPerson(name, email, Language.FR, **fields)).id

    amina = person("Amina", "amina@example.org", cluster_id=bravo_ma)
    omar = person("Omar", "Omar@Example.org", role=PersonRole.EXPERT, country="jo")
    zineb = person("Zineb", "zineb@example.org")
    seen["duplicate email"] = refusal(lambda: person("Other", "OMAR@example.org"))
    ops.remove_person(uow, RemovePerson(zineb, 1))
    person("Zineb again", "ZINEB@example.org")
    moved = ops.update_person(uow, UpdatePerson(amina, {"cluster_id": alpha}, 1))
    seen["moved"] = (moved.country, moved.version)
    seen["taken email"] = refusal(
        lambda: ops.update_person(uow, UpdatePerson(amina, {"email": "omar@example.org"}))
    )
    seen["stale person"] = refusal(
        lambda: ops.update_person(uow, UpdatePerson(omar, {"name": "O"}, 9))
    )
    with uow.begin() as tx:
        stored_omar = tx.people.get(omar)
        assert stored_omar is not None
        seen["person by email"] = tx.people.with_email("omar@example.org") == stored_omar
        seen["stale person save"] = refusal(
            lambda: tx.people.save(replace(stored_omar, name="X"), 2)
        )

    def people(**filters: Any) -> list[list[str]]:
        query = PersonQuery(**filters)
        return pages(lambda limit, after: ops.list_people(uow, query, limit, after), 2)

    seen["people"] = people()
    seen["people by cluster"] = people(cluster_id=alpha)
    seen["people by role"] = people(role=PersonRole.EXPERT)
    seen["people by language"] = people(language=Language.FR)
    seen["people search"] = people(q="EXAMPLE.ORG")

    # countries
    policy = PolicyContext("A new strategy.", ("Since 2024",))
    ops.update_country_policy(uow, UpdateCountryPolicy("tn", policy))
    seen["policy"] = ops.get_country(uow, "TN").policy
    seen["countries"] = [
        [c.code for c in ops.list_countries(uow, region, programme, 3, after)]
        for region, programme, after in [
            (None, True, None),
            (None, True, ["LB"]),
            (Region.EU, True, None),
            (Region.MENA, None, ["SA"]),
        ]
    ]
    return seen


def test_the_fakes_answer_the_scenario_as_the_sql_repositories_do(sql: ServiceHarness) -> None:
    fake = fake_uow(platform_catalogue())
    in_memory = scenario(fake)
    on_sql = scenario(sql.runtime.uow)
    assert in_memory == on_sql
    assert fake.types() == [event.type for event in sql.events()]
    # and the scenario says what it should
    assert in_memory["clusters"] == [["Bravo", "Bravo"], ["Pôle ÉCOTECH", "alpha"]]
    assert in_memory["by current gold"] == [["Bravo"]]
    assert in_memory["search"] == [[["Pôle ÉCOTECH"]], [["alpha"]], [["Bravo", "Bravo"]], [], []]
    assert in_memory["members"] == [["Berbère Tech", "Casa Data"]]
    assert in_memory["people"] == [["Amina", "Omar"], ["Zineb again"]]
    assert in_memory["moved"] == ("FR", 2)
