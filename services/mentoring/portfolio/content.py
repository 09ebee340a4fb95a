"""What a programme's portfolio holds, in no language yet: the programme, one profile per
participating cluster (mentors' clusters and mentees' clusters), and who is paired
with whom.

Built from the service's own data and its read copies of the registry's people and
clusters (never a call to the registry). A portfolio is meant to be shared: the read
copies hold no email address or phone number, and free text copied from the registry
(a description, a name, a city) is scrubbed of anything that looks like one before it
gets here (:func:`scrub`). :func:`fingerprint` names a version of the content: the same
data gives the same fingerprint, any change to what is shown a new one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from services.mentoring.domain.model import (
    ClusterCopy,
    Competency,
    Enrolment,
    LabelCopy,
    Pair,
    PairStatus,
    PersonCopy,
    Programme,
    Role,
)

SHOWN_PAIRS = (PairStatus.ACTIVE, PairStatus.COMPLETED)
"""Pairs at work or that completed with the programme (proposals, rejections and pairs
ended early are not announced)."""

REDACTED = "…"
_EMAIL = re.compile(r"[^\s@<>()\[\]{},;:\"']+@[^\s@<>()\[\]{},;:\"']+\.[^\s@<>()\[\]{},;:\"']+")
_MAILTO = re.compile(r"mailto:\S*", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w(])\(?(?:\+|00)?\d(?:[\s().\-/]{0,3}\d){7,}")
"""Eight digits or more, possibly spaced or punctuated (``+216 71 123 456``,
``(0)1.23.45.67.89``): a phone number, or something too close to one to publish."""
_YEARS = re.compile(r"(?:1[89]|20)\d\d\s?[-/–]\s?(?:1[89]|20)\d\d")
"""A span of years (``2012-2016``): eight digits, yet no phone number."""


def scrub(text: str | None) -> str | None:
    """``text`` without email addresses or phone numbers (each becomes ``…``); None
    for nothing left."""
    if text is None:
        return None
    cleaned = _MAILTO.sub(REDACTED, text)
    cleaned = _EMAIL.sub(REDACTED, cleaned)
    cleaned = _PHONE.sub(_phone_or_years, cleaned)
    cleaned = " ".join(cleaned.split())
    return cleaned or None


def _phone_or_years(match: re.Match[str]) -> str:
    return match.group() if _YEARS.fullmatch(match.group()) else REDACTED


def web_address(text: str | None) -> str | None:
    """A website worth printing: an http(s) address with no user, email or phone number
    in it; None otherwise."""
    if not text:
        return None
    address = text.strip()
    if not re.match(r"https?://[^\s@/]+(?:[/?#]\S*)?$", address, re.IGNORECASE):
        return None
    return address if scrub(address) == address else None


@dataclass(frozen=True)
class Participant:
    """A person of the programme, as a profile or a pair names them: no contact details."""

    person_id: str
    name: str
    role: str | None
    """The registry's role (``cluster_manager``, ``governance_team``, ``expert``,
    ``other``), shown as a role title."""
    programme_role: Role
    cluster_id: str | None
    country: str | None


@dataclass(frozen=True)
class Profile:
    """A participating cluster, as its profile shows it."""

    cluster_id: str
    name: str
    acronym: str | None
    country: str | None
    city: str | None
    kind: str | None
    sectors: tuple[str, ...]
    founded: int | None
    members_count: int | None
    labels: tuple[LabelCopy, ...]
    description: str | None
    website: str | None
    active: bool
    people: tuple[Participant, ...]


@dataclass(frozen=True)
class Group:
    """The mentors (or the mentees): their clusters' profiles, and those of them whose
    cluster the registry does not name (a mentor may take part in their own name)."""

    profiles: tuple[Profile, ...]
    """In no particular order: each language sorts by country."""
    unattached: tuple[Participant, ...]
    people: int
    """How many take part in this role."""


@dataclass(frozen=True)
class PairLine:
    """Who is matched with whom."""

    mentor: Participant
    mentee: Participant
    mentor_cluster: str | None
    mentee_cluster: str | None


@dataclass(frozen=True)
class Portfolio:
    programme_id: str
    name: str
    edition: str | None
    organiser: str | None
    starts_on: date
    ends_on: date
    competencies: tuple[Competency, ...]
    mentors: Group
    mentees: Group
    pairs: tuple[PairLine, ...]


def assemble(
    programme: Programme,
    enrolments: Sequence[Enrolment],
    pairs: Iterable[Pair],
    people: Mapping[str, PersonCopy],
    clusters: Mapping[str, ClusterCopy],
) -> Portfolio:
    """The portfolio of ``programme`` from its enrolments and pairs and the read copies
    of the people enrolled and of their clusters. People removed from the registry and
    removed clusters are left out; a cluster is a mentors' cluster if one of its people
    is enrolled as a mentor, a mentees' cluster if one is enrolled as a mentee. People
    without a cluster the copy knows are listed on their own, with their country."""
    participants: dict[str, Participant] = {}
    for enrolment in enrolments:
        person = people.get(enrolment.person_id)
        if person is None or person.removed or not person.name:
            continue
        cluster = clusters.get(person.cluster_id or "")
        participants[person.id] = Participant(
            person_id=person.id,
            name=scrub(person.name) or REDACTED,
            role=person.role,
            programme_role=enrolment.role,
            cluster_id=person.cluster_id if _shown(cluster) else None,
            country=(cluster.country if cluster and cluster.country else None) or person.country,
        )
    by_role = {
        role: _group([p for p in participants.values() if p.programme_role is role], clusters)
        for role in Role
    }
    lines = []
    for pair in pairs:
        if pair.status not in SHOWN_PAIRS:
            continue
        mentor, mentee = participants.get(pair.mentor_id), participants.get(pair.mentee_id)
        if mentor is None or mentee is None:
            continue
        lines.append(
            PairLine(
                mentor,
                mentee,
                _cluster_name(clusters, mentor.cluster_id),
                _cluster_name(clusters, mentee.cluster_id),
            )
        )
    return Portfolio(
        programme_id=programme.id,
        name=scrub(programme.name) or REDACTED,
        edition=scrub(programme.edition),
        organiser=scrub(programme.organiser),
        starts_on=programme.starts_on,
        ends_on=programme.ends_on,
        competencies=programme.competencies,
        mentors=by_role[Role.MENTOR],
        mentees=by_role[Role.MENTEE],
        pairs=tuple(sorted(lines, key=lambda line: (line.mentee.person_id, line.mentor.person_id))),
    )


def _shown(cluster: ClusterCopy | None) -> bool:
    return cluster is not None and not cluster.removed and bool(cluster.name)


def _cluster_name(clusters: Mapping[str, ClusterCopy], cluster_id: str | None) -> str | None:
    cluster = clusters.get(cluster_id or "")
    return scrub(cluster.name) if cluster is not None and _shown(cluster) else None


def _group(participants: Sequence[Participant], clusters: Mapping[str, ClusterCopy]) -> Group:
    unattached = [p for p in participants if p.cluster_id is None]
    return Group(
        profiles=_profiles(participants, clusters),
        unattached=tuple(sorted(unattached, key=lambda p: (p.name, p.person_id))),
        people=len(participants),
    )


def _profiles(
    participants: Sequence[Participant], clusters: Mapping[str, ClusterCopy]
) -> tuple[Profile, ...]:
    members: dict[str, list[Participant]] = {}
    for participant in participants:
        if participant.cluster_id is not None:
            members.setdefault(participant.cluster_id, []).append(participant)
    profiles = []
    for cluster_id in sorted(members):
        cluster = clusters[cluster_id]
        profiles.append(
            Profile(
                cluster_id=cluster.id,
                name=scrub(cluster.name) or REDACTED,
                acronym=scrub(cluster.acronym),
                country=cluster.country,
                city=scrub(cluster.city),
                kind=cluster.kind,
                sectors=tuple(s for s in (scrub(sector) for sector in cluster.sectors) if s),
                founded=cluster.founded,
                members_count=cluster.members_count,
                labels=tuple(
                    LabelCopy(
                        label.id,
                        scrub(label.scheme) or REDACTED,
                        label.level,
                        label.awarded_on,
                        label.valid_until,
                    )
                    for label in sorted(cluster.labels, key=lambda x: (x.awarded_on, x.id))
                ),
                description=scrub(cluster.description),
                website=web_address(cluster.website),
                active=cluster.active,
                people=tuple(sorted(members[cluster_id], key=lambda p: (p.name, p.person_id))),
            )
        )
    return tuple(profiles)


def fingerprint(portfolio: Portfolio, salt: str = "") -> str:
    """A digest of everything the portfolio shows (and ``salt``: the renderer's own
    version): equal for equal content, different as soon as anything shown changes."""
    payload = json.dumps(asdict(portfolio), sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.sha256(f"{salt}\n{payload}".encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
