"""What the registry's use cases need from storage: its repositories, as ports.

Each port is one collection: :class:`Countries`, :class:`Clusters` (with their labels
and sectors), :class:`Members` and :class:`People`. A use case reaches them on the
open unit of work (``tx.clusters``...), declared by :class:`RegistryTx`. Two
implementations: SQL (``adapters/repository.py``) and in memory, for unit tests
(``adapters/memory.py``); ``tests/integration/registry/test_repository_contract.py``
holds them to the same behaviour.

Lists are keyset pages: ``limit`` entities in the list's order, strictly after
``after`` (the order key of the last entity of the previous page, or None).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.registry.domain.countries import Country, PolicyContext
from services.registry.domain.model import (
    Cluster,
    ClusterStatus,
    Label,
    LabelLevel,
    Language,
    Member,
    Person,
    PersonRole,
    Region,
)
from shared.uow import Transaction, UnitOfWork

Cursor = Sequence[Any] | None
"""The order key of the last entity of the previous page; None for the first page."""


@dataclass(frozen=True)
class ClusterQuery:
    """Filters of the cluster list (every one given must hold)."""

    country: str | None = None
    region: Region | None = None
    sector: str | None = None
    """One of the cluster's sectors, case-insensitively."""
    label: LabelLevel | None = None
    """A label of this level that is current today."""
    status: ClusterStatus | None = None
    q: str | None = None
    """In the name or acronym (see :func:`search_text`)."""


@dataclass(frozen=True)
class PersonQuery:
    """Filters of the people list (every one given must hold)."""

    cluster_id: str | None = None
    role: PersonRole | None = None
    language: Language | None = None
    q: str | None = None
    """In the name or email (see :func:`search_text`)."""


def search_text(*parts: str | None) -> str:
    """What ``q`` searches: case-folded in Python, so SQLite and PostgreSQL agree on
    every alphabet (SQLite's LIKE folds only ASCII)."""
    return " ".join(" ".join(part.split()).casefold() for part in parts if part)


class Countries(ABC):
    """Every ISO 3166-1 country, with the programme's policy context."""

    @abstractmethod
    def get(self, code: str) -> Country | None:
        """The country with ``code`` (upper case)."""

    @abstractmethod
    def find(
        self, region: Region | None, programme: bool | None, limit: int, after: Cursor
    ) -> list[Country]:
        """Countries by code; ``after`` holds one code."""

    @abstractmethod
    def save_policy(self, code: str, policy: PolicyContext | None) -> None:
        """Replace the country's policy context (None, or an empty summary: none)."""


class Clusters(ABC):
    """Clusters (soft-deleted ones are gone for every read), their labels and sectors."""

    @abstractmethod
    def get(self, cluster_id: str) -> Cluster | None:
        """The cluster, unless unknown or removed."""

    @abstractmethod
    def add(self, cluster: Cluster) -> None:
        """Store a new cluster and its sectors."""

    @abstractmethod
    def save(self, cluster: Cluster, previous_version: int) -> None:
        """Store a new version, its sectors included; raise ``PreconditionFailed`` if
        the stored version is no longer ``previous_version`` (someone got there first)."""

    @abstractmethod
    def remove(self, cluster: Cluster) -> None:
        """Soft delete (one version more); ``PreconditionFailed`` if ``cluster`` is stale."""

    @abstractmethod
    def add_label(self, cluster_id: str, label: Label) -> None:
        """Record an awarded label, for the ``label`` filter."""

    @abstractmethod
    def find(self, query: ClusterQuery, limit: int, after: Cursor) -> list[Cluster]:
        """Clusters in (name, id) order that match ``query``; ``after`` is (name, id)."""


class Members(ABC):
    """Members of clusters; one who left stays, with ``left_on``."""

    @abstractmethod
    def get(self, cluster_id: str, member_id: str) -> Member | None:
        """The member, if it belongs to that cluster."""

    @abstractmethod
    def add(self, member: Member) -> None:
        """Store a new member."""

    @abstractmethod
    def save(self, member: Member) -> None:
        """Store the member's ``left_on`` (the one thing that changes)."""

    @abstractmethod
    def find(self, cluster_id: str, current_only: bool, limit: int, after: Cursor) -> list[Member]:
        """The cluster's members in (name, id) order; ``current_only``: not left."""


class People(ABC):
    """People (soft-deleted ones are gone for every read, and free their email)."""

    @abstractmethod
    def get(self, person_id: str) -> Person | None:
        """The person, unless unknown or removed."""

    @abstractmethod
    def with_email(self, email_key: str) -> Person | None:
        """The person whose ``email_key`` this is, unless removed."""

    @abstractmethod
    def add(self, person: Person) -> None:
        """Store a new person."""

    @abstractmethod
    def save(self, person: Person, previous_version: int) -> None:
        """Store a new version; ``PreconditionFailed`` if the stored version is no
        longer ``previous_version``."""

    @abstractmethod
    def remove(self, person: Person) -> None:
        """Soft delete (one version more); ``PreconditionFailed`` if ``person`` is stale."""

    @abstractmethod
    def find(self, query: PersonQuery, limit: int, after: Cursor) -> list[Person]:
        """People in (name, id) order that match ``query``; ``after`` is (name, id)."""


class RegistryTx(Transaction):
    """One unit of work of the registry: its repositories, and ``emit``."""

    countries: Countries
    clusters: Clusters
    members: Members
    people: People


RegistryUnitOfWork = UnitOfWork[RegistryTx]
"""What the registry's use cases are given (SQL in the service, in memory in tests)."""
