"""Entities of the registry and the rules that govern their changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from shared.errors import InvalidInput, InvalidTransition


class ClusterKind(StrEnum):
    CLUSTER = "cluster"
    TECHNOPOLE = "technopole"
    COMPETITIVENESS_POLE = "competitiveness_pole"
    ASSOCIATION = "association"


class ClusterStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class LabelLevel(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


class Language(StrEnum):
    EN = "en"
    FR = "fr"
    AR = "ar"


class PersonRole(StrEnum):
    CLUSTER_MANAGER = "cluster_manager"
    GOVERNANCE_TEAM = "governance_team"
    EXPERT = "expert"
    OTHER = "other"


class SizeClass(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class Region(StrEnum):
    MENA = "mena"
    EU = "eu"
    OTHER = "other"


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Label:
    """A label awarded to a cluster (e.g. ESCA Cluster Management Excellence, gold)."""

    scheme: str
    level: LabelLevel
    awarded_on: date
    valid_until: date | None = None
    id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        if self.valid_until is not None and self.valid_until <= self.awarded_on:
            raise InvalidInput(
                "A label must be valid after the day it is awarded.",
                errors={"valid_until": ["Must be after awarded_on."]},
            )

    def is_current(self, today: date) -> bool:
        return self.awarded_on <= today and (self.valid_until is None or today <= self.valid_until)


@dataclass(frozen=True)
class Cluster:
    """A cluster, technopole, competitiveness pole or association."""

    name: str
    country: str
    region: Region
    kind: ClusterKind
    acronym: str | None = None
    city: str | None = None
    sectors: tuple[str, ...] = ()
    founded: int | None = None
    website: str | None = None
    description: str | None = None
    members_count: int | None = None
    status: ClusterStatus = ClusterStatus.ACTIVE
    labels: tuple[Label, ...] = ()
    id: str = field(default_factory=new_id)
    version: int = 1
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    EDITABLE = (
        "name",
        "country",
        "kind",
        "acronym",
        "city",
        "sectors",
        "founded",
        "website",
        "description",
        "members_count",
    )

    def changed(
        self, changes: dict[str, Any], region: Region | None = None
    ) -> tuple[Cluster, list[str]]:
        """A new version with ``changes`` applied, and the names of fields that changed."""
        unknown = set(changes) - set(self.EDITABLE)
        if unknown:
            raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))}.")
        if "sectors" in changes:
            changes = {**changes, "sectors": normalise_sectors(changes["sectors"])}
        different = sorted(k for k, v in changes.items() if getattr(self, k) != v)
        if not different:
            return self, []
        updated = replace(
            self,
            **{k: changes[k] for k in different},
            region=region or self.region,
            version=self.version + 1,
            updated_at=now(),
        )
        return updated, different

    def deactivate(self) -> Cluster:
        if self.status is ClusterStatus.INACTIVE:
            raise InvalidTransition("The cluster is already inactive.")
        return replace(
            self, status=ClusterStatus.INACTIVE, version=self.version + 1, updated_at=now()
        )

    def reactivate(self) -> Cluster:
        if self.status is ClusterStatus.ACTIVE:
            raise InvalidTransition("The cluster is already active.")
        return replace(
            self, status=ClusterStatus.ACTIVE, version=self.version + 1, updated_at=now()
        )

    def award(self, label: Label) -> Cluster:
        if self.status is ClusterStatus.INACTIVE:
            raise InvalidTransition("An inactive cluster cannot be awarded a label.")
        duplicate = any(
            existing.scheme.casefold() == label.scheme.casefold()
            and existing.level == label.level
            and existing.awarded_on == label.awarded_on
            for existing in self.labels
        )
        if duplicate:
            raise InvalidTransition("This label was already awarded on that day.")
        return replace(
            self, labels=(*self.labels, label), version=self.version + 1, updated_at=now()
        )


def normalise_sectors(sectors: Any) -> tuple[str, ...]:
    """Trimmed, de-duplicated (case-insensitively), in the order given."""
    seen: set[str] = set()
    result: list[str] = []
    for sector in sectors or ():
        text = " ".join(str(sector).split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return tuple(result)


@dataclass(frozen=True)
class Member:
    """A company or organisation that belongs to a cluster."""

    cluster_id: str
    name: str
    size_class: SizeClass | None = None
    sector: str | None = None
    country: str | None = None
    joined_on: date = field(default_factory=lambda: now().date())
    left_on: date | None = None
    id: str = field(default_factory=new_id)

    def leave(self, on: date) -> Member:
        if self.left_on is not None:
            raise InvalidTransition("The member has already left the cluster.")
        if on < self.joined_on:
            raise InvalidInput("A member cannot leave before it joined.")
        return replace(self, left_on=on)


@dataclass(frozen=True)
class Person:
    """Someone taking part in the programme: a cluster manager, a governance team member…"""

    name: str
    email: str
    language: Language
    role: PersonRole = PersonRole.OTHER
    cluster_id: str | None = None
    country: str | None = None
    phone: str | None = None
    id: str = field(default_factory=new_id)
    version: int = 1
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    EDITABLE = ("name", "email", "language", "role", "cluster_id", "country", "phone")

    @property
    def email_key(self) -> str:
        """The case-insensitive identity of the email address."""
        return self.email.casefold()

    def changed(self, changes: dict[str, Any]) -> tuple[Person, list[str]]:
        unknown = set(changes) - set(self.EDITABLE)
        if unknown:
            raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))}.")
        different = sorted(k for k, v in changes.items() if getattr(self, k) != v)
        if not different:
            return self, []
        updated = replace(
            self, **{k: changes[k] for k in different}, version=self.version + 1, updated_at=now()
        )
        return updated, different
