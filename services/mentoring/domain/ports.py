"""The mentoring service's repositories and unit of work, as ports.

Use cases see the service's data only through a :class:`MentoringTx`: ``tx.programmes``,
``tx.enrolments``, ``tx.pairs``, ``tx.goals``, ``tx.sessions``, ``tx.meetings``,
``tx.feedback``, the read copies ``tx.people`` and ``tx.clusters``, the published
portfolios and their PDFs (``tx.portfolios``), plus ``tx.emit``.
``adapters/repository.py`` implements them on SQL, ``adapters/memory.py`` in memory for
unit tests; both keep the semantics written here.

Lists are keyset-paginated: ``find`` returns up to ``limit`` items after the key
``after`` (the last item's key of the previous page), in that key's order.

Locks: ``lock=True`` holds a programme's or a pair's row until the unit of work ends
(on SQL, ``SELECT ... FOR UPDATE``; SQLite serialises writers anyway). Every use case
that changes pairs locks the programme first, so capacity and "one pair per mentee"
are decided one unit at a time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.mentoring.domain.model import (
    ClusterChange,
    ClusterCopy,
    ClusterStatusChange,
    Enrolment,
    Feedback,
    Goal,
    LabelAward,
    Meeting,
    Pair,
    PairStatus,
    PersonChange,
    PersonCopy,
    Programme,
    ProgrammeStatus,
    Publication,
    Role,
    Session,
)
from shared.uow import Transaction, UnitOfWork

TimeKey = tuple[datetime, str]
"""A keyset key: (a time, an id)."""


@dataclass(frozen=True)
class PairQuery:
    programme_id: str | None = None
    status: PairStatus | None = None
    person_id: str | None = None
    """Only pairs this person is the mentor or mentee of."""


class Programmes(ABC):
    @abstractmethod
    def get(self, programme_id: str, *, lock: bool = False) -> Programme | None:
        """The programme, or None; ``lock`` holds it until the unit of work ends."""

    @abstractmethod
    def add(self, programme: Programme) -> None: ...

    @abstractmethod
    def save(self, programme: Programme) -> None:
        """Store the new state (``created_at`` kept)."""

    @abstractmethod
    def find(
        self, limit: int, after: TimeKey | None, status: ProgrammeStatus | None = None
    ) -> list[Programme]:
        """By (created_at, id); only those in ``status`` when given."""


class Enrolments(ABC):
    @abstractmethod
    def get(self, enrolment_id: str) -> Enrolment | None: ...

    @abstractmethod
    def of_person(self, programme_id: str, person_id: str) -> Enrolment | None:
        """The person's enrolment in the programme (at most one)."""

    @abstractmethod
    def add(self, enrolment: Enrolment) -> None: ...

    @abstractmethod
    def of_programme(self, programme_id: str, role: Role | None = None) -> list[Enrolment]:
        """Every enrolment of the programme (only ``role`` if given), by person id."""

    @abstractmethod
    def find(
        self, programme_id: str, role: Role | None, limit: int, after: TimeKey | None
    ) -> list[Enrolment]:
        """By (created_at, id)."""


class Pairs(ABC):
    @abstractmethod
    def get(self, pair_id: str, *, lock: bool = False) -> Pair | None: ...

    @abstractmethod
    def add_all(self, pairs: Sequence[Pair]) -> None:
        """Store new pairs (one statement)."""

    @abstractmethod
    def save(self, pair: Pair) -> None:
        """Store the new state (ids, score, reasons and ``created_at`` kept)."""

    @abstractmethod
    def discard_proposals(self, programme_id: str) -> int:
        """Delete the programme's pending proposals (a new matching replaces them)."""

    @abstractmethod
    def of_programme(self, programme_id: str, statuses: Sequence[PairStatus] = ()) -> list[Pair]:
        """The programme's pairs (only ``statuses`` if given), by (created_at, id)."""

    @abstractmethod
    def live_of_people(self, person_ids: Sequence[str], *, mentee_only: bool) -> list[Pair]:
        """Proposed and active pairs (of any programme) with one of ``person_ids`` as
        mentee (``mentee_only``) or as mentor or mentee, by id."""

    @abstractmethod
    def find(self, query: PairQuery, limit: int, after: TimeKey | None) -> list[Pair]:
        """By (created_at, id)."""


class Goals(ABC):
    @abstractmethod
    def get(self, goal_id: str) -> Goal | None: ...

    @abstractmethod
    def add(self, goal: Goal) -> None: ...

    @abstractmethod
    def save(self, goal: Goal, expected_version: int) -> bool:
        """Store the new state if the stored version is still ``expected_version``."""

    @abstractmethod
    def of_pairs(self, pair_ids: Sequence[str]) -> list[Goal]:
        """The goals of these pairs, by (created_at, id)."""


class Sessions(ABC):
    @abstractmethod
    def get(self, session_id: str) -> Session | None: ...

    @abstractmethod
    def add(self, session: Session) -> None: ...

    @abstractmethod
    def save(self, session: Session) -> None:
        """Store the new state (its pairs, people and ``created_at`` kept)."""

    @abstractmethod
    def of_programme(self, programme_id: str) -> list[Session]:
        """By (starts_at, id)."""

    @abstractmethod
    def find(
        self,
        programme_id: str | None,
        pair_id: str | None,
        limit: int,
        after: TimeKey | None,
    ) -> list[Session]:
        """The sessions of a programme, or those a pair takes part in, by (starts_at, id)."""


class Meetings(ABC):
    @abstractmethod
    def get(self, meeting_id: str) -> Meeting | None: ...

    @abstractmethod
    def add(self, meeting: Meeting) -> None: ...

    @abstractmethod
    def save(self, meeting: Meeting) -> None: ...

    @abstractmethod
    def of_programme(self, programme_id: str) -> list[Meeting]:
        """All of the programme's meetings, by (starts_at, id)."""

    @abstractmethod
    def find(self, programme_id: str, limit: int, after: TimeKey | None) -> list[Meeting]:
        """By (starts_at, id)."""


class FeedbackRepository(ABC):
    @abstractmethod
    def add(self, feedback: Feedback) -> None:
        """Store new feedback (one per author, pair and session or programme)."""

    @abstractmethod
    def given(self, pair_id: str, author_id: str, session_id: str | None) -> Feedback | None:
        """The author's feedback on that session (None: on the programme), if any."""

    @abstractmethod
    def of_pairs(self, pair_ids: Sequence[str]) -> list[Feedback]:
        """By (created_at, id)."""


class People(ABC):
    """The read copy of the registry's people; a removed person stays as a tombstone
    (no personal data), so that a late update cannot bring them back."""

    @abstractmethod
    def get(self, person_id: str) -> PersonCopy | None: ...

    @abstractmethod
    def many(self, person_ids: Sequence[str]) -> dict[str, PersonCopy]:
        """The known people (tombstones included) among ``person_ids``."""

    @abstractmethod
    def in_cluster(self, cluster_id: str) -> list[str]:
        """The ids of the (not removed) people of the cluster, in order."""

    @abstractmethod
    def keep_newest(self, changes: Sequence[PersonChange]) -> None:
        """Keep the newest copy of each person: a change older than the copy, or to a
        removed person, is ignored; of two at the same time the later one wins."""

    @abstractmethod
    def forget(self, person_id: str, at: datetime) -> None:
        """Drop the person's data and keep a tombstone (also for someone never seen)."""


class Clusters(ABC):
    """The read copy of the registry's clusters. Details and status are ordered
    separately (each with its own time), so an old status never undoes a newer one and
    an old description never undoes newer details; a removed cluster is a tombstone."""

    @abstractmethod
    def get(self, cluster_id: str) -> ClusterCopy | None: ...

    @abstractmethod
    def many(self, cluster_ids: Sequence[str]) -> dict[str, ClusterCopy]: ...

    @abstractmethod
    def keep_newest(self, changes: Sequence[ClusterChange]) -> None:
        """Details (and the status they carry) newer than the copy's."""

    @abstractmethod
    def set_status(self, change: ClusterStatusChange) -> bool:
        """Apply a status change newer than the copy's status; True if applied."""

    @abstractmethod
    def forget(self, cluster_id: str, at: datetime) -> None:
        """A tombstone (inactive, removed)."""

    @abstractmethod
    def add_label(self, award: LabelAward) -> bool:
        """Keep the label with the cluster's copy (once per label id; a removed cluster's
        tombstone takes none); a cluster not seen yet gets a copy holding its name and
        the label, active (the registry awards labels to active clusters only). True if
        the label was new."""


class Portfolios(ABC):
    """Programmes' portfolios: which are published, and the PDFs made of them (one per
    programme and language, kept with the fingerprint of the data it was made from)."""

    @abstractmethod
    def publication(self, programme_id: str) -> Publication | None: ...

    @abstractmethod
    def publish(self, publication: Publication) -> None: ...

    @abstractmethod
    def unpublish(self, programme_id: str) -> None: ...

    @abstractmethod
    def rendered(self, programme_id: str, language: str, fingerprint: str) -> bytes | None:
        """The PDF made from the data with ``fingerprint``, if it is the one kept."""

    @abstractmethod
    def keep_rendered(
        self, programme_id: str, language: str, fingerprint: str, content: bytes
    ) -> None:
        """Keep this PDF in place of any earlier one of the programme and language."""


class MentoringTx(Transaction):
    """One unit of work of the mentoring service."""

    programmes: Programmes
    enrolments: Enrolments
    pairs: Pairs
    goals: Goals
    sessions: Sessions
    meetings: Meetings
    feedback: FeedbackRepository
    people: People
    clusters: Clusters
    portfolios: Portfolios


MentoringUnitOfWork = UnitOfWork[MentoringTx]
