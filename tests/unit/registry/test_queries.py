"""The registry's read use cases on fakes: filters, orders and keyset pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from services.registry import operations as ops
from services.registry.domain.commands import (
    AddMember,
    AwardLabel,
    DeactivateCluster,
    RemoveCluster,
    RemoveMember,
    RemovePerson,
)
from services.registry.domain.countries import PROGRAMME
from services.registry.domain.model import (
    ClusterStatus,
    LabelLevel,
    Language,
    PersonRole,
    Region,
)
from services.registry.domain.ports import ClusterQuery, PersonQuery
from shared.errors import NotFound
from shared.uow import ReadOnly
from tests.unit.registry.conftest import Uow, new_cluster, new_person

TODAY = date.today()


def test_a_country_is_read_by_its_code_in_any_case(uow: Uow) -> None:
    morocco = ops.get_country(uow, "ma")
    assert (morocco.code, morocco.region, morocco.programme) == ("MA", Region.MENA, True)
    assert morocco.policy is not None and morocco.name_fr == "Maroc"
    with pytest.raises(NotFound):
        ops.get_country(uow, "XX")


def test_countries_are_listed_by_code_filtered_and_paged(uow: Uow) -> None:
    programme = ops.list_countries(uow, None, True, 100, None)
    assert [c.code for c in programme] == sorted(PROGRAMME)
    eu = ops.list_countries(uow, Region.EU, True, 2, ["ES"])
    assert [c.code for c in eu] == ["FR", "IT"]
    assert len(ops.list_countries(uow, None, None, 300, None)) > 240


def test_reads_cannot_emit(uow: Uow) -> None:
    with pytest.raises(ReadOnly), uow.read() as tx:
        tx.emit("registry.person.removed", subject="x", data={"id": "x"})


def test_clusters_are_listed_by_name_then_id_in_keyset_pages(uow: Uow) -> None:
    names = ["Delta", "alpha", "Charlie", "Bravo", "Bravo"]
    ids = {new_cluster(uow, name=name).id for name in names}
    pages, after = [], None
    while True:
        items = ops.list_clusters(uow, ClusterQuery(), 2, after)
        if not items:
            break
        pages.append(items)
        after = [items[-1].name, items[-1].id]
    listed = [cluster for page in pages for cluster in page]
    assert [c.name for c in listed] == ["Bravo", "Bravo", "Charlie", "Delta", "alpha"]
    assert {c.id for c in listed} == ids and len(pages) == 3
    bravos = listed[:2]
    assert bravos[0].id < bravos[1].id


def test_clusters_are_filtered_by_country_region_status_and_sector(uow: Uow) -> None:
    rabat = new_cluster(uow, name="Rabat", sectors=("ICT", "Aéronautique"))
    paris = new_cluster(uow, name="Paris", country="FR", sectors=("ict",))
    tunis = new_cluster(uow, name="Tunis", country="TN")
    ops.deactivate_cluster(uow, DeactivateCluster(tunis.id))
    removed = new_cluster(uow, name="Gone")
    ops.remove_cluster(uow, RemoveCluster(removed.id))

    def names(**filters: Any) -> list[str]:
        return [c.name for c in ops.list_clusters(uow, ClusterQuery(**filters), 10, None)]

    assert names() == ["Paris", "Rabat", "Tunis"]
    assert names(country="MA") == ["Rabat"]
    assert names(region=Region.MENA) == ["Rabat", "Tunis"]
    assert names(status=ClusterStatus.INACTIVE) == ["Tunis"]
    assert names(sector="ICT") == ["Paris", "Rabat"]
    assert names(sector="AÉRONAUTIQUE") == ["Rabat"]
    assert names(region=Region.EU, sector="ict") == ["Paris"]
    assert rabat.id != paris.id


def test_the_label_filter_sees_only_labels_current_today(uow: Uow) -> None:
    current = new_cluster(uow, name="Current")
    expired = new_cluster(uow, name="Expired")
    silver = new_cluster(uow, name="Silver")
    long_ago = TODAY - timedelta(days=800)
    ops.award_label(uow, AwardLabel(current.id, "ESCA", LabelLevel.GOLD, long_ago))
    ops.award_label(
        uow,
        AwardLabel(expired.id, "ESCA", LabelLevel.GOLD, long_ago, long_ago + timedelta(days=1)),
    )
    ops.award_label(uow, AwardLabel(silver.id, "ESCA", LabelLevel.SILVER, TODAY, None))
    gold = ops.list_clusters(uow, ClusterQuery(label=LabelLevel.GOLD), 10, None)
    assert [c.name for c in gold] == ["Current"]


def test_the_cluster_search_folds_case_in_every_alphabet_and_reads_acronyms(uow: Uow) -> None:
    new_cluster(uow, name="Pôle ÉCOTECH", acronym="PEC")
    new_cluster(uow, name="ΑΘΗΝΑ Cluster")
    new_cluster(uow, name="100% Digital_Hub")

    def found(q: str) -> list[str]:
        return [c.name for c in ops.list_clusters(uow, ClusterQuery(q=q), 10, None)]

    assert found("écotech") == ["Pôle ÉCOTECH"]
    assert found("αθηνα") == ["ΑΘΗΝΑ Cluster"]
    assert found("pec") == ["Pôle ÉCOTECH"]
    assert found("100%") == ["100% Digital_Hub"]
    assert found("l_h") == ["100% Digital_Hub"]
    assert found("  pôle   écotech ") == ["Pôle ÉCOTECH"]
    assert found("nothing") == []


def test_a_clusters_members_are_listed_current_only_by_default(uow: Uow) -> None:
    cluster, other = new_cluster(uow), new_cluster(uow, name="Other")
    atlas = ops.add_member(uow, AddMember(cluster.id, "Atlas"))
    ops.add_member(uow, AddMember(cluster.id, "Berbère Tech"))
    ops.add_member(uow, AddMember(cluster.id, "Casa Data"))
    ops.add_member(uow, AddMember(other.id, "Elsewhere"))
    ops.remove_member(uow, RemoveMember(cluster.id, atlas.id))
    current = ops.list_members(uow, cluster.id, True, 10, None)
    assert [m.name for m in current] == ["Berbère Tech", "Casa Data"]
    everyone = ops.list_members(uow, cluster.id, False, 2, None)
    assert [m.name for m in everyone] == ["Atlas", "Berbère Tech"]
    rest = ops.list_members(uow, cluster.id, False, 2, [everyone[-1].name, everyone[-1].id])
    assert [m.name for m in rest] == ["Casa Data"]
    with pytest.raises(NotFound):
        ops.list_members(uow, "nope", True, 10, None)


def test_people_are_filtered_by_cluster_role_language_and_search(uow: Uow) -> None:
    cluster = new_cluster(uow)
    new_person(uow, cluster_id=cluster.id, role=PersonRole.CLUSTER_MANAGER)
    new_person(uow, name="Omar Said", email="omar@cluster.ma", language=Language.AR)
    gone = new_person(uow, name="Zineb", email="zineb@example.org")
    ops.remove_person(uow, RemovePerson(gone.id))

    def names(**filters: Any) -> list[str]:
        return [p.name for p in ops.list_people(uow, PersonQuery(**filters), 10, None)]

    assert names() == ["Amina Benali", "Omar Said"]
    assert names(cluster_id=cluster.id) == ["Amina Benali"]
    assert names(role=PersonRole.CLUSTER_MANAGER) == ["Amina Benali"]
    assert names(language=Language.AR) == ["Omar Said"]
    assert names(q="CLUSTER.MA") == ["Omar Said"]
    assert names(q="benali") == ["Amina Benali"]
    first = ops.list_people(uow, PersonQuery(), 1, None)
    rest = ops.list_people(uow, PersonQuery(), 5, [first[0].name, first[0].id])
    assert [p.name for p in rest] == ["Omar Said"]
