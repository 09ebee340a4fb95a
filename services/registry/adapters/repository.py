"""The registry's repositories on its database (SQLAlchemy Core), and its SQL transaction.

One class per port of ``domain/ports.py``, each over the session of one transaction;
:class:`SqlRegistryTx` builds them (``service.py`` hands it to the unit of work).
``search_text`` and the query objects are re-exported for the benchmarks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, delete, exists, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from services.registry.adapters.tables import (
    cluster_labels,
    cluster_sectors,
    clusters,
    countries,
    members,
    people,
)
from services.registry.domain.countries import Country, PolicyContext
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
    Region,
    SizeClass,
)
from services.registry.domain.ports import (
    ClusterQuery,
    Clusters,
    Countries,
    Cursor,
    Members,
    People,
    PersonQuery,
    RegistryTx,
    search_text,
)
from shared.db import utc
from shared.errors import PreconditionFailed
from shared.events.catalogue import Catalogue
from shared.outbox import Outbox
from shared.sql_uow import SqlTransaction

__all__ = [
    "ClusterQuery",
    "PersonQuery",
    "SqlClusters",
    "SqlCountries",
    "SqlMembers",
    "SqlPeople",
    "SqlRegistryTx",
    "search_text",
]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _after(columns: Sequence[Any], cursor: Sequence[Any] | None) -> Any:
    return tuple_(*columns) > tuple_(*cursor) if cursor else None


class SqlCountries(Countries):
    """Countries: reference rows loaded by the migration; only policies change."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> Country | None:
        row = self.session.execute(select(countries).where(countries.c.code == code)).first()
        return _country(row) if row else None

    def find(
        self, region: Region | None, programme: bool | None, limit: int, after: Cursor
    ) -> list[Country]:
        query = select(countries).order_by(countries.c.code).limit(limit)
        if region:
            query = query.where(countries.c.region == region)
        if programme is not None:
            query = query.where(countries.c.programme == programme)
        if after:
            query = query.where(countries.c.code > after[0])
        return [_country(row) for row in self.session.execute(query)]

    def save_policy(self, code: str, policy: PolicyContext | None) -> None:
        self.session.execute(
            update(countries)
            .where(countries.c.code == code)
            .values(
                policy_summary=policy.summary if policy else None,
                policy_facts=json.dumps(list(policy.facts) if policy else []),
            )
        )


class SqlClusters(Clusters):
    """Clusters (labels and sectors as JSON in the row, and in their own tables for
    the list's filters)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, cluster_id: str) -> Cluster | None:
        row = self.session.execute(
            select(clusters).where(clusters.c.id == cluster_id, clusters.c.deleted_at.is_(None))
        ).first()
        return _cluster(row) if row else None

    def add(self, cluster: Cluster) -> None:
        self.session.execute(insert(clusters), _cluster_values(cluster))
        self._save_sectors(cluster, new=True)

    def save(self, cluster: Cluster, previous_version: int) -> None:
        """Write a new version; a concurrent writer who got there first means 412."""
        values = _cluster_values(cluster)
        values.pop("id")
        values.pop("created_at")
        result = self.session.execute(
            update(clusters)
            .where(clusters.c.id == cluster.id, clusters.c.version == previous_version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise PreconditionFailed("The cluster was changed by someone else; read it again.")
        self._save_sectors(cluster)

    def remove(self, cluster: Cluster) -> None:
        result = self.session.execute(
            update(clusters)
            .where(clusters.c.id == cluster.id, clusters.c.version == cluster.version)
            .values(deleted_at=datetime.now(UTC), version=cluster.version + 1)
        )
        if result.rowcount != 1:
            raise PreconditionFailed("The cluster was changed by someone else; read it again.")

    def add_label(self, cluster_id: str, label: Label) -> None:
        self.session.execute(
            insert(cluster_labels),
            {
                "id": label.id,
                "cluster_id": cluster_id,
                "scheme": label.scheme,
                "level": label.level.value,
                "awarded_on": label.awarded_on,
                "valid_until": label.valid_until,
            },
        )

    def _save_sectors(self, cluster: Cluster, new: bool = False) -> None:
        if not new:
            self.session.execute(
                delete(cluster_sectors).where(cluster_sectors.c.cluster_id == cluster.id)
            )
        keys = sorted({sector.casefold()[:80] for sector in cluster.sectors})
        if keys:
            self.session.execute(
                insert(cluster_sectors),
                [{"cluster_id": cluster.id, "sector_key": key} for key in keys],
            )

    def find(self, query: ClusterQuery, limit: int, after: Cursor) -> list[Cluster]:
        """Clusters in (name, id) order, after the cursor, ``limit`` of them."""
        statement = (
            select(clusters)
            .where(clusters.c.deleted_at.is_(None))
            .order_by(clusters.c.name, clusters.c.id)
            .limit(limit)
        )
        if query.country:
            statement = statement.where(clusters.c.country == query.country)
        if query.region:
            statement = statement.where(clusters.c.region == query.region)
        if query.status:
            statement = statement.where(clusters.c.status == query.status)
        if query.sector:
            statement = statement.where(
                exists().where(
                    cluster_sectors.c.cluster_id == clusters.c.id,
                    cluster_sectors.c.sector_key == query.sector.casefold(),
                )
            )
        if query.label:
            today = date.today()
            statement = statement.where(
                exists().where(
                    cluster_labels.c.cluster_id == clusters.c.id,
                    cluster_labels.c.level == query.label,
                    cluster_labels.c.awarded_on <= today,
                    or_(
                        cluster_labels.c.valid_until.is_(None),
                        cluster_labels.c.valid_until >= today,
                    ),
                )
            )
        if query.q:
            statement = statement.where(
                clusters.c.search_text.like(_like(search_text(query.q)), escape="\\")
            )
        if (condition := _after((clusters.c.name, clusters.c.id), after)) is not None:
            statement = statement.where(condition)
        return [_cluster(row) for row in self.session.execute(statement)]


class SqlMembers(Members):
    """Members of clusters."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, cluster_id: str, member_id: str) -> Member | None:
        row = self.session.execute(
            select(members).where(members.c.id == member_id, members.c.cluster_id == cluster_id)
        ).first()
        return _member(row) if row else None

    def add(self, member: Member) -> None:
        self.session.execute(insert(members), _member_values(member))

    def save(self, member: Member) -> None:
        self.session.execute(
            update(members).where(members.c.id == member.id).values(left_on=member.left_on)
        )

    def find(self, cluster_id: str, current_only: bool, limit: int, after: Cursor) -> list[Member]:
        statement = (
            select(members)
            .where(members.c.cluster_id == cluster_id)
            .order_by(members.c.name, members.c.id)
            .limit(limit)
        )
        if current_only:
            statement = statement.where(members.c.left_on.is_(None))
        if (condition := _after((members.c.name, members.c.id), after)) is not None:
            statement = statement.where(condition)
        return [_member(row) for row in self.session.execute(statement)]


class SqlPeople(People):
    """People; a removed person's row stays for history, with ``deleted_at``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, person_id: str) -> Person | None:
        row = self.session.execute(
            select(people).where(people.c.id == person_id, people.c.deleted_at.is_(None))
        ).first()
        return _person(row) if row else None

    def with_email(self, email_key: str) -> Person | None:
        row = self.session.execute(
            select(people).where(people.c.email_key == email_key, people.c.deleted_at.is_(None))
        ).first()
        return _person(row) if row else None

    def add(self, person: Person) -> None:
        self.session.execute(insert(people), _person_values(person))

    def save(self, person: Person, previous_version: int) -> None:
        values = _person_values(person)
        values.pop("id")
        values.pop("created_at")
        result = self.session.execute(
            update(people)
            .where(people.c.id == person.id, people.c.version == previous_version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise PreconditionFailed("The person was changed by someone else; read it again.")

    def remove(self, person: Person) -> None:
        """Soft delete: the row stays for history, its email may be registered again."""
        result = self.session.execute(
            update(people)
            .where(people.c.id == person.id, people.c.version == person.version)
            .values(deleted_at=datetime.now(UTC), version=person.version + 1)
        )
        if result.rowcount != 1:
            raise PreconditionFailed("The person was changed by someone else; read it again.")

    def find(self, query: PersonQuery, limit: int, after: Cursor) -> list[Person]:
        statement = (
            select(people)
            .where(people.c.deleted_at.is_(None))
            .order_by(people.c.name, people.c.id)
            .limit(limit)
        )
        if query.cluster_id:
            statement = statement.where(people.c.cluster_id == query.cluster_id)
        if query.role:
            statement = statement.where(people.c.role == query.role)
        if query.language:
            statement = statement.where(people.c.language == query.language)
        if query.q:
            statement = statement.where(
                people.c.search_text.like(_like(search_text(query.q)), escape="\\")
            )
        if (condition := _after((people.c.name, people.c.id), after)) is not None:
            statement = statement.where(condition)
        return [_person(row) for row in self.session.execute(statement)]


class SqlRegistryTx(SqlTransaction, RegistryTx):
    """A registry transaction on the database: its repositories share its session."""

    def __init__(self, session: Session, outbox: Outbox | None, catalogue: Catalogue) -> None:
        super().__init__(session, outbox, catalogue)
        self.countries = SqlCountries(session)
        self.clusters = SqlClusters(session)
        self.members = SqlMembers(session)
        self.people = SqlPeople(session)


def _country(row: Row[Any]) -> Country:
    facts = tuple(json.loads(row.policy_facts or "[]"))
    policy = PolicyContext(row.policy_summary, facts) if row.policy_summary else None
    return Country(
        code=row.code,
        name_en=row.name_en,
        name_fr=row.name_fr,
        name_ar=row.name_ar,
        region=Region(row.region),
        programme=row.programme,
        policy=policy,
    )


def _label(data: dict[str, Any]) -> Label:
    return Label(
        id=data["id"],
        scheme=data["scheme"],
        level=LabelLevel(data["level"]),
        awarded_on=date.fromisoformat(data["awarded_on"]),
        valid_until=date.fromisoformat(data["valid_until"]) if data["valid_until"] else None,
    )


def _label_values(label: Label) -> dict[str, Any]:
    return {
        "id": label.id,
        "scheme": label.scheme,
        "level": label.level.value,
        "awarded_on": label.awarded_on.isoformat(),
        "valid_until": label.valid_until.isoformat() if label.valid_until else None,
    }


def _cluster(row: Row[Any]) -> Cluster:
    return Cluster(
        id=row.id,
        name=row.name,
        acronym=row.acronym,
        country=row.country,
        region=Region(row.region),
        city=row.city,
        kind=ClusterKind(row.kind),
        sectors=tuple(json.loads(row.sectors)),
        founded=row.founded,
        website=row.website,
        description=row.description,
        members_count=row.members_count,
        status=ClusterStatus(row.status),
        labels=tuple(_label(label) for label in json.loads(row.labels)),
        version=row.version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _cluster_values(cluster: Cluster) -> dict[str, Any]:
    return {
        "id": cluster.id,
        "name": cluster.name,
        "acronym": cluster.acronym,
        "country": cluster.country,
        "region": cluster.region.value,
        "city": cluster.city,
        "kind": cluster.kind.value,
        "sectors": json.dumps(list(cluster.sectors), ensure_ascii=False),
        "labels": json.dumps(
            [_label_values(label) for label in cluster.labels], ensure_ascii=False
        ),
        "founded": cluster.founded,
        "website": cluster.website,
        "description": cluster.description,
        "members_count": cluster.members_count,
        "search_text": search_text(cluster.name, cluster.acronym),
        "status": cluster.status.value,
        "version": cluster.version,
        "created_at": cluster.created_at,
        "updated_at": cluster.updated_at,
    }


def _member(row: Row[Any]) -> Member:
    return Member(
        id=row.id,
        cluster_id=row.cluster_id,
        name=row.name,
        size_class=SizeClass(row.size_class) if row.size_class else None,
        sector=row.sector,
        country=row.country,
        joined_on=row.joined_on,
        left_on=row.left_on,
    )


def _member_values(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "cluster_id": member.cluster_id,
        "name": member.name,
        "size_class": member.size_class.value if member.size_class else None,
        "sector": member.sector,
        "country": member.country,
        "joined_on": member.joined_on,
        "left_on": member.left_on,
    }


def _person(row: Row[Any]) -> Person:
    return Person(
        id=row.id,
        name=row.name,
        email=row.email,
        language=Language(row.language),
        role=PersonRole(row.role),
        cluster_id=row.cluster_id,
        country=row.country,
        phone=row.phone,
        version=row.version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _person_values(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "email_key": person.email_key,
        "language": person.language.value,
        "role": person.role.value,
        "cluster_id": person.cluster_id,
        "country": person.country,
        "phone": person.phone,
        "search_text": search_text(person.name, person.email),
        "version": person.version,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
    }
