"""A person's own view on fakes: their registrations, their calendar and its secret
feed; and the participant list with who registered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from services.events import operations as ops
from services.events.calendar import events_calendar
from services.events.domain.commands import (
    CancelRegistration,
    CloseCalendarFeed,
    ForgetPerson,
    KeepClusters,
    KeepPeople,
    OpenCalendarFeed,
)
from services.events.domain.model import ClusterChange, RegistrationStatus
from services.events.domain.ports import ParticipantQuery
from shared.errors import NotFound
from tests.unit.events.conftest import T0, Uow, change, in_days, known, published, register


def keys(uow: Uow, person_id: str, limit: int = 20) -> list[tuple[str, str]]:
    """(event title, registration status) of the person's registrations, every page."""
    found, after, at = [], None, datetime.now(UTC)
    while True:
        page = ops.own_registrations(uow, person_id, at, limit + 1, after)
        found += page[:limit]
        if len(page) <= limit:
            return [(own.event.title, own.registration.status.value) for own in found]
        last = page[limit - 1]
        after = (last.event.ends_at <= at, last.event.starts_at, last.registration.id)


def took_place(uow: Uow, event_id: str, days_ago: int) -> None:
    """Move the (published) event into the past: it ended ``days_ago`` days ago."""
    with uow.begin() as tx:
        event = tx.events.get(event_id)
        assert event is not None
        ends = datetime.now(UTC) - timedelta(days=days_ago)
        tx.events.save(replace(event, starts_at=ends - timedelta(hours=8), ends_at=ends))


# -- own registrations ---------------------------------------------------------------
def test_own_registrations_are_theirs_only_upcoming_first_then_the_latest_past(
    uow: Uow,
) -> None:
    me, other = known(uow, "me", "other")
    soon = published(uow, title="Soon", starts_at=in_days(5), ends_at=in_days(6))
    later = published(uow, title="Later", starts_at=in_days(50), ends_at=in_days(51))
    long_ago = published(uow, title="Long ago", starts_at=in_days(10), ends_at=in_days(11))
    recent = published(uow, title="Recent", starts_at=in_days(20), ends_at=in_days(21))
    full = published(uow, title="Full", capacity=1, starts_at=in_days(8), ends_at=in_days(9))
    for event in (later, soon, long_ago, recent):
        register(uow, event, me)
        register(uow, event, other)
    register(uow, full, other)
    register(uow, full, me)  # waitlisted behind the other person
    took_place(uow, long_ago.id, days_ago=30)
    took_place(uow, recent.id, days_ago=2)
    mine = ops.own_registrations(uow, me, datetime.now(UTC), 20, None)
    assert {own.registration.person_id for own in mine} == {me}
    assert [(own.event.title, own.registration.status.value) for own in mine] == [
        ("Soon", "confirmed"),
        ("Full", "waitlisted"),
        ("Later", "confirmed"),
        ("Recent", "confirmed"),
        ("Long ago", "confirmed"),
    ]
    assert [own.waitlist_position for own in mine] == [None, 1, None, None, None]
    assert keys(uow, me, limit=2) == keys(uow, me)  # pages join up, across both parts
    assert keys(uow, me, limit=1) == keys(uow, me)
    assert ops.own_registrations(uow, "nobody", datetime.now(UTC), 20, None) == []


def test_own_registrations_include_the_cancelled_ones(uow: Uow) -> None:
    me = known(uow, "me")[0]
    event = published(uow)
    registration = register(uow, event, me)
    ops.cancel_registration(uow, CancelRegistration(event.id, registration.id))
    again = register(uow, event, me)
    mine = ops.own_registrations(uow, me, datetime.now(UTC), 20, None)
    # one event: its registrations come by id
    assert [(own.registration.id, own.registration.status) for own in mine] == sorted(
        [(registration.id, RegistrationStatus.CANCELLED), (again.id, RegistrationStatus.CONFIRMED)]
    )


# -- the calendar and its feed -------------------------------------------------------
def test_the_calendar_holds_the_events_with_a_seat_taken_or_used(uow: Uow) -> None:
    me, other = known(uow, "me", "other")
    seated = published(uow, title="Seated", starts_at=in_days(5), ends_at=in_days(6))
    waiting = published(uow, title="Waiting", capacity=1)
    left = published(uow, title="Left")
    theirs = published(uow, title="Theirs")
    register(uow, seated, me)
    register(uow, waiting, other)
    register(uow, waiting, me)
    ops.cancel_registration(uow, CancelRegistration(left.id, register(uow, left, me).id))
    register(uow, theirs, other)
    events = ops.own_calendar(uow, me)
    assert [event.title for event in events] == ["Seated"]
    calendar = Calendar.from_ical(events_calendar(events, "Booster Track"))
    assert [str(entry["SUMMARY"]) for entry in calendar.walk("VEVENT")] == ["Seated"]
    assert str(calendar["X-WR-CALNAME"]) == "Booster Track"
    assert {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")} == {"Europe/Paris"}


def test_a_feed_serves_its_person_calendar_until_revoked(uow: Uow) -> None:
    me, other = known(uow, "me", "other")
    mine, theirs = published(uow, title="Mine"), published(uow, title="Theirs")
    register(uow, mine, me)
    register(uow, theirs, other)
    secret, created_at = ops.open_calendar_feed(uow, OpenCalendarFeed(me))
    assert len(secret) >= 43 and created_at.tzinfo is not None
    ((stored_hash, _),) = uow.tx.feeds.rows.values()
    assert secret not in stored_hash  # only a hash is kept
    assert [event.title for event in ops.feed_calendar(uow, secret)] == ["Mine"]
    with pytest.raises(NotFound):
        ops.feed_calendar(uow, secret + "x")
    newer, _ = ops.open_calendar_feed(uow, OpenCalendarFeed(me))  # replaces the first
    with pytest.raises(NotFound):
        ops.feed_calendar(uow, secret)
    assert [event.title for event in ops.feed_calendar(uow, newer)] == ["Mine"]
    ops.close_calendar_feed(uow, CloseCalendarFeed(me))
    with pytest.raises(NotFound):
        ops.feed_calendar(uow, newer)
    ops.close_calendar_feed(uow, CloseCalendarFeed(me))  # revoking twice is fine
    assert uow.events[-1].type == "events.registration.confirmed"  # feeds emit nothing


def test_a_removed_person_feed_is_revoked(uow: Uow) -> None:
    me = known(uow, "me")[0]
    secret, _ = ops.open_calendar_feed(uow, OpenCalendarFeed(me))
    with uow.begin() as tx:
        ops.forget_person(tx, ForgetPerson(me, datetime.now(UTC)))
    with pytest.raises(NotFound):
        ops.feed_calendar(uow, secret)


# -- the participant list ------------------------------------------------------------
def test_the_participant_list_says_who_registered_and_filters_by_country_and_cluster(
    uow: Uow,
) -> None:
    with uow.begin() as tx:
        ops.keep_people(
            tx,
            KeepPeople(
                (
                    change("tn", cluster_id="c-tunis"),  # the cluster's country
                    change("fr", cluster_id="c-tunis", country="FR"),  # their own
                    change("es", cluster_id="c-madrid"),
                    change("none"),
                )
            ),
        )
        ops.keep_clusters(
            tx,
            KeepClusters(
                (
                    ClusterChange("c-tunis", "Tunis Agrifood", "TN", T0),
                    ClusterChange("c-madrid", "Clúster Madrid", "ES", T0),
                )
            ),
        )
    event = published(uow, capacity=2)
    for person_id in ("tn", "fr", "es", "none"):
        register(uow, event, person_id)

    def listed(**query: object) -> list[tuple[object, ...]]:
        found = ops.list_registrations(uow, event.id, ParticipantQuery(**query), 10, None)  # type: ignore[arg-type]
        return [
            (p.registration.person_id, p.country, p.cluster_name, p.waitlist_position)
            for p in found
        ]

    assert listed() == [
        ("tn", "TN", "Tunis Agrifood", None),
        ("fr", "FR", "Tunis Agrifood", None),
        ("es", "ES", "Clúster Madrid", 1),
        ("none", None, None, 2),
    ]
    assert listed(country="TN") == [("tn", "TN", "Tunis Agrifood", None)]
    assert [p[0] for p in listed(cluster_id="c-tunis")] == ["tn", "fr"]
    assert [p[0] for p in listed(status=RegistrationStatus.WAITLISTED, country="ES")] == ["es"]
    exported = ops.export_registrations(uow, event.id, ParticipantQuery(cluster_id="c-tunis"))
    assert [p.registration.person_id for p in exported] == ["tn", "fr"]
    with pytest.raises(NotFound):
        ops.export_registrations(uow, "nope", ParticipantQuery())
