"""Mentor-mentee matching: who may be paired, the score, and the optimal assignment."""

from __future__ import annotations

import itertools
import random

import pytest

from services.mentoring.domain.matching import (
    Candidate,
    Proposal,
    propose,
    score,
    score_matrix,
)


def mentor(
    pid: str, *, languages=("fr",), offers=(), sectors=(), capacity=1, cluster=None, country=None
):
    return Candidate(
        pid, frozenset(languages), frozenset(offers), frozenset(sectors), capacity, cluster, country
    )


def mentee(pid: str, *, languages=("fr",), wants=(), sectors=(), cluster=None, country=None):
    return Candidate(
        pid, frozenset(languages), frozenset(wants), frozenset(sectors), 1, cluster, country
    )


def pairs(proposals: list[Proposal]) -> set[tuple[str, str]]:
    return {(p.mentor_id, p.mentee_id) for p in proposals}


def test_score_weighs_competencies_sector_country_and_language() -> None:
    full = score(
        mentor("m", offers=("Funding", "export"), sectors=("Agrifood",), country="ES"),
        mentee("e", wants=("funding", " Export "), sectors=("agrifood", "ict"), country="TN"),
    )
    assert full is not None
    assert full.score == 1.0
    assert full.reasons == (
        "shared language: fr",
        "competency fit: offers 2 of 2 wanted competencies: export, funding",
        "sector affinity: agrifood",
        "cross-country: ES and TN",
    )
    partial = score(
        mentor("m", offers=("funding",)), mentee("e", wants=("funding", "export", "hr"))
    )
    assert partial is not None and partial.score == 0.267  # 0.5 x 1/3 + 0.1
    same_country = score(mentor("m", country="PS"), mentee("e", country="PS"))
    unknown = score(mentor("m", country="PS"), mentee("e"))
    assert same_country is not None and same_country.score == 0.1
    assert unknown is not None and unknown.score == 0.1
    bare = score(mentor("m", languages=("fr", "ar")), mentee("e", languages=("ar",)))
    assert bare is not None and bare.score == 0.1 and bare.reasons == ("shared language: ar",)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (mentor("m", languages=("en",)), mentee("e", languages=("fr", "ar"))),
        (mentor("m", cluster="c1"), mentee("e", cluster="c1")),
        (mentor("same"), mentee("same")),
    ],
    ids=["no common language", "same cluster", "same person"],
)
def test_pairs_that_cannot_be_made(left: Candidate, right: Candidate) -> None:
    assert score(left, right) is None
    assert propose([left], [right]) == []


def test_optimal_total_where_greedy_would_do_worse() -> None:
    # Greedy takes the best pair, A-x (0.85), and is left with B-y (0.1): 0.95 in all.
    # The optimum is A-y (0.5 + 0.1) and B-x (0.5 x 4/5 + 0.1): 1.1.
    a = mentor("A", offers=("f1", "f2", "f3", "f4", "f5"), sectors=("s",))
    b = mentor("B", offers=("f1", "f2", "f3", "f4"))
    x = mentee("x", wants=("f1", "f2", "f3", "f4", "f5"), sectors=("s",))
    y = mentee("y", wants=("f5",))
    assert score(a, x).score == 0.85  # type: ignore[union-attr]
    proposals = propose([a, b], [x, y])
    assert pairs(proposals) == {("A", "y"), ("B", "x")}
    assert sum(p.score for p in proposals) == pytest.approx(0.6 + 0.5)


def test_excluded_pairs_are_never_proposed() -> None:
    a, b = mentor("A", offers=("funding",)), mentor("B")
    x = mentee("x", wants=("funding",))
    assert pairs(propose([a, b], [x])) == {("A", "x")}
    assert pairs(propose([a, b], [x], excluded={("A", "x")})) == {("B", "x")}
    assert propose([a], [x], excluded=[("A", "x"), ("nobody", "x")]) == []


def test_as_many_mentees_as_possible_before_the_best_score() -> None:
    # A suits x best, but only A can talk to y: x goes to B so that y has a mentor.
    a = mentor("A", languages=("fr", "ar"), offers=("funding",))
    b = mentor("B", languages=("fr",))
    x = mentee("x", wants=("funding",))
    y = mentee("y", languages=("ar",))
    assert pairs(propose([a, b], [x, y])) == {("A", "y"), ("B", "x")}


def test_capacity_is_respected_and_extra_mentees_stay_unmatched() -> None:
    mentors = [mentor("A", capacity=2), mentor("B", capacity=1), mentor("C", capacity=0)]
    mentees = [mentee(f"e{n}") for n in range(5)]
    proposals = propose(mentors, mentees)
    per_mentor = {m: sum(p.mentor_id == m for p in proposals) for m in ("A", "B", "C")}
    assert per_mentor == {"A": 2, "B": 1, "C": 0}
    assert len({p.mentee_id for p in proposals}) == 3


def test_same_result_whatever_the_input_order() -> None:
    rng = random.Random(7)
    skills = [f"c{n}" for n in range(8)]
    mentors = [
        mentor(
            f"m{n}",
            languages=rng.sample(["fr", "en", "ar"], 2),
            offers=rng.sample(skills, 3),
            sectors=rng.sample(["agrifood", "ict", "textile"], 1),
            capacity=rng.randint(1, 2),
            cluster=f"c{n % 4}",
        )
        for n in range(12)
    ]
    mentees = [
        mentee(
            f"e{n}",
            languages=rng.sample(["fr", "en", "ar"], 1),
            wants=rng.sample(skills, 2),
            sectors=rng.sample(["agrifood", "ict", "textile"], 1),
            cluster=f"c{n % 5}",
        )
        for n in range(20)
    ]
    first = propose(mentors, mentees)
    shuffled_mentors, shuffled_mentees = mentors[:], mentees[:]
    rng.shuffle(shuffled_mentors)
    rng.shuffle(shuffled_mentees)
    assert propose(shuffled_mentors, shuffled_mentees) == first
    assert [p.score for p in first] == sorted((p.score for p in first), reverse=True)


def test_the_matrix_scores_every_pair_like_score_does() -> None:
    rng = random.Random(3)
    skills = [f"c{n}" for n in range(40)]
    mentors = [
        mentor(
            f"m{n}",
            languages=rng.sample(["fr", "en", "ar"], rng.randint(0, 2)),
            offers=rng.sample(skills, rng.randint(0, 30)),
            sectors=rng.sample(["agrifood", "ict"], rng.randint(0, 1)),
            cluster=rng.choice([None, "c1", "c2"]),
            country=rng.choice([None, "FR", "TN"]),
        )
        for n in range(15)
    ]
    mentees = [
        mentee(
            f"e{n}",
            languages=rng.sample(["fr", "en", "ar"], rng.randint(0, 2)),
            wants=rng.sample(skills, rng.choice([0, 1, 3, 16, 32])),
            sectors=rng.sample(["agrifood", "ict"], rng.randint(0, 1)),
            cluster=rng.choice([None, "c1", "c2"]),
            country=rng.choice([None, "FR", "TN"]),
        )
        for n in range(15)
    ] + [mentee("m3")]  # also enrolled as a mentor
    scores, possible = score_matrix(mentors, mentees)
    for (row, right), (column, left) in itertools.product(enumerate(mentees), enumerate(mentors)):
        expected = score(left, right)
        assert bool(possible[row, column]) == (expected is not None)
        if expected is not None:
            assert round(float(scores[row, column]), 3) == expected.score


def _best_by_brute_force(
    mentors: list[Candidate], mentees: list[Candidate], excluded: set[tuple[str, str]]
) -> tuple[int, float]:
    """(most mentees matched, best total score among those), trying every assignment."""
    seats = [m for m in mentors for _ in range(m.capacity)]
    best = (0, 0.0)
    for chosen in itertools.product([None, *range(len(seats))], repeat=len(mentees)):
        used = [seat for seat in chosen if seat is not None]
        if len(used) != len(set(used)):
            continue
        pairs_ = [
            score(seats[seat], e)
            for seat, e in zip(chosen, mentees, strict=True)
            if seat is not None
        ]
        if any(p is None or (p.mentor_id, p.mentee_id) in excluded for p in pairs_):
            continue
        total = round(sum(p.score for p in pairs_ if p is not None), 6)
        best = max(best, (len(pairs_), total))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_optimal_against_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    skills = ["governance", "funding", "export", "digital"]
    mentors = [
        mentor(
            f"m{n}",
            languages=rng.sample(["fr", "ar"], rng.randint(1, 2)),
            offers=rng.sample(skills, rng.randint(0, 3)),
            sectors=rng.sample(["agrifood", "ict"], 1),
            capacity=rng.randint(0, 2),
            cluster=f"c{rng.randrange(3)}",
            country=rng.choice(["ES", "IT", "PS"]),
        )
        for n in range(3)
    ]
    mentees = [
        mentee(
            f"e{n}",
            languages=rng.sample(["fr", "ar"], 1),
            wants=rng.sample(skills, rng.randint(1, 3)),
            sectors=rng.sample(["agrifood", "ict"], 1),
            cluster=f"c{rng.randrange(3)}",
            country=rng.choice(["EG", "PS", "TN"]),
        )
        for n in range(4)
    ]
    excluded = {(f"m{rng.randrange(3)}", f"e{rng.randrange(4)}") for _ in range(rng.randint(0, 2))}
    proposals = propose(mentors, mentees, excluded)
    assert len({p.mentee_id for p in proposals}) == len(proposals)  # a mentee at most once
    by_id = {c.person_id: c for c in (*mentors, *mentees)}
    for m in mentors:
        assert sum(p.mentor_id == m.person_id for p in proposals) <= m.capacity
    for p in proposals:  # the hard rules hold for every proposal
        left, right = by_id[p.mentor_id], by_id[p.mentee_id]
        assert left.languages & right.languages and left.cluster_id != right.cluster_id
        assert (p.mentor_id, p.mentee_id) not in excluded
    matched, total = _best_by_brute_force(mentors, mentees, excluded)
    assert len(proposals) == matched
    assert sum(p.score for p in proposals) == pytest.approx(total, abs=1e-6)


def test_a_huge_capacity_is_bounded_by_the_mentees() -> None:
    proposals = propose([mentor("A", capacity=10**9)], [mentee(f"e{n}") for n in range(3)])
    assert len(proposals) == 3


def test_nobody_to_match() -> None:
    assert propose([], [mentee("e")]) == []
    assert propose([mentor("m")], []) == []
