"""Matching 1,000 mentees to 400 mentors through the mentoring API, proposals stored.

``POST /api/v1/programmes/{id}/matching`` on PostgreSQL (in-process WSGI client, one
request): it locks the programme, discards earlier proposals, reads the enrolments and
the read copies of people and clusters, builds the candidates, runs the engine
(``services.mentoring.domain.matching.propose``), stores every proposal in one insert,
and dumps the response. Its figure is set next to the engine alone on the same
enrolments (``bench/matching.py`` generates them, seeded), so the difference is what
the service adds around the engine. The enrolments and read copies are loaded once
through the service's own use cases (not timed).
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench.common import Report, Result, Sizes, fresh_database
from bench.matching import MENTEES, MENTORS, enrolments
from booster.testing import service_harness
from services.mentoring import operations as ops
from services.mentoring.domain.commands import (
    CreateProgramme,
    Enrol,
    KeepClusters,
    KeepPeople,
    MoveProgramme,
)
from services.mentoring.domain.matching import Candidate, propose
from services.mentoring.domain.model import (
    ClusterChange,
    Competency,
    Language,
    PersonChange,
    Role,
)

SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"
SKILLS = list(Competency)


def _load(uow, mentors: list[Candidate], mentees: list[Candidate]) -> str:  # noqa: ANN001
    """The read copies and a programme with every enrolment; its id."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    vocabulary = sorted({c for m in (*mentors, *mentees) for c in m.competencies})
    skill = {name: SKILLS[i % len(SKILLS)] for i, name in enumerate(vocabulary)}
    clusters = sorted({m.cluster_id for m in (*mentors, *mentees) if m.cluster_id})
    with uow.begin() as tx:
        ops.keep_clusters(
            tx,
            KeepClusters(
                tuple(
                    ClusterChange(
                        c,
                        c,
                        "TN" if i % 2 else "ES",
                        "mena" if i % 2 else "eu",
                        ("agrifood",),
                        True,
                        at,
                    )
                    for i, c in enumerate(clusters)
                )
            ),
        )
        ops.keep_people(
            tx,
            KeepPeople(
                tuple(
                    PersonChange(m.person_id, m.person_id, "fr", at, m.cluster_id)
                    for m in (*mentors, *mentees)
                )
            ),
        )
    programme = ops.create_programme(
        uow, CreateProgramme("Bench", date(2026, 1, 1), date(2026, 12, 31), tuple(SKILLS))
    )
    ops.move_programme(uow, MoveProgramme(programme.id, "open"))
    mena = {c for i, c in enumerate(clusters) if i % 2}
    for role, people in ((Role.MENTOR, mentors), (Role.MENTEE, mentees)):
        for m in people:
            if role is Role.MENTEE and m.cluster_id not in mena:
                # a mentee's cluster is in MENA: move them there (same sectors, skills)
                m = Candidate(
                    m.person_id,
                    m.languages,
                    m.competencies,
                    m.sectors,
                    1,
                    sorted(mena)[hash(m.person_id) % len(mena)],
                )
                moved = PersonChange(m.person_id, m.person_id, "fr", at, m.cluster_id)
                with uow.begin() as tx:
                    ops.keep_people(tx, KeepPeople((moved,)))
            ops.enrol(
                uow,
                Enrol(
                    programme.id,
                    m.person_id,
                    role,
                    tuple(Language(x) for x in sorted(m.languages)),
                    tuple(sorted({(skill[c], 3) for c in m.competencies})),
                    tuple(sorted(m.sectors)),
                    capacity=m.capacity if role is Role.MENTOR else None,
                ),
            )
    return programme.id


def run(report: Report, sizes: Sizes) -> None:
    runs = 3 if sizes.name == "quick" else 7
    mentors, mentees = enrolments(MENTEES, MENTORS)
    logging.disable(logging.WARNING)
    engine_times = []
    for _ in range(runs):
        started = time.perf_counter()
        propose(mentors, mentees)
        engine_times.append((time.perf_counter() - started) * 1000)
    with tempfile.TemporaryDirectory() as var, fresh_database("bench_mentoring") as url:
        with service_harness("mentoring", url, Path(var), SECRET) as harness:
            programme_id = _load(harness.runtime.uow, mentors, mentees)
            client, headers = harness.client, harness.headers("mentoring:write")
            path = f"/api/v1/programmes/{programme_id}/matching"
            client.post(path, headers=headers)  # warm-up (imports scipy)
            api_times, proposals = [], 0
            for _ in range(runs):
                started = time.perf_counter()
                response = client.post(path, headers=headers)
                api_times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.get_json()
                proposals = len(response.get_json()["proposals"])
            with harness.runtime.uow.read() as tx:
                stored = len(tx.pairs.of_programme(programme_id))
    api_ms, engine_ms = statistics.median(api_times), statistics.median(engine_times)
    report.add(
        Result(
            "mentoring",
            f"POST matching, {MENTEES:,} mentees x {MENTORS} mentors, proposals stored",
            api_ms,
            "ms",
            engine_ms,
            "the engine alone (propose)",
            notes=(
                f"{proposals} proposals returned and {stored} stored (PostgreSQL); each run "
                f"replaces the previous proposals; median of {runs}"
            ),
            extra={"api_ms": api_times, "engine_ms": engine_times, "proposals": proposals},
        )
    )
