"""Matching 1,000 mentees to 400 mentors (the mentoring service's matching engine).

The engine (``services.mentoring.domain.matching.propose``) scores every pair and takes
the optimal assignment within the mentors' capacities. Its baseline in the same run is
what a team would write first: greedy matching, best pair first, on the same scores
(computed the same vectorised way, so that only the assignment differs). Both are timed
on the same generated enrolments (seeded): mentees speak one or two of fr/ar/en and want
two to four of the programme's competencies; mentors speak one to three languages, offer
three to six competencies and take one to three mentees (about 800 seats for 1,000
mentees, so some mentees stay unmatched). Besides the time, the notes compare what each
achieves: mentees matched and total score. The programme's real size (13 x 13) is timed
too, for scale.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.common import Report, Result, Sizes
from services.mentoring.domain.matching import Candidate, Proposal, propose, score, score_matrix

SEED = 2021
MENTEES, MENTORS = 1_000, 400
COMPETENCIES = (
    "governance",
    "business model",
    "funding",
    "internationalisation",
    "services to members",
    "communication",
    "digital transformation",
    "innovation projects",
    "policy dialogue",
    "skills and training",
)
SECTORS = ("agrifood", "textile", "ict", "renewable energy", "automotive", "tourism", "pharma")
LANGUAGES = ("fr", "ar", "en")


def enrolments(mentees: int, mentors: int, seed: int = SEED) -> tuple[list[Candidate], ...]:
    """(mentors, mentees), generated; people of one cluster in 300 may meet."""
    rng = random.Random(seed)

    def candidate(prefix: str, n: int, languages: int, skills: int, capacity: int) -> Candidate:
        return Candidate(
            f"{prefix}{n:05d}",
            frozenset(rng.sample(LANGUAGES, languages)),
            frozenset(rng.sample(COMPETENCIES, skills)),
            frozenset(rng.sample(SECTORS, rng.randint(1, 2))),
            capacity,
            f"cluster{rng.randrange(300)}",
        )

    return (
        [
            candidate("m", n, rng.randint(1, 3), rng.randint(3, 6), rng.randint(1, 3))
            for n in range(mentors)
        ],
        [candidate("e", n, rng.randint(1, 2), rng.randint(2, 4), 1) for n in range(mentees)],
    )


def greedy(mentors: Sequence[Candidate], mentees: Sequence[Candidate]) -> list[Proposal]:
    """Best pair first: the baseline."""
    scores, possible = score_matrix(mentors, mentees)
    seats = [m.capacity for m in mentors]
    taken = [False] * len(mentees)
    proposals = []
    flat = np.flatnonzero(possible)
    for index in flat[np.argsort(-scores.flat[flat], kind="stable")]:
        row, column = divmod(int(index), len(mentors))
        if taken[row] or not seats[column]:
            continue
        taken[row], seats[column] = True, seats[column] - 1
        proposals.append(score(mentors[column], mentees[row]))
        if all(taken) or not any(seats):
            break
    return [p for p in proposals if p is not None]


def timed(runs: int, call: Callable[[], Any]) -> tuple[float, Any]:
    """Median milliseconds of ``runs`` calls (after one warm-up), and the last result."""
    result = call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


RSS_PROBE = """
import json
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
from booster.platform import spec
spec("mentoring")
from services.mentoring.domain.matching import Candidate, propose
before = rss()
propose([Candidate("m", frozenset({"fr"}))], [Candidate("e", frozenset({"fr"}))])
print(json.dumps({"app_mb": before, "after_matching_mb": rss()}))
"""


def rss_cost() -> dict[str, float]:
    """RSS of a fresh process with the mentoring service loaded, before and after its
    first matching (which imports scipy.optimize)."""
    output = subprocess.run(
        [sys.executable, "-c", RSS_PROBE], capture_output=True, text=True, check=True
    ).stdout
    return {k: round(v, 1) for k, v in json.loads(output.splitlines()[-1]).items()}


def _summary(proposals: Sequence[Proposal]) -> dict[str, Any]:
    return {"matched": len(proposals), "total_score": round(sum(p.score for p in proposals), 2)}


def run(report: Report, sizes: Sizes) -> None:
    runs = 3 if sizes.name == "quick" else 9
    mentors, mentees = enrolments(MENTEES, MENTORS)
    ours_ms, ours = timed(runs, lambda: propose(mentors, mentees))
    base_ms, base = timed(runs, lambda: greedy(mentors, mentees))
    small_mentors, small_mentees = enrolments(13, 13)
    small_ms, _ = timed(runs, lambda: propose(small_mentors, small_mentees))
    optimal, first_best = _summary(ours), _summary(base)
    memory = rss_cost()
    seats = sum(m.capacity for m in mentors)
    report.add(
        Result(
            "matching",
            f"match {MENTEES:,} mentees to {MENTORS} mentors",
            ours_ms,
            "ms",
            base_ms,
            "greedy, best pair first",
            notes=(
                f"{seats} seats; optimal matches {optimal['matched']} with total score "
                f"{optimal['total_score']}, greedy {first_best['matched']} with "
                f"{first_best['total_score']}; 13 x 13 (the programme's size) "
                f"{small_ms:.1f} ms; median of {runs}; a process's RSS "
                f"{memory['app_mb']:.0f} MB -> {memory['after_matching_mb']:.0f} MB after its "
                "first matching (scipy.optimize)"
            ),
            extra={
                "optimal": optimal,
                "greedy": first_best,
                "programme_13x13_ms": small_ms,
                "rss_mb": memory,
            },
        )
    )
