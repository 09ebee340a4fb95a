"""The registry's read path (``shared.reads``): list and detail JSON from the columns.

Each projection names the fields of one response schema of ``schemas.py``, in its
order (``api.py`` checks them against the schemas at import; a test per route compares
the bytes with the schema's dump of the same rows). The lists' filters mean what the
repositories' do (``adapters/repository.py``), except ``q`` on PostgreSQL, which is
ranked (below).

Search (``q``). On PostgreSQL with pg_trgm, ``q`` matches the clusters (people) that
have a word similar to it in their name or acronym (name or email): trigram word
similarity at least ``pg_trgm.word_similarity_threshold`` (0.6 by default; every word
of ``q``, a word that starts with it, a typo), best match first
(``ORDER BY q <<-> search_text LIMIT n`` on a GiST trigram index, so the cost follows
the page, not the number of matches). Elsewhere (SQLite) it is a case-insensitive
substring match in name order.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import Float, String, bindparam, exists, or_, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.expression import ColumnElement

from services.registry.adapters.tables import (
    cluster_labels,
    cluster_sectors,
    clusters,
    countries,
    members,
    people,
)
from services.registry.domain.ports import search_text
from shared.reads import (
    Constant,
    Filter,
    From,
    Listing,
    Lookup,
    Order,
    Projection,
    Ranked,
    aware,
)


# -- converters ---------------------------------------------------------------------------
def _json_list(stored: str) -> Any:
    return [] if stored == "[]" else orjson.loads(stored)


def _labels(stored: str) -> list[dict[str, Any]]:
    """The row's copy of its labels (``repository._label_values``), as ``LabelSchema``
    dumps them (field order rebuilt, so the stored key order does not matter)."""
    if stored == "[]":
        return []
    return [_label(label) for label in orjson.loads(stored)]


def _label(label: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": label["id"],
        "scheme": label["scheme"],
        "level": label["level"],
        "awarded_on": label["awarded_on"],
        "valid_until": label["valid_until"],
    }


def _names(en: str, fr: str, ar: str) -> dict[str, str]:
    return {"en": en, "fr": fr, "ar": ar}


def _policy(summary: str | None, facts: str | None) -> dict[str, Any] | None:
    if not summary:
        return None
    return {"summary": summary, "facts": orjson.loads(facts or "[]")}


# -- projections (the fields of schemas.py, in order) ----------------------------------------
COUNTRY = Projection(
    code=countries.c.code,
    names=From(_names, countries.c.name_en, countries.c.name_fr, countries.c.name_ar),
    region=countries.c.region,
    programme=countries.c.programme,
    policy=From(_policy, countries.c.policy_summary, countries.c.policy_facts),
)

CLUSTER = Projection(
    id=clusters.c.id,
    name=clusters.c.name,
    acronym=clusters.c.acronym,
    country=clusters.c.country,
    region=clusters.c.region,
    city=clusters.c.city,
    kind=clusters.c.kind,
    sectors=From(_json_list, clusters.c.sectors),
    founded=clusters.c.founded,
    website=clusters.c.website,
    description=clusters.c.description,
    members_count=clusters.c.members_count,
    status=clusters.c.status,
    labels=From(_labels, clusters.c.labels),
    version=clusters.c.version,
    created_at=From(aware, clusters.c.created_at),
    updated_at=From(aware, clusters.c.updated_at),
)

MEMBER = Projection(
    id=members.c.id,
    cluster_id=members.c.cluster_id,
    name=members.c.name,
    size_class=members.c.size_class,
    sector=members.c.sector,
    country=members.c.country,
    joined_on=members.c.joined_on,
    left_on=members.c.left_on,
)

PERSON = Projection(
    id=people.c.id,
    name=people.c.name,
    email=people.c.email,
    language=people.c.language,
    cluster_id=people.c.cluster_id,
    country=people.c.country,
    role=people.c.role,
    phone=people.c.phone,
    status=Constant("active"),
    version=people.c.version,
    created_at=From(aware, people.c.created_at),
    updated_at=From(aware, people.c.updated_at),
)


# -- search ---------------------------------------------------------------------------------
def _like(value: str) -> dict[str, str]:
    """A literal, case-folded substring (``%`` and ``_`` match themselves)."""
    folded = search_text(value)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"pattern": f"%{escaped}%"}


def _folded(value: str) -> dict[str, str]:
    return {"q": search_text(value)}


Q = bindparam("q", type_=String)


def _substring(column: ColumnElement[str]) -> Filter:
    return Filter(column.like(bindparam("pattern", type_=String), escape="\\"), _like)


def _similar(column: ColumnElement[str]) -> Filter:
    """Trigram word similarity of ``q`` to ``column`` at least the threshold (pg_trgm's
    ``<%``, served by the GiST index of the migration 0004)."""
    return Filter(Q.op("<%", is_comparison=True)(column), _folded)


def _distance(column: ColumnElement[str]) -> ColumnElement[float]:
    """1 - word similarity of ``q`` to ``column`` (pg_trgm's ``<<->``, a GiST order)."""
    return Q.op("<<->", return_type=Float)(column)


_trigrams: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def ranks(connection: Connection) -> bool:
    """Whether ``q`` is ranked here: PostgreSQL with pg_trgm installed (asked once per
    engine; the migration installs it where the server has it)."""
    if connection.dialect.name != "postgresql":
        return False
    engine = connection.engine
    known = _trigrams.get(engine)
    if known is None:
        known = bool(
            connection.execute(
                text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            ).scalar()
        )
        _trigrams[engine] = known
    return known


# -- countries ------------------------------------------------------------------------------
COUNTRIES = Listing(
    COUNTRY,
    countries,
    filters={
        "region": countries.c.region == bindparam("region"),
        "programme": countries.c.programme == bindparam("programme"),
    },
)
BY_CODE = Order((countries.c.code,), (str,))
COUNTRY_BY_CODE = Lookup(COUNTRY, countries, countries.c.code == bindparam("code"))


# -- clusters -------------------------------------------------------------------------------
def _label_filter(level: str) -> dict[str, Any]:
    return {"label": level, "today": date.today()}


def _cluster_listing(q: Filter) -> Listing:
    today = bindparam("today")
    return Listing(
        CLUSTER,
        clusters,
        where=[clusters.c.deleted_at.is_(None)],
        filters={
            "country": clusters.c.country == bindparam("country"),
            "region": clusters.c.region == bindparam("region"),
            "sector": Filter(
                exists().where(
                    cluster_sectors.c.cluster_id == clusters.c.id,
                    cluster_sectors.c.sector_key == bindparam("sector"),
                ),
                lambda sector: {"sector": sector.casefold()},
            ),
            "label": Filter(
                exists().where(
                    cluster_labels.c.cluster_id == clusters.c.id,
                    cluster_labels.c.level == bindparam("label"),
                    cluster_labels.c.awarded_on <= today,
                    or_(
                        cluster_labels.c.valid_until.is_(None),
                        cluster_labels.c.valid_until >= today,
                    ),
                ),
                _label_filter,
            ),
            "status": clusters.c.status == bindparam("status"),
            "q": q,
        },
    )


CLUSTERS = _cluster_listing(_substring(clusters.c.search_text))
CLUSTERS_RANKED = _cluster_listing(_similar(clusters.c.search_text))
CLUSTERS_BY_NAME = Order((clusters.c.name, clusters.c.id), (str, str))
CLUSTERS_BY_MATCH = Ranked(_distance(clusters.c.search_text), (clusters.c.name, clusters.c.id))
CLUSTER_BY_ID = Lookup(
    CLUSTER, clusters, clusters.c.id == bindparam("id"), clusters.c.deleted_at.is_(None)
)
CLUSTER_LABELS = Lookup(
    Projection(labels=From(_labels, clusters.c.labels)),
    clusters,
    clusters.c.id == bindparam("id"),
    clusters.c.deleted_at.is_(None),
)
CLUSTER_EXISTS = Lookup(
    Projection(id=clusters.c.id),
    clusters,
    clusters.c.id == bindparam("id"),
    clusters.c.deleted_at.is_(None),
)


# -- members --------------------------------------------------------------------------------
MEMBERS = Listing(
    MEMBER,
    members,
    where=[members.c.cluster_id == bindparam("cluster_id")],
    filters={"current": Filter(members.c.left_on.is_(None), lambda _: {})},
)
MEMBERS_BY_NAME = Order((members.c.name, members.c.id), (str, str))


# -- people ---------------------------------------------------------------------------------
def _people_listing(q: Filter) -> Listing:
    return Listing(
        PERSON,
        people,
        where=[people.c.deleted_at.is_(None)],
        filters={
            "cluster_id": people.c.cluster_id == bindparam("cluster_id"),
            "role": people.c.role == bindparam("role"),
            "language": people.c.language == bindparam("language"),
            "q": q,
        },
    )


PEOPLE = _people_listing(_substring(people.c.search_text))
PEOPLE_RANKED = _people_listing(_similar(people.c.search_text))
PEOPLE_BY_NAME = Order((people.c.name, people.c.id), (str, str))
PEOPLE_BY_MATCH = Ranked(_distance(people.c.search_text), (people.c.name, people.c.id))
PERSON_BY_ID = Lookup(PERSON, people, people.c.id == bindparam("id"), people.c.deleted_at.is_(None))


# -- what the views call ----------------------------------------------------------------------
def country_page(
    connection: Connection, limit: int, cursor: str | None, **filters: Any
) -> dict[str, Any]:
    return COUNTRIES.page(connection, limit, cursor, BY_CODE, **filters)


def cluster_page(
    connection: Connection, limit: int, cursor: str | None, **filters: Any
) -> dict[str, Any]:
    """Clusters by name; with ``q`` on PostgreSQL, best match first (see above)."""
    if filters.get("q") is not None and ranks(connection):
        return CLUSTERS_RANKED.page(connection, limit, cursor, CLUSTERS_BY_MATCH, **filters)
    return CLUSTERS.page(connection, limit, cursor, CLUSTERS_BY_NAME, **filters)


def member_page(
    connection: Connection, cluster_id: str, current: bool, limit: int, cursor: str | None
) -> dict[str, Any]:
    return MEMBERS.page(
        connection, limit, cursor, MEMBERS_BY_NAME, cluster_id=cluster_id, current=current or None
    )


def person_page(
    connection: Connection, limit: int, cursor: str | None, **filters: Any
) -> dict[str, Any]:
    """People by name; with ``q`` on PostgreSQL, best match first (see above)."""
    if filters.get("q") is not None and ranks(connection):
        return PEOPLE_RANKED.page(connection, limit, cursor, PEOPLE_BY_MATCH, **filters)
    return PEOPLE.page(connection, limit, cursor, PEOPLE_BY_NAME, **filters)
