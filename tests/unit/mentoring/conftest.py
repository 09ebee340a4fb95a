"""The mentoring service on in-memory repositories: programmes, people and clusters to
build tests on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from services.mentoring import operations as ops
from services.mentoring.adapters.memory import FakeMentoringTx, fake_uow
from services.mentoring.domain.commands import (
    ConfirmPair,
    CreateProgramme,
    Enrol,
    KeepClusters,
    KeepPeople,
    MoveProgramme,
    RunMatching,
)
from services.mentoring.domain.model import (
    ClusterChange,
    Competency,
    Enrolment,
    Language,
    Pair,
    PersonChange,
    Programme,
    Role,
)
from shared.fake_uow import FakeUnitOfWork

Uow = FakeUnitOfWork[FakeMentoringTx]
T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
"""When the registry's changes of the tests were made."""
COUNTRIES = {"ES": "eu", "FR": "eu", "IT": "eu", "PS": "mena", "TN": "mena", "EG": "mena"}


@pytest.fixture
def uow() -> Uow:
    return fake_uow(platform_catalogue())


def cluster(uow: Uow, cluster_id: str, country: str, *, at: datetime = T0, **fields: Any) -> str:
    """A cluster the registry told the service of (region from the country)."""
    data: dict[str, Any] = {
        "name": f"Cluster {cluster_id}",
        "country": country,
        "region": COUNTRIES.get(country, "other"),
        "sectors": ("agrifood",),
        "active": True,
        **fields,
    }
    with uow.begin() as tx:
        ops.keep_clusters(tx, KeepClusters((ClusterChange(id=cluster_id, at=at, **data),)))
    return cluster_id


def person(
    uow: Uow, person_id: str, cluster_id: str | None, *, language: str = "fr", **fields: Any
) -> str:
    change = PersonChange(
        id=person_id,
        name=fields.pop("name", f"Person {person_id}"),
        language=language,
        at=fields.pop("at", T0),
        cluster_id=cluster_id,
        **fields,
    )
    with uow.begin() as tx:
        ops.keep_people(tx, KeepPeople((change,)))
    return person_id


def programme(uow: Uow, *, status: str = "open", **fields: Any) -> Programme:
    """A programme of 2026-2027 on three competencies, moved to ``status``."""
    command: dict[str, Any] = {
        "name": "Cluster Mentoring Reloaded",
        "edition": "2026",
        "organiser": "ACCIÓ",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2027, 12, 31),
        "competencies": (
            Competency.VALUE_ADDED_SERVICES,
            Competency.FUNDING,
            Competency.INTERNATIONALISATION,
        ),
        **fields,
    }
    created = ops.create_programme(uow, CreateProgramme(**command))
    for verb in {"draft": [], "open": ["open"], "running": ["open", "launch"]}[status]:
        created = ops.move_programme(uow, MoveProgramme(created.id, verb))
    return created


def enrol(
    uow: Uow,
    programme_id: str,
    person_id: str,
    role: str,
    *,
    languages: tuple[str, ...] = ("fr",),
    competencies: tuple[str, ...] = ("funding",),
    capacity: int | None = None,
    sectors: tuple[str, ...] = (),
) -> Enrolment:
    return ops.enrol(
        uow,
        Enrol(
            programme_id=programme_id,
            person_id=person_id,
            role=Role(role),
            languages=tuple(Language(language) for language in languages),
            competencies=tuple((Competency(c), 3) for c in competencies),
            sectors=sectors,
            capacity=capacity,
        ),
    )


def cast(uow: Uow, programme_id: str, n: int = 2) -> tuple[list[str], list[str]]:
    """``n`` Spanish mentors and ``n`` Tunisian mentees, enrolled (each in a cluster)."""
    cluster(uow, "c-es", "ES")
    mentors, mentees = [], []
    for i in range(n):
        cluster(uow, f"c-tn-{i}", "TN")
        mentors.append(person(uow, f"mentor-{i}", "c-es"))
        mentees.append(person(uow, f"mentee-{i}", f"c-tn-{i}"))
        enrol(uow, programme_id, mentors[-1], "mentor")
        enrol(uow, programme_id, mentees[-1], "mentee")
    return mentors, mentees


def matched(uow: Uow, programme_id: str) -> list[Pair]:
    """Run matching and confirm every proposal."""
    proposals = ops.run_matching(uow, RunMatching(programme_id))
    return [ops.confirm_pair(uow, ConfirmPair(p.id)) for p in proposals]
