"""The registry's commands: one per write use case, in the domain's types.

Views build them from loaded requests, the seed and the benchmarks build them
directly; ``services.registry.operations`` carries them out. ``expected_version``
is the version the caller read (``If-Match``), None when it does not say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.registry.domain.countries import PolicyContext
from services.registry.domain.model import ClusterKind, LabelLevel, Language, PersonRole, SizeClass


@dataclass(frozen=True)
class UpdateCountryPolicy:
    """Replace a country's cluster-policy context."""

    code: str
    """ISO 3166-1 alpha-2, any case."""
    policy: PolicyContext | None


@dataclass(frozen=True)
class RegisterCluster:
    """Register a cluster in a known country."""

    name: str
    country: str
    """ISO 3166-1 alpha-2, any case; the region follows from it."""
    kind: ClusterKind
    acronym: str | None = None
    city: str | None = None
    sectors: tuple[str, ...] = ()
    """Trimmed and de-duplicated (case-insensitively) on registration."""
    founded: int | None = None
    website: str | None = None
    description: str | None = None
    members_count: int | None = None


@dataclass(frozen=True)
class UpdateCluster:
    """Change some of a cluster's editable fields (``Cluster.EDITABLE``)."""

    cluster_id: str
    changes: Mapping[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True)
class DeactivateCluster:
    """Make an active cluster inactive."""

    cluster_id: str
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ReactivateCluster:
    """Make an inactive cluster active again."""

    cluster_id: str
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class RemoveCluster:
    """Remove a cluster (soft delete: it is gone for every read)."""

    cluster_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class AwardLabel:
    """Award a label to an active cluster."""

    cluster_id: str
    scheme: str
    level: LabelLevel
    awarded_on: date
    valid_until: date | None = None


@dataclass(frozen=True)
class AddMember:
    """Add a company or organisation to a cluster."""

    cluster_id: str
    name: str
    size_class: SizeClass | None = None
    sector: str | None = None
    country: str | None = None
    """Defaults to the cluster's."""
    joined_on: date | None = None
    """Defaults to today."""


@dataclass(frozen=True)
class RemoveMember:
    """Record that a member left its cluster (the record stays)."""

    cluster_id: str
    member_id: str
    left_on: date | None = None
    """Defaults to today."""


@dataclass(frozen=True)
class RegisterPerson:
    """Register a person; emails are unique, case-insensitively."""

    name: str
    email: str
    language: Language
    role: PersonRole = PersonRole.OTHER
    cluster_id: str | None = None
    country: str | None = None
    """Defaults to the cluster's, if any."""
    phone: str | None = None


@dataclass(frozen=True)
class UpdatePerson:
    """Change some of a person's editable fields (``Person.EDITABLE``)."""

    person_id: str
    changes: Mapping[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True)
class RemovePerson:
    """Remove a person (soft delete: their email is free again)."""

    person_id: str
    expected_version: int | None = None
