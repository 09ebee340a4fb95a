"""What the registry does: each use case is one unit of work with the events it causes.

Views, the seed and the benchmarks call these; they know nothing of HTTP nor of the
database. A write takes a command (``domain/commands.py``), loads through the
repositories of the unit of work (``tx.clusters``...), lets the domain model decide,
writes, and emits the integration events, committed with the change or not at all.
Reads take plain parameters or a query object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from services.registry.domain.commands import (
    AddMember,
    AwardLabel,
    DeactivateCluster,
    ReactivateCluster,
    RegisterCluster,
    RegisterPerson,
    RemoveCluster,
    RemoveMember,
    RemovePerson,
    UpdateCluster,
    UpdateCountryPolicy,
    UpdatePerson,
)
from services.registry.domain.countries import Country, iso_country
from services.registry.domain.model import (
    Cluster,
    ClusterKind,
    ClusterStatus,
    Label,
    Language,
    Member,
    Person,
    PersonRole,
    Region,
    normalise_sectors,
)
from services.registry.domain.ports import (
    ClusterQuery,
    Cursor,
    PersonQuery,
    RegistryTx,
    RegistryUnitOfWork,
)
from shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed


# -- reads ---------------------------------------------------------------------------
def get_country(uow: RegistryUnitOfWork, code: str) -> Country:
    with uow.read() as tx:
        country = tx.countries.get(code.upper())
    if country is None:
        raise NotFound(f"No country with code {code!r}.")
    return country


def list_countries(
    uow: RegistryUnitOfWork,
    region: Region | None,
    programme: bool | None,
    limit: int,
    after: Cursor,
) -> list[Country]:
    with uow.read() as tx:
        return tx.countries.find(region, programme, limit, after)


def get_cluster(uow: RegistryUnitOfWork, cluster_id: str) -> Cluster:
    with uow.read() as tx:
        return _cluster(tx, cluster_id)


def list_clusters(
    uow: RegistryUnitOfWork, query: ClusterQuery, limit: int, after: Cursor
) -> list[Cluster]:
    with uow.read() as tx:
        return tx.clusters.find(query, limit, after)


def list_members(
    uow: RegistryUnitOfWork, cluster_id: str, current_only: bool, limit: int, after: Cursor
) -> list[Member]:
    with uow.read() as tx:
        _cluster(tx, cluster_id)
        return tx.members.find(cluster_id, current_only, limit, after)


def get_person(uow: RegistryUnitOfWork, person_id: str) -> Person:
    with uow.read() as tx:
        return _person(tx, person_id)


def list_people(
    uow: RegistryUnitOfWork, query: PersonQuery, limit: int, after: Cursor
) -> list[Person]:
    with uow.read() as tx:
        return tx.people.find(query, limit, after)


# -- countries -----------------------------------------------------------------------
def update_country_policy(uow: RegistryUnitOfWork, command: UpdateCountryPolicy) -> Country:
    code = command.code.upper()
    with uow.begin() as tx:
        if tx.countries.get(code) is None:
            raise NotFound(f"No country with code {command.code!r}.")
        tx.countries.save_policy(code, command.policy)
        return tx.countries.get(code)  # type: ignore[return-value]


# -- clusters ------------------------------------------------------------------------
def register_cluster(uow: RegistryUnitOfWork, command: RegisterCluster) -> Cluster:
    with uow.begin() as tx:
        country = _known_country(command.country)
        cluster = Cluster(
            name=command.name,
            country=country.code,
            region=country.region,
            kind=command.kind,
            acronym=command.acronym,
            city=command.city,
            sectors=normalise_sectors(command.sectors),
            founded=command.founded,
            website=command.website,
            description=command.description,
            members_count=command.members_count,
        )
        tx.clusters.add(cluster)
        tx.emit("registry.cluster.registered", subject=cluster.id, data=cluster_data(cluster))
        return cluster


def update_cluster(uow: RegistryUnitOfWork, command: UpdateCluster) -> Cluster:
    with uow.begin() as tx:
        cluster = _cluster(tx, command.cluster_id, command.expected_version)
        changes = dict(command.changes)
        region = None
        if "kind" in changes:
            changes["kind"] = ClusterKind(changes["kind"])
        if "country" in changes:
            country = _known_country(changes["country"])
            changes["country"] = country.code
            region = country.region
        updated, changed = cluster.changed(changes, region)
        if changed:
            tx.clusters.save(updated, cluster.version)
            tx.emit(
                "registry.cluster.updated",
                subject=cluster.id,
                data={**cluster_data(updated), "changed": changed},
            )
        return updated


def deactivate_cluster(uow: RegistryUnitOfWork, command: DeactivateCluster) -> Cluster:
    return _change_status(uow, command, Cluster.deactivate)


def reactivate_cluster(uow: RegistryUnitOfWork, command: ReactivateCluster) -> Cluster:
    return _change_status(uow, command, Cluster.reactivate)


def _change_status(
    uow: RegistryUnitOfWork,
    command: DeactivateCluster | ReactivateCluster,
    transition: Callable[[Cluster], Cluster],
) -> Cluster:
    """Deactivate or reactivate: ``registry.cluster.deactivated`` / ``.reactivated``."""
    with uow.begin() as tx:
        cluster = _cluster(tx, command.cluster_id, command.expected_version)
        updated = transition(cluster)
        tx.clusters.save(updated, cluster.version)
        tx.emit(
            "registry.cluster.deactivated"
            if updated.status is ClusterStatus.INACTIVE
            else "registry.cluster.reactivated",
            subject=cluster.id,
            data=_status_data(updated, command.reason),
        )
        return updated


def remove_cluster(uow: RegistryUnitOfWork, command: RemoveCluster) -> None:
    with uow.begin() as tx:
        cluster = _cluster(tx, command.cluster_id, command.expected_version)
        tx.clusters.remove(cluster)
        tx.emit(
            "registry.cluster.removed",
            subject=cluster.id,
            data={"id": cluster.id, "name": cluster.name},
        )


def award_label(uow: RegistryUnitOfWork, command: AwardLabel) -> Label:
    with uow.begin() as tx:
        cluster = _cluster(tx, command.cluster_id)
        label = Label(
            scheme=" ".join(command.scheme.split()),
            level=command.level,
            awarded_on=command.awarded_on,
            valid_until=command.valid_until,
        )
        updated = cluster.award(label)
        tx.clusters.save(updated, cluster.version)
        tx.clusters.add_label(cluster.id, label)
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
def add_member(uow: RegistryUnitOfWork, command: AddMember) -> Member:
    with uow.begin() as tx:
        cluster = _cluster(tx, command.cluster_id)
        country = _known_country(command.country).code if command.country else cluster.country
        member = Member(
            cluster_id=cluster.id,
            name=command.name,
            size_class=command.size_class,
            sector=command.sector,
            country=country,
            joined_on=command.joined_on or date.today(),
        )
        tx.members.add(member)
        tx.emit("registry.member.joined", subject=member.id, data=member_data(member))
        return member


def remove_member(uow: RegistryUnitOfWork, command: RemoveMember) -> Member:
    with uow.begin() as tx:
        member = tx.members.get(command.cluster_id, command.member_id)
        if member is None:
            raise NotFound(f"No member {command.member_id!r} in cluster {command.cluster_id!r}.")
        left = member.leave(command.left_on or date.today())
        tx.members.save(left)
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
def register_person(uow: RegistryUnitOfWork, command: RegisterPerson) -> Person:
    with uow.begin() as tx:
        person = Person(
            name=command.name,
            email=command.email,
            language=command.language,
            role=command.role,
            cluster_id=command.cluster_id,
            country=command.country,
            phone=command.phone,
        )
        _check_unique_email(tx, person.email_key)
        person = _with_place(tx, person, {"cluster_id", "country"})
        tx.people.add(person)
        tx.emit("registry.person.registered", subject=person.id, data=person_data(person))
        return person


def update_person(uow: RegistryUnitOfWork, command: UpdatePerson) -> Person:
    with uow.begin() as tx:
        person = _person(tx, command.person_id, command.expected_version)
        changes = dict(command.changes)
        for name, kind in (("language", Language), ("role", PersonRole)):
            if name in changes:
                changes[name] = kind(changes[name])
        updated, changed = person.changed(changes)
        if "email" in changed and updated.email_key != person.email_key:
            _check_unique_email(tx, updated.email_key)
        if {"cluster_id", "country"} & set(changed):
            placed = _with_place(tx, updated, {"cluster_id", "country"} & set(changes))
            if placed.country != updated.country:
                changed = sorted({*changed, "country"})
            updated = placed
        if changed:
            tx.people.save(updated, person.version)
            tx.emit(
                "registry.person.updated",
                subject=person.id,
                data={**person_data(updated), "changed": changed},
            )
        return updated


def remove_person(uow: RegistryUnitOfWork, command: RemovePerson) -> None:
    with uow.begin() as tx:
        person = _person(tx, command.person_id, command.expected_version)
        tx.people.remove(person)
        tx.emit("registry.person.removed", subject=person.id, data={"id": person.id})


# -- helpers -------------------------------------------------------------------------
def _cluster(tx: RegistryTx, cluster_id: str, expected_version: int | None = None) -> Cluster:
    cluster = tx.clusters.get(cluster_id)
    if cluster is None:
        raise NotFound(f"No cluster {cluster_id!r}.")
    if expected_version is not None and expected_version != cluster.version:
        raise PreconditionFailed("The cluster has changed since you read it; read it again.")
    return cluster


def _person(tx: RegistryTx, person_id: str, expected_version: int | None = None) -> Person:
    person = tx.people.get(person_id)
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


def _check_unique_email(tx: RegistryTx, email_key: str) -> None:
    if tx.people.with_email(email_key) is not None:
        raise Conflict(
            "A person with this email is already registered.",
            errors={"email": ["Already registered."]},
        )


def _with_place(tx: RegistryTx, person: Person, given: set[str]) -> Person:
    """Check the cluster and country; a person's country defaults to their cluster's
    (and follows a new cluster's, unless ``given`` names the country too)."""
    country = person.country
    if person.cluster_id is not None:
        cluster = tx.clusters.get(person.cluster_id)
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
        "description": cluster.description,
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
