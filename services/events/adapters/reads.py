"""The events service's read path (``shared.reads``): list and detail JSON from the columns.

Each projection names the fields of one response schema of ``schemas.py``, in its order
(``api.py`` checks them against the schemas at import; ``tests/integration/events/
test_fast_reads.py`` compares the bytes with the schema's dump of the same rows). The
lists' filters and orders mean what the repository's do (``adapters/repository.py``:
``SqlEvents.find`` and ``SqlRegistrations.participants``), and a registration's place on
the waitlist is the repository's own expression.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, exists

from services.events.adapters.repository import PARTICIPANT_COUNTRY, WAITLIST_POSITION
from services.events.adapters.tables import clusters, event_sectors, events, people, registrations
from services.events.domain.model import EventStatus
from shared.reads import Filter, From, Listing, Lookup, Order, Projection, aware, by_time

MAX_SEQUENCE = 2**31 - 1
"""The largest registration sequence (an SQL INTEGER); a cursor beyond it is forged."""


# -- converters ---------------------------------------------------------------------------
def _json_list(stored: str) -> Any:
    """The agenda (``[{starts_at, title, speaker}]``, times as their ``isoformat()``, which
    is what the schema dumps) or the sectors, as stored."""
    return [] if stored == "[]" else orjson.loads(stored)


def _seats_left(capacity: int | None, confirmed: int) -> int | None:
    """``Event.seats_left``."""
    return None if capacity is None else max(capacity - confirmed, 0)


def _person(
    name: str | None,
    email: str | None,
    country: str | None,
    cluster_id: str | None,
    cluster_name: str | None,
) -> dict[str, str | None]:
    return {
        "name": name,
        "email": email,
        "country": country,
        "cluster_id": cluster_id,
        "cluster_name": cluster_name,
    }


def _aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


# -- projections (the fields of schemas.py, in order) ----------------------------------------
EVENT = Projection(
    id=events.c.id,
    kind=events.c.kind,
    title=events.c.title,
    format=events.c.format,
    starts_at=From(aware, events.c.starts_at),
    ends_at=From(aware, events.c.ends_at),
    timezone=events.c.timezone,
    capacity=events.c.capacity,
    seats_left=From(_seats_left, events.c.capacity, events.c.confirmed),
    confirmed=events.c.confirmed,
    city=events.c.city,
    country=events.c.country,
    online_link=events.c.online_link,
    registration_closes_at=From(_aware_or_none, events.c.registration_closes_at),
    description=events.c.description,
    agenda=From(_json_list, events.c.agenda),
    sectors=From(_json_list, events.c.sectors),
    host_organisation=events.c.host_organisation,
    status=events.c.status,
    version=events.c.version,
    created_at=From(aware, events.c.created_at),
    updated_at=From(aware, events.c.updated_at),
)

_REGISTRATION_FIELDS = {
    "id": registrations.c.id,
    "event_id": registrations.c.event_id,
    "person_id": registrations.c.person_id,
    "status": registrations.c.status,
    "waitlist_position": WAITLIST_POSITION,
    "created_at": From(aware, registrations.c.created_at),
    "promoted_at": From(_aware_or_none, registrations.c.promoted_at),
    "cancelled_at": From(_aware_or_none, registrations.c.cancelled_at),
    "cancel_reason": registrations.c.cancel_reason,
}
REGISTRATION = Projection(**_REGISTRATION_FIELDS)

PARTICIPANT = Projection(
    **_REGISTRATION_FIELDS,
    person=From(
        _person,
        people.c.name,
        people.c.email,
        PARTICIPANT_COUNTRY,
        people.c.cluster_id,
        clusters.c.name,
    ),
)


# -- events -----------------------------------------------------------------------------------
EVENTS = Listing(
    EVENT,
    events,
    filters={
        "kind": events.c.kind == bindparam("kind"),
        "status": events.c.status == bindparam("status"),
        "hide_drafts": Filter(events.c.status != EventStatus.DRAFT.value, lambda _: {}),
        "from_": events.c.starts_at >= bindparam("from_"),
        "to": events.c.starts_at < bindparam("to"),
        "country": events.c.country == bindparam("country"),
        "sector": exists().where(
            event_sectors.c.event_id == events.c.id,
            event_sectors.c.sector == bindparam("sector"),
        ),
    },
)
EVENTS_BY_START = by_time(events.c.starts_at, events.c.id)
EVENT_BY_ID = Lookup(EVENT, events, events.c.id == bindparam("id"))
EVENT_EXISTS = Lookup(Projection(id=events.c.id), events, events.c.id == bindparam("id"))


# -- registrations ------------------------------------------------------------------------------
def _sequence(cursor: list[Any]) -> list[Any]:
    """The sequence a cursor holds (1 up); a ValueError (a 422) beyond an SQL INTEGER."""
    if not 1 <= cursor[0] <= MAX_SEQUENCE:
        raise ValueError("out of range")
    return [int(cursor[0])]


PARTICIPANTS = Listing(
    PARTICIPANT,
    registrations.outerjoin(people, people.c.id == registrations.c.person_id).outerjoin(
        clusters, clusters.c.id == people.c.cluster_id
    ),
    where=[registrations.c.event_id == bindparam("event_id")],
    filters={
        "status": registrations.c.status == bindparam("status"),
        "country": PARTICIPANT_COUNTRY == bindparam("country"),
        "cluster_id": people.c.cluster_id == bindparam("cluster_id"),
    },
)
BY_SEQUENCE = Order((registrations.c.sequence,), (int,), from_cursor=_sequence)
REGISTRATION_BY_ID = Lookup(
    REGISTRATION,
    registrations,
    registrations.c.id == bindparam("id"),
    registrations.c.event_id == bindparam("event_id"),
)
