"""Matching mentors and mentees: a score for every possible pair, then the set of pairs
with the highest total score that fits every mentor's capacity.

A pair is possible only if the two share a language (sessions need one) and are not the
same person or from the same cluster (the programme is peer learning across clusters).
Its score, from 0.1 to 1, is the sum of four parts, each given as a reason:

- competency fit: 0.5 x the share of the mentee's wanted competencies the mentor offers,
- sector affinity: 0.25 if they work in a common sector,
- cross-country: 0.15 if both countries are known and differ (peer learning across
  borders, e.g. a Spanish mentor for a Tunisian mentee),
- shared language: 0.1 for the language they share (sessions need one).

Pairs can also be ``excluded`` (e.g. a proposal a programme manager rejected).

The assignment matches as many mentees as it can first, then maximises the total score
(an optimal assignment on mentees x mentor seats, scipy's ``linear_sum_assignment``).
Matching the best pair first and so on (greedy) can leave a mentee without a mentor, or
a worse total, where the optimum does not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

COMPETENCE_WEIGHT = 0.5
SECTOR_WEIGHT = 0.25
CROSS_COUNTRY_WEIGHT = 0.15
LANGUAGE_WEIGHT = 0.1


def _keys(values: Iterable[str]) -> frozenset[str]:
    return frozenset(value.strip().casefold() for value in values if value.strip())


@dataclass(frozen=True)
class Candidate:
    """One enrolment as matching sees it: a mentor offers ``competencies`` to up to
    ``capacity`` mentees (their remaining seats); a mentee wants ``competencies``."""

    person_id: str
    languages: frozenset[str] = field(default_factory=frozenset)
    competencies: frozenset[str] = field(default_factory=frozenset)
    sectors: frozenset[str] = field(default_factory=frozenset)
    capacity: int = 1
    cluster_id: str | None = None
    country: str | None = None

    def __post_init__(self) -> None:
        for name in ("languages", "competencies", "sectors"):
            object.__setattr__(self, name, _keys(getattr(self, name)))


@dataclass(frozen=True)
class Proposal:
    mentor_id: str
    mentee_id: str
    score: float
    reasons: tuple[str, ...]


def score(mentor: Candidate, mentee: Candidate) -> Proposal | None:
    """The pair's score and the reasons for it; ``None`` when they cannot be paired."""
    languages = mentor.languages & mentee.languages
    if not _possible(mentor, mentee, languages):
        return None
    covered = mentor.competencies & mentee.competencies
    sectors = mentor.sectors & mentee.sectors
    competence = len(covered) / len(mentee.competencies) if mentee.competencies else 0.0
    cross = _cross_country(mentor, mentee)
    value = (
        COMPETENCE_WEIGHT * competence
        + SECTOR_WEIGHT * bool(sectors)
        + CROSS_COUNTRY_WEIGHT * cross
        + LANGUAGE_WEIGHT
    )
    reasons = [f"shared language: {', '.join(sorted(languages))}"]
    if covered:
        reasons.append(
            f"competency fit: offers {len(covered)} of {len(mentee.competencies)} wanted "
            "competencies: " + ", ".join(sorted(covered))
        )
    if sectors:
        reasons.append(f"sector affinity: {', '.join(sorted(sectors))}")
    if cross:
        reasons.append(f"cross-country: {mentor.country} and {mentee.country}")
    return Proposal(mentor.person_id, mentee.person_id, round(value, 3), tuple(reasons))


def _cross_country(mentor: Candidate, mentee: Candidate) -> bool:
    return bool(mentor.country and mentee.country and mentor.country != mentee.country)


def _possible(mentor: Candidate, mentee: Candidate, languages: frozenset[str]) -> bool:
    same_cluster = mentor.cluster_id is not None and mentor.cluster_id == mentee.cluster_id
    return bool(languages) and mentor.person_id != mentee.person_id and not same_cluster


def propose(
    mentors: Sequence[Candidate],
    mentees: Sequence[Candidate],
    excluded: Collection[tuple[str, str]] = (),
) -> list[Proposal]:
    """The optimal pairs, best score first (ties by mentor, then mentee id); no pair
    (mentor id, mentee id) in ``excluded`` is proposed.

    The result does not depend on the order of the inputs. Scores are computed for all
    pairs at once (matrix products over the vocabularies), so 1,000 x 400 takes tens of
    milliseconds; the reasons are worked out for the chosen pairs only.
    """
    mentors = sorted((m for m in mentors if m.capacity > 0), key=lambda m: m.person_id)
    mentees = sorted(mentees, key=lambda m: m.person_id)
    if not mentors or not mentees:
        return []
    scores, possible = score_matrix(mentors, mentees)
    if excluded:
        rows = {m.person_id: row for row, m in enumerate(mentees)}
        columns = {m.person_id: column for column, m in enumerate(mentors)}
        for mentor_id, mentee_id in excluded:
            if mentor_id in columns and mentee_id in rows:
                possible[rows[mentee_id], columns[mentor_id]] = False
    # A mentor cannot use more seats than there are mentees: the matrix stays bounded.
    seats = np.repeat(np.arange(len(mentors)), [min(m.capacity, len(mentees)) for m in mentors])
    # Every possible pair is worth more than all scores together: the most mentees
    # matched comes first, the total score second. Impossible pairs are worth nothing.
    bonus = float(len(mentees) + 1)
    value = np.where(possible, scores + bonus, 0.0)[:, seats]
    # Imported on first use: scipy.optimize adds about 40 MB to a process's RSS, which
    # only a process that matches should carry (bench/matching.py measures it).
    from scipy.optimize import linear_sum_assignment

    rows, columns = linear_sum_assignment(value, maximize=True)
    proposals = []
    for row, column in zip(rows, columns, strict=True):
        mentor, mentee = mentors[seats[column]], mentees[row]
        if possible[row, seats[column]]:
            proposal = score(mentor, mentee)
            assert proposal is not None  # the matrix and the scalar rules agree
            proposals.append(proposal)
    return sorted(proposals, key=lambda p: (-p.score, p.mentor_id, p.mentee_id))


def score_matrix(
    mentors: Sequence[Candidate], mentees: Sequence[Candidate]
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, possible): mentees x mentors, the same rules as :func:`score` (whose
    score is this one rounded to three decimals for display)."""
    languages = _overlap(mentees, mentors, "languages")
    covered = _overlap(mentees, mentors, "competencies")
    sectors = _overlap(mentees, mentors, "sectors")
    wanted = np.array([len(m.competencies) for m in mentees], dtype=float)
    competence = np.divide(
        covered, wanted[:, None], out=np.zeros_like(covered, dtype=float), where=wanted[:, None] > 0
    )
    cross = _differ([m.country for m in mentees], [m.country for m in mentors])
    scores = (
        COMPETENCE_WEIGHT * competence
        + SECTOR_WEIGHT * (sectors > 0)
        + CROSS_COUNTRY_WEIGHT * cross
        + LANGUAGE_WEIGHT
    )
    same_person = _equal([m.person_id for m in mentees], [m.person_id for m in mentors])
    same_cluster = _equal([m.cluster_id for m in mentees], [m.cluster_id for m in mentors])
    return scores, (languages > 0) & ~same_person & ~same_cluster


def _overlap(left: Sequence[Candidate], right: Sequence[Candidate], attribute: str) -> np.ndarray:
    """How many values of ``attribute`` each left candidate shares with each right one."""
    vocabulary = {
        value: index
        for index, value in enumerate(
            sorted({v for c in (*left, *right) for v in getattr(c, attribute)})
        )
    }
    if not vocabulary:
        return np.zeros((len(left), len(right)))
    return _indicator(left, attribute, vocabulary) @ _indicator(right, attribute, vocabulary).T


def _indicator(
    candidates: Sequence[Candidate], attribute: str, vocabulary: dict[str, int]
) -> np.ndarray:
    matrix = np.zeros((len(candidates), len(vocabulary)), dtype=np.float32)
    for row, candidate in enumerate(candidates):
        matrix[row, [vocabulary[value] for value in getattr(candidate, attribute)]] = 1.0
    return matrix


def _differ(left: Sequence[str | None], right: Sequence[str | None]) -> np.ndarray:
    """left x right: both set and different."""
    known = (
        np.array([v is not None for v in left])[:, None]
        & np.array([v is not None for v in right])[None, :]
    )
    return known & ~_equal(left, right)


def _equal(left: Sequence[str | None], right: Sequence[str | None]) -> np.ndarray:
    """left x right: both set and equal."""
    codes: dict[str, int] = {}
    a = np.array([codes.setdefault(v, len(codes)) if v is not None else -1 for v in left])
    b = np.array([codes.setdefault(v, len(codes)) if v is not None else -2 for v in right])
    return a[:, None] == b[None, :]
