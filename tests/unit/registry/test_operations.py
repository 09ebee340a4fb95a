"""The registry's write use cases on fakes: what they store, what they emit, what they refuse."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.registry import operations as ops
from services.registry.adapters.memory import FakeClusters
from services.registry.domain.commands import (
    AddMember,
    AwardLabel,
    DeactivateCluster,
    ReactivateCluster,
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
    Label,
    LabelLevel,
    Language,
    PersonRole,
    Region,
    SizeClass,
)
from shared.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PreconditionFailed
from tests.unit.registry.conftest import Uow, new_cluster, new_person

TODAY = date.today()


# -- countries -----------------------------------------------------------------------
def test_a_countrys_policy_is_replaced_without_an_event(uow: Uow) -> None:
    policy = PolicyContext("A new national cluster strategy.", ("Adopted in 2024",))
    country = ops.update_country_policy(uow, UpdateCountryPolicy("ma", policy))
    assert country.code == "MA" and country.policy == policy
    assert ops.get_country(uow, "MA").policy == policy
    assert uow.commits == 1 and uow.events == []


def test_the_policy_of_an_unknown_country_cannot_be_set(uow: Uow) -> None:
    with pytest.raises(NotFound):
        ops.update_country_policy(uow, UpdateCountryPolicy("XX", PolicyContext("Nothing.")))
    assert uow.commits == 0


# -- clusters ------------------------------------------------------------------------
def test_a_registered_cluster_takes_its_region_from_its_country_and_is_announced(
    uow: Uow,
) -> None:
    cluster = new_cluster(
        uow, country="tn", acronym="CM", sectors=(" Marble ", "marble", "Stone  works")
    )
    assert (cluster.country, cluster.region) == ("TN", Region.MENA)
    assert cluster.sectors == ("Marble", "Stone works")
    assert cluster.status is ClusterStatus.ACTIVE and cluster.version == 1
    assert ops.get_cluster(uow, cluster.id) == cluster
    [event] = uow.events
    assert (event.type, event.subject) == ("registry.cluster.registered", cluster.id)
    assert event.data == {
        "id": cluster.id,
        "name": "Maroc Numeric Cluster",
        "acronym": "CM",
        "country": "TN",
        "region": "mena",
        "city": None,
        "kind": "cluster",
        "sectors": ["Marble", "Stone works"],
        "founded": None,
        "website": None,
        "members_count": None,
        "status": "active",
        "description": None,
    }


def test_a_cluster_in_an_unknown_country_is_refused_and_leaves_no_trace(uow: Uow) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_cluster(uow, country="XX")
    assert refused.value.errors == {"country": ["Not an ISO 3166-1 alpha-2 country code."]}
    assert uow.tx.clusters.rows == {} and uow.events == [] and uow.commits == 0


def test_an_update_writes_a_new_version_and_names_what_changed(uow: Uow) -> None:
    cluster = new_cluster(uow)
    changes = {"city": "Fès", "country": "fr", "kind": "technopole", "name": cluster.name}
    updated = ops.update_cluster(uow, UpdateCluster(cluster.id, changes, expected_version=1))
    assert (updated.city, updated.country, updated.region) == ("Fès", "FR", Region.EU)
    assert updated.kind is ClusterKind.TECHNOPOLE and updated.version == 2
    assert ops.get_cluster(uow, cluster.id) == updated
    event = uow.events[-1]
    assert event.type == "registry.cluster.updated"
    assert event.data["changed"] == ["city", "country", "kind"]
    assert event.data["region"] == "eu"


def test_an_update_that_changes_nothing_keeps_the_version_and_emits_nothing(uow: Uow) -> None:
    cluster = new_cluster(uow, sectors=("ICT",))
    same = ops.update_cluster(uow, UpdateCluster(cluster.id, {"sectors": [" ICT ", "ict"]}))
    assert same.version == 1 and same.sectors == ("ICT",)
    assert uow.types() == ["registry.cluster.registered"]


def test_an_update_from_a_stale_read_is_refused(uow: Uow) -> None:
    cluster = new_cluster(uow)
    ops.update_cluster(uow, UpdateCluster(cluster.id, {"city": "Rabat"}, expected_version=1))
    with pytest.raises(PreconditionFailed):
        ops.update_cluster(uow, UpdateCluster(cluster.id, {"city": "Fès"}, expected_version=1))
    assert ops.get_cluster(uow, cluster.id).city == "Rabat"


def test_an_update_of_a_field_that_is_not_editable_or_to_an_unknown_country_is_refused(
    uow: Uow,
) -> None:
    cluster = new_cluster(uow)
    with pytest.raises(InvalidInput):
        ops.update_cluster(uow, UpdateCluster(cluster.id, {"status": "inactive"}))
    with pytest.raises(InvalidInput):
        ops.update_cluster(uow, UpdateCluster(cluster.id, {"country": "XX"}))
    with pytest.raises(NotFound):
        ops.update_cluster(uow, UpdateCluster("nope", {"city": "Fès"}))
    assert ops.get_cluster(uow, cluster.id) == cluster
    assert uow.types() == ["registry.cluster.registered"]


def test_a_cluster_is_deactivated_and_reactivated_once_each_with_the_reason(uow: Uow) -> None:
    cluster = new_cluster(uow)
    inactive = ops.deactivate_cluster(uow, DeactivateCluster(cluster.id, "Merged", 1))
    assert inactive.status is ClusterStatus.INACTIVE and inactive.version == 2
    with pytest.raises(InvalidTransition):
        ops.deactivate_cluster(uow, DeactivateCluster(cluster.id))
    active = ops.reactivate_cluster(uow, ReactivateCluster(cluster.id))
    assert active.status is ClusterStatus.ACTIVE and active.version == 3
    with pytest.raises(InvalidTransition):
        ops.reactivate_cluster(uow, ReactivateCluster(cluster.id))
    assert uow.types() == [
        "registry.cluster.registered",
        "registry.cluster.deactivated",
        "registry.cluster.reactivated",
    ]
    deactivated, reactivated = uow.events[1:]
    assert deactivated.data == {
        "id": cluster.id,
        "name": cluster.name,
        "country": "MA",
        "reason": "Merged",
    }
    assert reactivated.data["reason"] is None


def test_a_status_change_from_a_stale_read_is_refused(uow: Uow) -> None:
    cluster = new_cluster(uow)
    with pytest.raises(PreconditionFailed):
        ops.deactivate_cluster(uow, DeactivateCluster(cluster.id, expected_version=7))
    assert ops.get_cluster(uow, cluster.id).status is ClusterStatus.ACTIVE


def test_a_removed_cluster_is_gone_for_every_read_and_cannot_be_removed_again(uow: Uow) -> None:
    cluster = new_cluster(uow)
    ops.remove_cluster(uow, RemoveCluster(cluster.id, expected_version=1))
    with pytest.raises(NotFound):
        ops.get_cluster(uow, cluster.id)
    with pytest.raises(NotFound):
        ops.remove_cluster(uow, RemoveCluster(cluster.id))
    assert uow.tx.clusters.rows[cluster.id].version == 2  # the row stays, for history
    assert uow.events[-1].type == "registry.cluster.removed"
    assert uow.events[-1].data == {"id": cluster.id, "name": cluster.name}


def test_a_cluster_is_not_removed_from_a_stale_read(uow: Uow) -> None:
    cluster = new_cluster(uow)
    with pytest.raises(PreconditionFailed):
        ops.remove_cluster(uow, RemoveCluster(cluster.id, expected_version=2))
    assert ops.get_cluster(uow, cluster.id) == cluster


def test_an_awarded_label_joins_the_cluster_and_is_announced(uow: Uow) -> None:
    cluster = new_cluster(uow)
    command = AwardLabel(
        cluster.id, "  ESCA   Cluster Excellence ", LabelLevel.GOLD, date(2021, 1, 1)
    )
    label = ops.award_label(uow, command)
    assert label.scheme == "ESCA Cluster Excellence"
    stored = ops.get_cluster(uow, cluster.id)
    assert stored.labels == (label,) and stored.version == 2
    assert uow.tx.clusters.labels[cluster.id] == [label]
    event = uow.events[-1]
    assert event.type == "registry.cluster.label_awarded"
    assert event.data == {
        "cluster_id": cluster.id,
        "cluster_name": cluster.name,
        "label": {
            "id": label.id,
            "scheme": "ESCA Cluster Excellence",
            "level": "gold",
            "awarded_on": "2021-01-01",
            "valid_until": None,
        },
    }


def test_a_label_is_refused_twice_the_same_day_to_an_inactive_cluster_or_ending_early(
    uow: Uow,
) -> None:
    cluster = new_cluster(uow)
    ops.award_label(uow, AwardLabel(cluster.id, "ESCA", LabelLevel.SILVER, date(2020, 2, 2)))
    with pytest.raises(InvalidTransition):
        ops.award_label(uow, AwardLabel(cluster.id, "esca", LabelLevel.SILVER, date(2020, 2, 2)))
    with pytest.raises(InvalidInput):
        ops.award_label(
            uow, AwardLabel(cluster.id, "ESCA", LabelLevel.GOLD, TODAY, valid_until=TODAY)
        )
    ops.deactivate_cluster(uow, DeactivateCluster(cluster.id))
    with pytest.raises(InvalidTransition):
        ops.award_label(uow, AwardLabel(cluster.id, "ESCA", LabelLevel.GOLD, TODAY))
    with pytest.raises(NotFound):
        ops.award_label(uow, AwardLabel("nope", "ESCA", LabelLevel.GOLD, TODAY))
    assert len(ops.get_cluster(uow, cluster.id).labels) == 1


def test_when_a_write_fails_after_its_event_neither_is_kept(
    uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = new_cluster(uow)

    def broken_add_label(self: FakeClusters, cluster_id: str, label: Label) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(FakeClusters, "add_label", broken_add_label)
    with pytest.raises(RuntimeError):
        ops.award_label(uow, AwardLabel(cluster.id, "ESCA", LabelLevel.SILVER, TODAY))
    monkeypatch.undo()
    assert ops.get_cluster(uow, cluster.id) == cluster
    assert uow.types() == ["registry.cluster.registered"] and uow.commits == 1


# -- members -------------------------------------------------------------------------
def test_a_member_joins_today_in_its_clusters_country_unless_told_otherwise(uow: Uow) -> None:
    cluster = new_cluster(uow)
    member = ops.add_member(uow, AddMember(cluster.id, "Atlas Software"))
    assert (member.country, member.joined_on, member.left_on) == ("MA", TODAY, None)
    other = ops.add_member(
        uow,
        AddMember(cluster.id, "Sud Logistique", SizeClass.SMALL, "Logistics", "fr", TODAY),
    )
    assert other.country == "FR"
    assert uow.types()[-2:] == ["registry.member.joined", "registry.member.joined"]
    assert uow.events[-1].data == {
        "id": other.id,
        "cluster_id": cluster.id,
        "name": "Sud Logistique",
        "size_class": "small",
        "sector": "Logistics",
        "country": "FR",
        "joined_on": TODAY.isoformat(),
    }


def test_a_member_needs_a_known_cluster_and_country(uow: Uow) -> None:
    cluster = new_cluster(uow)
    with pytest.raises(NotFound):
        ops.add_member(uow, AddMember("nope", "Atlas Software"))
    with pytest.raises(InvalidInput):
        ops.add_member(uow, AddMember(cluster.id, "Atlas Software", country="XX"))
    assert uow.tx.members.rows == {}


def test_a_member_leaves_once_and_not_before_it_joined(uow: Uow) -> None:
    cluster = new_cluster(uow)
    joined = date(2022, 5, 1)
    member = ops.add_member(uow, AddMember(cluster.id, "Atlas", joined_on=joined))
    with pytest.raises(InvalidInput):
        ops.remove_member(uow, RemoveMember(cluster.id, member.id, joined - timedelta(days=1)))
    left = ops.remove_member(uow, RemoveMember(cluster.id, member.id))
    assert left.left_on == TODAY
    assert uow.tx.members.rows[member.id].left_on == TODAY  # the record stays
    with pytest.raises(InvalidTransition):
        ops.remove_member(uow, RemoveMember(cluster.id, member.id))
    assert uow.events[-1].type == "registry.member.left"
    assert uow.events[-1].data == {
        "id": member.id,
        "cluster_id": cluster.id,
        "name": "Atlas",
        "left_on": TODAY.isoformat(),
    }


def test_a_member_is_found_only_in_its_own_cluster(uow: Uow) -> None:
    cluster, other = new_cluster(uow), new_cluster(uow, name="Other")
    member = ops.add_member(uow, AddMember(cluster.id, "Atlas"))
    with pytest.raises(NotFound):
        ops.remove_member(uow, RemoveMember(other.id, member.id))


# -- people --------------------------------------------------------------------------
def test_a_person_takes_their_clusters_country_and_is_announced(uow: Uow) -> None:
    cluster = new_cluster(uow, country="EG")
    person = new_person(
        uow, cluster_id=cluster.id, role=PersonRole.CLUSTER_MANAGER, phone="+20 100 000 0000"
    )
    assert person.country == "EG" and person.version == 1
    assert ops.get_person(uow, person.id) == person
    event = uow.events[-1]
    assert (event.type, event.subject) == ("registry.person.registered", person.id)
    assert event.data == {
        "id": person.id,
        "name": "Amina Benali",
        "email": "amina@example.org",
        "language": "fr",
        "cluster_id": cluster.id,
        "country": "EG",
        "role": "cluster_manager",
        "phone": "+20 100 000 0000",
    }


def test_a_persons_own_country_wins_over_their_clusters(uow: Uow) -> None:
    cluster = new_cluster(uow, country="EG")
    person = new_person(uow, cluster_id=cluster.id, country="jo")
    assert person.country == "JO" and person.role is PersonRole.OTHER


def test_emails_are_unique_case_insensitively(uow: Uow) -> None:
    new_person(uow)
    with pytest.raises(Conflict) as refused:
        new_person(uow, email="AMINA@example.org", name="Someone else")
    assert refused.value.errors == {"email": ["Already registered."]}
    assert len(uow.tx.people.rows) == 1 and uow.commits == 1


def test_a_person_needs_a_known_cluster_and_country(uow: Uow) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_person(uow, cluster_id="nope")
    assert refused.value.errors == {"cluster_id": ["No such cluster."]}
    with pytest.raises(InvalidInput):
        new_person(uow, country="XX")
    assert uow.tx.people.rows == {} and uow.events == []


def test_people_registered_inside_one_open_unit_commit_together(uow: Uow) -> None:
    with uow.begin():
        for n in range(3):
            new_person(uow, name=f"P {n}", email=f"p{n}@example.org")
    assert uow.commits == 1 and uow.types() == ["registry.person.registered"] * 3
    with pytest.raises(Conflict), uow.begin():
        new_person(uow, name="P 3", email="p3@example.org")
        new_person(uow, name="P 0 again", email="p0@example.org")
    assert len(uow.tx.people.rows) == 3 and len(uow.events) == 3


def test_a_person_update_names_what_changed(uow: Uow) -> None:
    person = new_person(uow)
    command = UpdatePerson(person.id, {"language": "en", "phone": "+212 600 000 000"}, 1)
    updated = ops.update_person(uow, command)
    assert updated.language is Language.EN and updated.version == 2
    assert ops.get_person(uow, person.id) == updated
    event = uow.events[-1]
    assert event.type == "registry.person.updated"
    assert event.data["changed"] == ["language", "phone"]


def test_a_person_who_moves_to_another_cluster_follows_its_country(uow: Uow) -> None:
    tunis, cairo = new_cluster(uow, country="TN"), new_cluster(uow, country="EG", name="Cairo")
    person = new_person(uow, cluster_id=tunis.id)
    moved = ops.update_person(uow, UpdatePerson(person.id, {"cluster_id": cairo.id}))
    assert moved.country == "EG"
    assert uow.events[-1].data["changed"] == ["cluster_id", "country"]
    back = {"cluster_id": tunis.id, "country": "FR"}
    kept = ops.update_person(uow, UpdatePerson(person.id, back))
    assert kept.country == "FR"


def test_a_person_update_that_changes_nothing_emits_nothing(uow: Uow) -> None:
    person = new_person(uow)
    same = ops.update_person(uow, UpdatePerson(person.id, {"name": person.name}))
    assert same.version == 1 and uow.types() == ["registry.person.registered"]


def test_a_person_may_change_the_case_of_their_email_but_not_take_anothers(uow: Uow) -> None:
    amina = new_person(uow)
    new_person(uow, name="Omar", email="omar@example.org")
    recased = ops.update_person(uow, UpdatePerson(amina.id, {"email": "Amina@Example.org"}))
    assert recased.email == "Amina@Example.org"
    with pytest.raises(Conflict):
        ops.update_person(uow, UpdatePerson(amina.id, {"email": "OMAR@example.org"}))
    assert ops.get_person(uow, amina.id).email == "Amina@Example.org"


def test_a_person_update_is_refused_when_stale_unknown_or_not_editable(uow: Uow) -> None:
    person = new_person(uow)
    with pytest.raises(PreconditionFailed):
        ops.update_person(uow, UpdatePerson(person.id, {"name": "A"}, expected_version=2))
    with pytest.raises(NotFound):
        ops.update_person(uow, UpdatePerson("nope", {"name": "A"}))
    with pytest.raises(InvalidInput):
        ops.update_person(uow, UpdatePerson(person.id, {"version": 9}))
    with pytest.raises(InvalidInput):
        ops.update_person(uow, UpdatePerson(person.id, {"cluster_id": "nope"}))
    assert ops.get_person(uow, person.id) == person
    assert uow.types() == ["registry.person.registered"]


def test_a_removed_person_is_gone_and_their_email_is_free_again(uow: Uow) -> None:
    person = new_person(uow)
    ops.remove_person(uow, RemovePerson(person.id, expected_version=1))
    with pytest.raises(NotFound):
        ops.get_person(uow, person.id)
    with pytest.raises(NotFound):
        ops.remove_person(uow, RemovePerson(person.id))
    assert uow.events[-1].type == "registry.person.removed"
    assert uow.events[-1].data == {"id": person.id}
    again = ops.register_person(
        uow, RegisterPerson("Amina Benali", "amina@example.org", Language.AR)
    )
    assert again.id != person.id


def test_a_person_is_not_removed_from_a_stale_read(uow: Uow) -> None:
    person = new_person(uow)
    with pytest.raises(PreconditionFailed):
        ops.remove_person(uow, RemovePerson(person.id, expected_version=3))
    assert ops.get_person(uow, person.id) == person
