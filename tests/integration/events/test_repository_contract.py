"""The in-memory repositories behave like the SQL ones: one scenario, the same answers.

The unit tests of the use cases trust the fakes (``services.events.adapters.memory``);
this runs the same use cases and repository calls on the fakes and on the real
databases (SQLite, PostgreSQL) and checks that each says the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import service_harness
from services.events import operations as ops
from services.events.adapters.memory import fake_uow
from services.events.domain.commands import (
    CancelRegistration,
    CreateEvent,
    ForgetCluster,
    ForgetPerson,
    KeepClusters,
    KeepPeople,
    PublishEvent,
    Register,
    UpdateEvent,
)
from services.events.domain.model import (
    AgendaItem,
    ClusterChange,
    ClusterCopy,
    EventFormat,
    EventKind,
    EventStatus,
    PersonChange,
    RegistrationStatus,
)
from services.events.domain.ports import EventQuery, EventsUnitOfWork, ParticipantQuery
from shared.testing import fresh_postgres_database
from tests.conftest import TEST_SECRET

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
V = TypeVar("V")
START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventsUnitOfWork]:
    """The fakes, or the SQL repositories on a migrated database of the test's own."""
    if request.param == "memory":
        yield fake_uow(platform_catalogue())
        return
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'contract.db'}"
        else:
            admin = request.getfixturevalue("postgres_admin_url")
            url = stack.enter_context(fresh_postgres_database(admin))
        harness = stack.enter_context(service_harness("events", url, tmp_path, TEST_SECRET))
        yield harness.runtime.uow


def present(value: V | None) -> V:
    assert value is not None
    return value


def _trip(title: str, days: int, capacity: int | None) -> CreateEvent:
    trip = capacity is not None
    return CreateEvent(
        kind=EventKind.BUSINESS_TRIP if trip else EventKind.WEBINAR,
        title=title,
        format=EventFormat.IN_PERSON,
        starts_at=START + timedelta(days=days),
        ends_at=START + timedelta(days=days, hours=8),
        timezone="Europe/Paris",
        capacity=capacity,
        city="Lyon",
        country="fr",
        agenda=(AgendaItem(START + timedelta(days=days, hours=1), "Visit", "Ana"),) * trip,
        sectors=(" Agri  Food", "textile", "agrifood") if trip else (),
        host_organisation="  Lyon  Hub " if trip else None,
    )


def _person(
    person_id: str, minutes: int, name: str, cluster_id: str = "cluster-1", country: str = ""
) -> PersonChange:
    at = T0 + timedelta(minutes=minutes)
    return PersonChange(
        person_id, name, f"{person_id}@example.org", "fr", at, cluster_id, country or None
    )


def _cluster(cluster_id: str, minutes: int, name: str, country: str | None) -> ClusterChange:
    return ClusterChange(cluster_id, name, country, T0 + timedelta(minutes=minutes))


def scenario(uow: EventsUnitOfWork) -> dict[str, Any]:
    """What the repositories answer along a short life of two events."""
    seen: dict[str, Any] = {}
    with uow.begin() as tx:
        ops.keep_people(
            tx,
            KeepPeople(
                (
                    _person("p1", 2, "Newest"),
                    _person("p2", 0, "Bea", "cluster-2", "ES"),
                    _person("p1", 1, "Older"),
                    _person("p3", 0, "Chen", "cluster-2"),
                    _person("p4", 0, "Dara", "cluster-3"),
                    _person("p5", 0, "Eli"),
                )
            ),
        )
        ops.keep_clusters(
            tx,
            KeepClusters(
                (
                    _cluster("cluster-1", 1, "Tunis Agrifood", "TN"),
                    _cluster("cluster-2", 0, "Clúster Madrid", "ES"),
                    _cluster("cluster-1", 0, "Stale", "MA"),
                )
            ),
        )
    with uow.begin() as tx:
        ops.keep_people(tx, KeepPeople((_person("p2", -1, "Stale"), _person("p3", 3, "Chen B."))))
        ops.forget_person(tx, ForgetPerson("p5", T0 + timedelta(minutes=5)))
        ops.forget_person(tx, ForgetPerson("ghost", T0))
    with uow.begin() as tx:
        ops.keep_people(tx, KeepPeople((_person("p5", 9, "Back?"),)))
        seen["people"] = {p: tx.people.get(p) for p in ("p1", "p2", "p3", "p5", "ghost", "x")}
        seen["locked"] = sorted(tx.people.locked(["p3", "x", "p1", "p1"]))
        ops.keep_clusters(tx, KeepClusters((_cluster("cluster-2", 2, "Madrid Cluster", "ES"),)))
        ops.forget_cluster(
            tx, ForgetCluster("cluster-2", "Madrid Cluster", T0 + timedelta(minutes=3))
        )
        ops.forget_cluster(tx, ForgetCluster("cluster-9", "Gone", T0))
    with uow.begin() as tx:
        ops.keep_clusters(tx, KeepClusters((_cluster("cluster-2", 9, "Back?", "FR"),)))
        seen["clusters"] = {c: tx.clusters.get(c) for c in ("cluster-1", "cluster-2", "cluster-9")}
        tx.feeds.put("p1", "hash-1", T0)
        tx.feeds.put("p2", "hash-2", T0)
        tx.feeds.put("p1", "hash-3", T0)  # a new feed replaces the old
        tx.feeds.remove("p2")
        tx.feeds.remove("nobody")
        seen["feeds"] = [tx.feeds.person_of(h) for h in ("hash-1", "hash-2", "hash-3")]

    lyon = ops.create_event(uow, _trip("  Lyon   trip ", 2, capacity=2))
    webinar = ops.create_event(uow, _trip("Webinar", 1, capacity=None))
    ops.publish_event(uow, PublishEvent(lyon.id))
    regs = {p: ops.register(uow, Register(lyon.id, p)) for p in ("p1", "p2", "p3", "p4")}
    seen["registered"] = {p: (r.status, r.sequence, place) for p, (r, place) in regs.items()}
    ops.cancel_registration(uow, CancelRegistration(lyon.id, regs["p1"][0].id))
    ops.register(uow, Register(lyon.id, "p1"))

    def page(status: RegistrationStatus | None, limit: int, after: int | None) -> list[Any]:
        placed = ops.list_registrations(uow, lyon.id, ParticipantQuery(status), limit, after)
        return [
            (p.registration.person_id, p.registration.status, p.registration.sequence, place)
            for p in placed
            for place in [p.waitlist_position]
        ]

    def who(**query: Any) -> list[Any]:
        listed = ops.list_registrations(uow, lyon.id, ParticipantQuery(**query), 10, None)
        return [
            (p.registration.person_id, p.name, p.email, p.country, p.cluster_id, p.cluster_name)
            for p in listed
        ]

    seen["registrations"] = page(None, 10, None)
    seen["waitlisted"] = page(RegistrationStatus.WAITLISTED, 10, None)
    seen["after 2"] = page(None, 2, 2)
    seen["participants"] = who()
    seen["from TN"] = [p[0] for p in who(country="TN")]
    seen["from ES"] = [p[0] for p in who(country="ES")]
    seen["cluster-2"] = [p[0] for p in who(cluster_id="cluster-2")]
    seen["waiting from TN"] = [
        p[0] for p in who(country="TN", status=RegistrationStatus.WAITLISTED)
    ]
    seen["placed p4"] = ops.get_registration(uow, lyon.id, regs["p4"][0].id)[1]
    with uow.read() as tx:
        seen["first waitlisted"] = present(tx.registrations.first_waitlisted(lyon.id)).person_id
        seen["active p3"] = present(tx.registrations.active(lyon.id, "p3")).status
        seen["active p2"] = tx.registrations.active(webinar.id, "p2")
        seen["events of p4"] = tx.registrations.active_event_ids_of("p4") == [lyon.id]
        seen["of event, active"] = [
            r.person_id
            for r in tx.registrations.of_event(
                lyon.id, [RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]
            )
        ]
        seen["placed elsewhere"] = tx.registrations.placed(webinar.id, regs["p4"][0].id)
        seen["no event"] = tx.events.get("nope")

    stored = ops.get_event(uow, lyon.id)
    seen["lyon"] = (stored.title, stored.country, stored.status, stored.confirmed, stored.version)
    seen["trip"] = (stored.agenda, stored.sectors, stored.host_organisation)
    seen["kept created_at"] = stored.created_at == lyon.created_at
    with uow.begin() as tx:
        tx.events.save(replace(stored, created_at=T0, title="Renamed"))
        renamed = present(tx.events.get(lyon.id))
        seen["save keeps created_at"] = (renamed.title, renamed.created_at == lyon.created_at)

    def listed(query: EventQuery, limit: int = 10, after: Any = None) -> list[str]:
        names = {lyon.id: "lyon", webinar.id: "webinar"}
        return [names[e.id] for e in ops.list_events(uow, query, limit, after)]

    seen["events"] = listed(EventQuery())
    seen["page 1"] = listed(EventQuery(), 1)
    seen["page 2"] = listed(EventQuery(), 1, (webinar.starts_at, webinar.id))
    seen["published"] = listed(EventQuery(status=EventStatus.PUBLISHED))
    seen["no drafts"] = listed(EventQuery(hide_drafts=True))
    seen["webinars"] = listed(EventQuery(kind=EventKind.WEBINAR))
    seen["from lyon"] = listed(EventQuery(starts_from=lyon.starts_at))
    seen["before lyon"] = listed(EventQuery(starts_before=lyon.starts_at))
    seen["agrifood"] = listed(EventQuery(sector="agri food"))
    seen["mining"] = listed(EventQuery(sector="mining"))
    seen["in FR"] = listed(EventQuery(country="FR"))
    seen["in TN"] = listed(EventQuery(country="TN"))

    # a capacity raised from 2 to 3 seats the first waiting (p4), sectors change
    raised = ops.update_event(
        uow, UpdateEvent(lyon.id, {"capacity": 3, "sectors": ("mining",)}, stored.version)
    )
    seen["raised"] = (raised.capacity, raised.confirmed, raised.version, raised.sectors)
    seen["after the raise"] = page(None, 10, None)
    seen["agrifood now"] = listed(EventQuery(sector="agrifood"))
    seen["mining now"] = listed(EventQuery(sector="mining"))

    # a person's own registrations: upcoming events first, then past ones
    ops.publish_event(uow, PublishEvent(webinar.id))
    ops.register(uow, Register(webinar.id, "p4"))
    at = START + timedelta(days=1, hours=9)  # the webinar is over, lyon is to come
    names = {lyon.id: "lyon", webinar.id: "webinar"}
    with uow.read() as tx:
        everything = tx.registrations.of_person("p4", at, 10, None)
        seen["own p4"] = [
            (names[o.event.id], o.registration.status, o.waitlist_position) for o in everything
        ]
        first = everything[0]
        key = (False, first.event.starts_at, first.registration.id)
        seen["own p4, page 2"] = [
            names[o.event.id] for o in tx.registrations.of_person("p4", at, 1, key)
        ]
        last = everything[-1]
        key = (True, last.event.starts_at, last.registration.id)
        seen["own p4, after the last"] = tx.registrations.of_person("p4", at, 10, key)
        seen["own p4, all upcoming"] = [
            names[o.event.id] for o in tx.registrations.of_person("p4", START, 10, None)
        ]
        seen["calendar of p4"] = [
            names[e.id]
            for e in tx.registrations.events_of(
                "p4", [RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED]
            )
        ]
        seen["waiting p1"] = [
            names[e.id] for e in tx.registrations.events_of("p1", [RegistrationStatus.WAITLISTED])
        ]
        seen["attended p1"] = tx.registrations.events_of("p1", [RegistrationStatus.ATTENDED])
    return seen


def test_the_fakes_answer_as_the_database_does(uow: EventsUnitOfWork) -> None:
    seen = scenario(uow)
    people = seen.pop("people")
    assert {
        p: (c.name, c.removed, c.cluster_id, c.country) if c else None for p, c in people.items()
    } == {
        "p1": ("Newest", False, "cluster-1", None),
        "p2": ("Bea", False, "cluster-2", "ES"),
        "p3": ("Chen B.", False, "cluster-1", None),
        "p5": (None, True, None, None),
        "ghost": (None, True, None, None),
        "x": None,
    }
    trip = seen.pop("trip")
    assert trip == (
        (AgendaItem(START + timedelta(days=2, hours=1), "Visit", "Ana"),),
        ("agri food", "textile", "agrifood"),
        "Lyon Hub",
    )
    confirmed, waitlisted, cancelled = (
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.CANCELLED,
    )
    assert seen == {
        "locked": ["p1", "p3"],
        "registered": {
            "p1": (confirmed, 1, None),
            "p2": (confirmed, 2, None),
            "p3": (waitlisted, 3, 1),
            "p4": (waitlisted, 4, 2),
        },
        "registrations": [
            ("p1", cancelled, 1, None),
            ("p2", confirmed, 2, None),
            ("p3", confirmed, 3, None),
            ("p4", waitlisted, 4, 1),
            ("p1", waitlisted, 5, 2),
        ],
        "waitlisted": [("p4", waitlisted, 4, 1), ("p1", waitlisted, 5, 2)],
        "after 2": [("p3", confirmed, 3, None), ("p4", waitlisted, 4, 1)],
        "placed p4": 1,
        "first waitlisted": "p4",
        "active p3": confirmed,
        "active p2": None,
        "events of p4": True,
        "of event, active": ["p2", "p3", "p4", "p1"],
        "placed elsewhere": None,
        "no event": None,
        "lyon": ("Lyon trip", "FR", EventStatus.PUBLISHED, 2, 2),
        "kept created_at": True,
        "save keeps created_at": ("Renamed", True),
        "events": ["webinar", "lyon"],
        "page 1": ["webinar"],
        "page 2": ["lyon"],
        "published": ["lyon"],
        "no drafts": ["lyon"],
        "webinars": ["webinar"],
        "from lyon": ["lyon"],
        "before lyon": ["webinar"],
        "clusters": {
            "cluster-1": ClusterCopy("cluster-1", "Tunis Agrifood", "TN", removed=False),
            "cluster-2": ClusterCopy("cluster-2", "Madrid Cluster", "ES", removed=True),
            "cluster-9": ClusterCopy("cluster-9", "Gone", None, removed=True),
        },
        "feeds": [None, None, "p1"],
        "participants": [
            ("p1", "Newest", "p1@example.org", "TN", "cluster-1", "Tunis Agrifood"),
            ("p2", "Bea", "p2@example.org", "ES", "cluster-2", "Madrid Cluster"),
            ("p3", "Chen B.", "p3@example.org", "TN", "cluster-1", "Tunis Agrifood"),
            ("p4", "Dara", "p4@example.org", None, "cluster-3", None),
            ("p1", "Newest", "p1@example.org", "TN", "cluster-1", "Tunis Agrifood"),
        ],
        "from TN": ["p1", "p3", "p1"],
        "from ES": ["p2"],
        "cluster-2": ["p2"],
        "waiting from TN": ["p1"],
        "agrifood": ["lyon"],
        "mining": [],
        "in FR": ["webinar", "lyon"],
        "in TN": [],
        "raised": (3, 3, 3, ("mining",)),
        "after the raise": [
            ("p1", cancelled, 1, None),
            ("p2", confirmed, 2, None),
            ("p3", confirmed, 3, None),
            ("p4", confirmed, 4, None),
            ("p1", waitlisted, 5, 1),
        ],
        "agrifood now": [],
        "mining now": ["lyon"],
        "own p4": [("lyon", confirmed, None), ("webinar", confirmed, None)],
        "own p4, page 2": ["webinar"],
        "own p4, after the last": [],
        "own p4, all upcoming": ["webinar", "lyon"],
        "calendar of p4": ["webinar", "lyon"],
        "waiting p1": ["lyon"],
        "attended p1": [],
    }
