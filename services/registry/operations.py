"""What the registry does: each operation is one transaction with the events it causes.

Views and the seed call these; they know nothing of HTTP. An operation loads through
the repository, lets the domain model decide, writes, and emits the integration
events (through the outbox, in the same transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from services.registry.adapters.repository import ClusterQuery, PersonQuery, RegistryRepository
from services.registry.domain.countries import Country, PolicyContext, iso_country
from services.registry.domain.model import (
    Cluster,
    ClusterKind,
    ClusterStatus,
    Label,
    LabelLevel,
    Language,
    Member,
    Person,
    PersonRole,
    SizeClass,
    normalise_sectors,
)
from shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.uow import UnitOfWork


# -- reads ---------------------------------------------------------------------------
def get_country(uow: UnitOfWork, code: str) -> Country:
    with uow.read() as session:
        country = RegistryRepository(session).country(code.upper())
    if country is None:
        raise NotFound(f"No country with code {code!r}.")
    return country


def list_countries(
    uow: UnitOfWork, region: str | None, programme: bool | None, limit: int, after: Any
) -> list[Country]:
    with uow.read() as session:
        return RegistryRepository(session).countries(region, programme, limit, after)


def get_cluster(uow: UnitOfWork, cluster_id: str) -> Cluster:
    with uow.read() as session:
        return _cluster(RegistryRepository(session), cluster_id)


def list_clusters(uow: UnitOfWork, query: ClusterQuery, limit: int, after: Any) -> list[Cluster]:
    with uow.read() as session:
        return RegistryRepository(session).list_clusters(query, limit, after)


def list_members(
    uow: UnitOfWork, cluster_id: str, current_only: bool, limit: int, after: Any
) -> list[Member]:
    with uow.read() as session:
        repo = RegistryRepository(session)
        _cluster(repo, cluster_id)
        return repo.list_members(cluster_id, current_only, limit, after)


def get_person(uow: UnitOfWork, person_id: str) -> Person:
    with uow.read() as session:
        return _person(RegistryRepository(session), person_id)


def list_people(uow: UnitOfWork, query: PersonQuery, limit: int, after: Any) -> list[Person]:
    with uow.read() as session:
        return RegistryRepository(session).list_people(query, limit, after)


# -- countries -----------------------------------------------------------------------
def update_country_policy(uow: UnitOfWork, code: str, policy: PolicyContext | None) -> Country:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        if repo.country(code.upper()) is None:
            raise NotFound(f"No country with code {code!r}.")
        repo.save_country_policy(code.upper(), policy)
        return repo.country(code.upper())  # type: ignore[return-value]


# -- clusters ------------------------------------------------------------------------
def register_cluster(uow: UnitOfWork, data: dict[str, Any]) -> Cluster:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        country = _known_country(data["country"])
        cluster = Cluster(
            name=data["name"],
            country=country.code,
            region=country.region,
            kind=ClusterKind(data["kind"]),
            acronym=data.get("acronym"),
            city=data.get("city"),
            sectors=normalise_sectors(data.get("sectors")),
            founded=data.get("founded"),
            website=data.get("website"),
            description=data.get("description"),
            members_count=data.get("members_count"),
        )
        repo.add_cluster(cluster)
        tx.emit("registry.cluster.registered", subject=cluster.id, data=cluster_data(cluster))
        return cluster


def update_cluster(
    uow: UnitOfWork, cluster_id: str, changes: dict[str, Any], expected_version: int | None
) -> Cluster:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        cluster = _cluster(repo, cluster_id, expected_version)
        region = None
        if "kind" in changes:
            changes = {**changes, "kind": ClusterKind(changes["kind"])}
        if "country" in changes:
            country = _known_country(changes["country"])
            changes = {**changes, "country": country.code}
            region = country.region
        updated, changed = cluster.changed(changes, region)
        if changed:
            repo.save_cluster(updated, cluster.version)
            tx.emit(
                "registry.cluster.updated",
                subject=cluster.id,
                data={**cluster_data(updated), "changed": changed},
            )
        return updated


def deactivate_cluster(
    uow: UnitOfWork, cluster_id: str, reason: str | None, expected_version: int | None
) -> Cluster:
    return _change_status(uow, cluster_id, reason, expected_version, Cluster.deactivate)


def reactivate_cluster(
    uow: UnitOfWork, cluster_id: str, reason: str | None, expected_version: int | None
) -> Cluster:
    return _change_status(uow, cluster_id, reason, expected_version, Cluster.reactivate)


def _change_status(
    uow: UnitOfWork,
    cluster_id: str,
    reason: str | None,
    expected_version: int | None,
    transition: Callable[[Cluster], Cluster],
) -> Cluster:
    """Deactivate or reactivate: ``registry.cluster.deactivated`` / ``.reactivated``."""
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        cluster = _cluster(repo, cluster_id, expected_version)
        updated = transition(cluster)
        repo.save_cluster(updated, cluster.version)
        tx.emit(
            "registry.cluster.deactivated"
            if updated.status is ClusterStatus.INACTIVE
            else "registry.cluster.reactivated",
            subject=cluster.id,
            data=_status_data(updated, reason),
        )
        return updated


def delete_cluster(uow: UnitOfWork, cluster_id: str, expected_version: int | None) -> None:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        cluster = _cluster(repo, cluster_id, expected_version)
        repo.delete_cluster(cluster)
        tx.emit(
            "registry.cluster.removed",
            subject=cluster.id,
            data={"id": cluster.id, "name": cluster.name},
        )


def award_label(uow: UnitOfWork, cluster_id: str, data: dict[str, Any]) -> Label:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        cluster = _cluster(repo, cluster_id)
        label = Label(
            scheme=" ".join(data["scheme"].split()),
            level=LabelLevel(data["level"]),
            awarded_on=data["awarded_on"],
            valid_until=data.get("valid_until"),
        )
        updated = cluster.award(label)
        repo.save_cluster(updated, cluster.version)
        repo.add_label(cluster.id, label)
        tx.emit(
            "registry.cluster.label_awarded",
            subject=cluster.id,
            data={
                "cluster_id": cluster.id,
                "cluster_name": cluster.name,
                "label": label_data(label),
            },
        )
        return label


# -- members -------------------------------------------------------------------------
def add_member(uow: UnitOfWork, cluster_id: str, data: dict[str, Any]) -> Member:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        cluster = _cluster(repo, cluster_id)
        country = _known_country(data["country"]).code if data.get("country") else cluster.country
        member = Member(
            cluster_id=cluster.id,
            name=data["name"],
            size_class=SizeClass(data["size_class"]) if data.get("size_class") else None,
            sector=data.get("sector"),
            country=country,
            joined_on=data.get("joined_on") or date.today(),
        )
        repo.add_member(member)
        tx.emit("registry.member.joined", subject=member.id, data=member_data(member))
        return member


def remove_member(
    uow: UnitOfWork, cluster_id: str, member_id: str, left_on: date | None = None
) -> Member:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        member = repo.member(cluster_id, member_id)
        if member is None:
            raise NotFound(f"No member {member_id!r} in cluster {cluster_id!r}.")
        left = member.leave(left_on or date.today())
        repo.save_member(left)
        tx.emit(
            "registry.member.left",
            subject=member.id,
            data={
                "id": left.id,
                "cluster_id": left.cluster_id,
                "name": left.name,
                "left_on": left.left_on,
            },
        )
        return left


# -- people --------------------------------------------------------------------------
def register_person(uow: UnitOfWork, data: dict[str, Any]) -> Person:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        person = Person(
            name=data["name"],
            email=data["email"],
            language=Language(data["language"]),
            role=PersonRole(data.get("role") or PersonRole.OTHER),
            cluster_id=data.get("cluster_id"),
            country=data.get("country"),
            phone=data.get("phone"),
        )
        _check_unique_email(repo, person.email_key)
        person = _with_place(repo, person, {"cluster_id", "country"} & set(data))
        repo.add_person(person)
        tx.emit("registry.person.registered", subject=person.id, data=person_data(person))
        return person


def update_person(
    uow: UnitOfWork, person_id: str, changes: dict[str, Any], expected_version: int | None
) -> Person:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        person = _person(repo, person_id, expected_version)
        for name, kind in (("language", Language), ("role", PersonRole)):
            if name in changes:
                changes = {**changes, name: kind(changes[name])}
        updated, changed = person.changed(changes)
        if "email" in changed and updated.email_key != person.email_key:
            _check_unique_email(repo, updated.email_key)
        if {"cluster_id", "country"} & set(changed):
            placed = _with_place(repo, updated, {"cluster_id", "country"} & set(changes))
            if placed.country != updated.country:
                changed = sorted({*changed, "country"})
            updated = placed
        if changed:
            repo.save_person(updated, person.version)
            tx.emit(
                "registry.person.updated",
                subject=person.id,
                data={**person_data(updated), "changed": changed},
            )
        return updated


def remove_person(uow: UnitOfWork, person_id: str, expected_version: int | None) -> None:
    with uow.begin() as tx:
        repo = RegistryRepository(tx.session)
        person = _person(repo, person_id, expected_version)
        repo.remove_person(person)
        tx.emit("registry.person.removed", subject=person.id, data={"id": person.id})


# -- helpers -------------------------------------------------------------------------
def _cluster(
    repo: RegistryRepository, cluster_id: str, expected_version: int | None = None
) -> Cluster:
    cluster = repo.cluster(cluster_id)
    if cluster is None:
        raise NotFound(f"No cluster {cluster_id!r}.")
    if expected_version is not None and expected_version != cluster.version:
        raise PreconditionFailed("The cluster has changed since you read it; read it again.")
    return cluster


def _person(
    repo: RegistryRepository, person_id: str, expected_version: int | None = None
) -> Person:
    person = repo.person(person_id)
    if person is None:
        raise NotFound(f"No person {person_id!r}.")
    if expected_version is not None and expected_version != person.version:
        raise PreconditionFailed("The person has changed since you read it; read it again.")
    return person


def _known_country(code: str) -> Country:
    """Codes and regions are reference data (no query); policies live in the database."""
    country = iso_country(code)
    if country is None:
        raise InvalidInput(
            f"Unknown country {code!r}.",
            errors={"country": ["Not an ISO 3166-1 alpha-2 country code."]},
        )
    return country


def _check_unique_email(repo: RegistryRepository, email_key: str) -> None:
    if repo.person_with_email(email_key) is not None:
        raise Conflict(
            "A person with this email is already registered.",
            errors={"email": ["Already registered."]},
        )


def _with_place(repo: RegistryRepository, person: Person, given: set[str]) -> Person:
    """Check the cluster and country; a person's country defaults to their cluster's."""
    country = person.country
    if person.cluster_id is not None:
        cluster = repo.cluster(person.cluster_id)
        if cluster is None:
            raise InvalidInput(
                f"Unknown cluster {person.cluster_id!r}.",
                errors={"cluster_id": ["No such cluster."]},
            )
        if "country" not in given or country is None:
            country = cluster.country
    if country is not None:
        country = _known_country(country).code
    return replace(person, country=country)


def cluster_data(cluster: Cluster) -> dict[str, Any]:
    """The data of ``registry.cluster.registered`` (and ``updated``)."""
    return {
        "id": cluster.id,
        "name": cluster.name,
        "acronym": cluster.acronym,
        "country": cluster.country,
        "region": cluster.region.value,
        "city": cluster.city,
        "kind": cluster.kind.value,
        "sectors": list(cluster.sectors),
        "founded": cluster.founded,
        "website": cluster.website,
        "members_count": cluster.members_count,
        "status": cluster.status.value,
    }


def _status_data(cluster: Cluster, reason: str | None) -> dict[str, Any]:
    return {"id": cluster.id, "name": cluster.name, "country": cluster.country, "reason": reason}


def label_data(label: Label) -> dict[str, Any]:
    return {
        "id": label.id,
        "scheme": label.scheme,
        "level": label.level.value,
        "awarded_on": label.awarded_on,
        "valid_until": label.valid_until,
    }


def member_data(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "cluster_id": member.cluster_id,
        "name": member.name,
        "size_class": member.size_class.value if member.size_class else None,
        "sector": member.sector,
        "country": member.country,
        "joined_on": member.joined_on,
    }


def person_data(person: Person) -> dict[str, Any]:
    """The data of ``registry.person.registered``: what read copies need."""
    return {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "language": person.language.value,
        "cluster_id": person.cluster_id,
        "country": person.country,
        "role": person.role.value,
        "phone": person.phone,
    }
