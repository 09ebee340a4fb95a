"""The mentoring service's read path (``shared.reads``): list and detail JSON from the
columns.

Each projection names the fields of one response schema of ``schemas.py``, in its order
(``api.py`` checks them against the schemas at import; ``tests/integration/mentoring/
test_fast_reads.py`` compares the bytes with the schema's dump of the same rows). The
lists' filters and orders mean what the repository's ``find`` methods do
(``adapters/repository.py``). Routes whose output needs the domain's rules (a ``self``
token's own pairs, sessions and goals, the report, the portfolio) stay on the use cases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam

from services.mentoring.adapters.tables import enrolments, meetings, pairs, programmes
from shared.reads import From, Listing, Lookup, Projection, aware, by_time


# -- converters ---------------------------------------------------------------------------
def _aware_or_none(value: Any) -> Any:
    return None if value is None else aware(value)


def _levels(stored: list[list[Any]]) -> list[dict[str, Any]]:
    """An enrolment's ``[[competency, level], ...]`` as ``CompetencyLevel`` dumps them."""
    return [{"competency": competency, "level": int(level)} for competency, level in stored]


# -- projections (the fields of schemas.py, in order) ----------------------------------------
PROGRAMME = Projection(
    id=programmes.c.id,
    name=programmes.c.name,
    edition=programmes.c.edition,
    organiser=programmes.c.organiser,
    starts_on=programmes.c.starts_on,
    ends_on=programmes.c.ends_on,
    competencies=programmes.c.competencies,
    status=programmes.c.status,
    version=programmes.c.version,
    created_at=From(aware, programmes.c.created_at),
    updated_at=From(aware, programmes.c.updated_at),
)

ENROLMENT = Projection(
    id=enrolments.c.id,
    programme_id=enrolments.c.programme_id,
    person_id=enrolments.c.person_id,
    role=enrolments.c.role,
    languages=enrolments.c.languages,
    competencies=From(_levels, enrolments.c.competencies),
    sectors=enrolments.c.sectors,
    availability=enrolments.c.availability,
    capacity=enrolments.c.capacity,
    created_at=From(aware, enrolments.c.created_at),
)

PAIR = Projection(
    id=pairs.c.id,
    programme_id=pairs.c.programme_id,
    mentor_id=pairs.c.mentor_id,
    mentee_id=pairs.c.mentee_id,
    status=pairs.c.status,
    score=pairs.c.score,  # rounded to 3 places: written as json.dumps writes it
    reasons=pairs.c.reasons,
    manual=From(bool, pairs.c.manual),
    end_reason=pairs.c.end_reason,
    version=pairs.c.version,
    created_at=From(aware, pairs.c.created_at),
    confirmed_at=From(_aware_or_none, pairs.c.confirmed_at),
    ended_at=From(_aware_or_none, pairs.c.ended_at),
)

MEETING = Projection(
    id=meetings.c.id,
    programme_id=meetings.c.programme_id,
    title=meetings.c.title,
    starts_at=From(aware, meetings.c.starts_at),
    ends_at=From(aware, meetings.c.ends_at),
    timezone=meetings.c.timezone,
    online_link=meetings.c.online_link,
    agenda=meetings.c.agenda,
    person_ids=meetings.c.person_ids,
    status=meetings.c.status,
    cancel_reason=meetings.c.cancel_reason,
    version=meetings.c.version,
    created_at=From(aware, meetings.c.created_at),
)


# -- programmes -----------------------------------------------------------------------------
PROGRAMMES = Listing(
    PROGRAMME, programmes, filters={"status": programmes.c.status == bindparam("status")}
)
PROGRAMMES_BY_CREATION = by_time(programmes.c.created_at, programmes.c.id)
PROGRAMME_BY_ID = Lookup(PROGRAMME, programmes, programmes.c.id == bindparam("id"))
PROGRAMME_EXISTS = Lookup(
    Projection(id=programmes.c.id), programmes, programmes.c.id == bindparam("id")
)


# -- a programme's enrolments, pairs and meetings ---------------------------------------------
ENROLMENTS = Listing(
    ENROLMENT,
    enrolments,
    where=[enrolments.c.programme_id == bindparam("programme_id")],
    filters={"role": enrolments.c.role == bindparam("role")},
)
ENROLMENTS_BY_CREATION = by_time(enrolments.c.created_at, enrolments.c.id)

PAIRS = Listing(
    PAIR,
    pairs,
    where=[pairs.c.programme_id == bindparam("programme_id")],
    filters={"status": pairs.c.status == bindparam("status")},
)
PAIRS_BY_CREATION = by_time(pairs.c.created_at, pairs.c.id)

MEETINGS = Listing(
    MEETING, meetings, where=[meetings.c.programme_id == bindparam("programme_id")], filters={}
)
MEETINGS_BY_START = by_time(meetings.c.starts_at, meetings.c.id)
MEETING_BY_ID = Lookup(MEETING, meetings, meetings.c.id == bindparam("id"))
