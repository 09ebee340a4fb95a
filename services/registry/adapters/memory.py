"""The registry's repositories in memory: fakes for unit tests of its use cases.

Each fake keeps frozen domain objects in dicts and answers as the SQL repository does:
the same filters, (name, id) orders and keyset cursors, versions checked on save
(``PreconditionFailed``), soft deletes that hide an entity from every read.
``tests/integration/registry/test_repository_contract.py`` runs one scenario on both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from services.registry.domain.countries import Country, PolicyContext, all_countries
from services.registry.domain.model import Cluster, Label, Member, Person, Region
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
from shared.errors import PreconditionFailed
from shared.events.catalogue import Catalogue
from shared.fake_uow import FakeTransaction, FakeUnitOfWork


def _after(key: tuple[str, ...], cursor: Cursor) -> bool:
    return not cursor or key > tuple(cursor)


class FakeCountries(Countries):
    """Every ISO 3166-1 country, as the migration loads them."""

    def __init__(self) -> None:
        self.rows: dict[str, Country] = {country.code: country for country in all_countries()}

    def get(self, code: str) -> Country | None:
        return self.rows.get(code)

    def find(
        self, region: Region | None, programme: bool | None, limit: int, after: Cursor
    ) -> list[Country]:
        found = [
            country
            for code, country in sorted(self.rows.items())
            if (not region or country.region == region)
            and (programme is None or country.programme == programme)
            and (not after or code > after[0])
        ]
        return found[:limit]

    def save_policy(self, code: str, policy: PolicyContext | None) -> None:
        if code not in self.rows:
            return
        if policy is not None and policy.summary:
            policy = PolicyContext(policy.summary, tuple(policy.facts))
        else:
            policy = None  # as read back from the table: no summary, no policy
        self.rows[code] = replace(self.rows[code], policy=policy)


class FakeClusters(Clusters):
    """Clusters by id; a removed one stays in ``rows``, its id in ``removed``."""

    def __init__(self) -> None:
        self.rows: dict[str, Cluster] = {}
        self.removed: dict[str, datetime] = {}
        self.labels: dict[str, list[Label]] = {}
        """Awarded labels by cluster id: what the ``label`` filter looks at."""

    def get(self, cluster_id: str) -> Cluster | None:
        return None if cluster_id in self.removed else self.rows.get(cluster_id)

    def add(self, cluster: Cluster) -> None:
        if cluster.id in self.rows:
            raise ValueError(f"duplicate cluster id {cluster.id}")
        self.rows[cluster.id] = cluster

    def save(self, cluster: Cluster, previous_version: int) -> None:
        stored = self.rows.get(cluster.id)
        if stored is None or stored.version != previous_version:
            raise PreconditionFailed("The cluster was changed by someone else; read it again.")
        self.rows[cluster.id] = replace(cluster, created_at=stored.created_at)

    def remove(self, cluster: Cluster) -> None:
        stored = self.rows.get(cluster.id)
        if stored is None or stored.version != cluster.version:
            raise PreconditionFailed("The cluster was changed by someone else; read it again.")
        self.rows[cluster.id] = replace(stored, version=stored.version + 1)
        self.removed[cluster.id] = datetime.now(UTC)

    def add_label(self, cluster_id: str, label: Label) -> None:
        self.labels.setdefault(cluster_id, []).append(label)

    def find(self, query: ClusterQuery, limit: int, after: Cursor) -> list[Cluster]:
        today = date.today()
        sector = query.sector.casefold() if query.sector else None
        q = search_text(query.q) if query.q else None
        found = []
        for cluster in sorted(self.rows.values(), key=lambda c: (c.name, c.id)):
            if (
                cluster.id in self.removed
                or (query.country and cluster.country != query.country)
                or (query.region and cluster.region != query.region)
                or (query.status and cluster.status != query.status)
                or (sector and sector not in {s.casefold()[:80] for s in cluster.sectors})
                or (
                    query.label
                    and not any(
                        label.level == query.label and label.is_current(today)
                        for label in self.labels.get(cluster.id, ())
                    )
                )
                or (q and q not in search_text(cluster.name, cluster.acronym))
                or not _after((cluster.name, cluster.id), after)
            ):
                continue
            found.append(cluster)
            if len(found) == limit:
                break
        return found


class FakeMembers(Members):
    """Members by id."""

    def __init__(self) -> None:
        self.rows: dict[str, Member] = {}

    def get(self, cluster_id: str, member_id: str) -> Member | None:
        member = self.rows.get(member_id)
        return member if member is not None and member.cluster_id == cluster_id else None

    def add(self, member: Member) -> None:
        if member.id in self.rows:
            raise ValueError(f"duplicate member id {member.id}")
        self.rows[member.id] = member

    def save(self, member: Member) -> None:
        if member.id in self.rows:
            self.rows[member.id] = replace(self.rows[member.id], left_on=member.left_on)

    def find(self, cluster_id: str, current_only: bool, limit: int, after: Cursor) -> list[Member]:
        found = [
            member
            for member in sorted(self.rows.values(), key=lambda m: (m.name, m.id))
            if member.cluster_id == cluster_id
            and (not current_only or member.left_on is None)
            and _after((member.name, member.id), after)
        ]
        return found[:limit]


class FakePeople(People):
    """People by id; a removed one stays in ``rows``, its id in ``removed``."""

    def __init__(self) -> None:
        self.rows: dict[str, Person] = {}
        self.removed: dict[str, datetime] = {}

    def get(self, person_id: str) -> Person | None:
        return None if person_id in self.removed else self.rows.get(person_id)

    def with_email(self, email_key: str) -> Person | None:
        return next(
            (
                person
                for person in self.rows.values()
                if person.email_key == email_key and person.id not in self.removed
            ),
            None,
        )

    def add(self, person: Person) -> None:
        if person.id in self.rows:
            raise ValueError(f"duplicate person id {person.id}")
        if self.with_email(person.email_key) is not None:
            raise ValueError(f"duplicate email {person.email_key}")  # the unique index
        self.rows[person.id] = person

    def save(self, person: Person, previous_version: int) -> None:
        stored = self.rows.get(person.id)
        if stored is None or stored.version != previous_version:
            raise PreconditionFailed("The person was changed by someone else; read it again.")
        self.rows[person.id] = replace(person, created_at=stored.created_at)

    def remove(self, person: Person) -> None:
        stored = self.rows.get(person.id)
        if stored is None or stored.version != person.version:
            raise PreconditionFailed("The person was changed by someone else; read it again.")
        self.rows[person.id] = replace(stored, version=stored.version + 1)
        self.removed[person.id] = datetime.now(UTC)

    def find(self, query: PersonQuery, limit: int, after: Cursor) -> list[Person]:
        q = search_text(query.q) if query.q else None
        found = [
            person
            for person in sorted(self.rows.values(), key=lambda p: (p.name, p.id))
            if person.id not in self.removed
            and (not query.cluster_id or person.cluster_id == query.cluster_id)
            and (not query.role or person.role == query.role)
            and (not query.language or person.language == query.language)
            and (not q or q in search_text(person.name, person.email))
            and _after((person.name, person.id), after)
        ]
        return found[:limit]


class FakeRegistryTx(FakeTransaction, RegistryTx):
    """A registry transaction in memory: the fakes, and events staged for the commit."""

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__(catalogue)
        self.countries: FakeCountries = FakeCountries()
        self.clusters: FakeClusters = FakeClusters()
        self.members: FakeMembers = FakeMembers()
        self.people: FakePeople = FakePeople()


def fake_uow(catalogue: Catalogue) -> FakeUnitOfWork[FakeRegistryTx]:
    """An empty registry (countries loaded) in memory, validating events on ``catalogue``."""
    return FakeUnitOfWork(FakeRegistryTx(catalogue))
