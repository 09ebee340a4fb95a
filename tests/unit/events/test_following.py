"""Following the registry's clusters and mentoring's meetings, on fakes: the cluster
read copy (a removed or deactivated cluster ends no registration), and a hosted
meeting that is rescheduled or cancelled."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services.events import operations as ops
from services.events.domain.commands import (
    CancelMeeting,
    ForgetCluster,
    HostMeeting,
    KeepClusters,
    MoveMeeting,
    UpdateEvent,
)
from services.events.domain.model import AgendaItem, ClusterChange, ClusterCopy, EventStatus
from tests.unit.events.conftest import T0, Uow, change, published, register, statuses
from tests.unit.events.test_people_and_meetings import host, keep, meeting


def clusters(uow: Uow, *changes: ClusterChange) -> None:
    with uow.begin() as tx:
        ops.keep_clusters(tx, KeepClusters(changes))


def forget_cluster(uow: Uow, cluster_id: str, name: str, at: datetime) -> None:
    with uow.begin() as tx:
        ops.forget_cluster(tx, ForgetCluster(cluster_id, name, at))


def cluster(uow: Uow, cluster_id: str) -> ClusterCopy | None:
    with uow.read() as tx:
        return tx.clusters.get(cluster_id)


def move(uow: Uow, command: HostMeeting) -> Any:
    with uow.begin() as tx:
        return ops.move_meeting(tx, MoveMeeting(command))


def cancel(uow: Uow, meeting_id: str = "m-1", reason: str | None = None) -> Any:
    with uow.begin() as tx:
        return ops.cancel_meeting(tx, CancelMeeting(meeting_id, reason, datetime.now(UTC)))


# -- the cluster read copy -----------------------------------------------------------
def test_the_newest_change_of_a_cluster_wins(uow: Uow) -> None:
    clusters(
        uow,
        ClusterChange("c1", "Tunis Agrifood", "TN", T0 + timedelta(minutes=2)),
        ClusterChange("c1", "Older", "TN", T0 + timedelta(minutes=1)),
    )
    clusters(uow, ClusterChange("c1", "Stale", "MA", T0))
    assert cluster(uow, "c1") == ClusterCopy("c1", "Tunis Agrifood", "TN")
    assert cluster(uow, "unknown") is None
    assert uow.events == []


def test_a_removed_cluster_keeps_its_name_and_its_people_stay_registered(uow: Uow) -> None:
    clusters(uow, ClusterChange("c1", "Tunis Agrifood", "TN", T0))
    keep(uow, change("p1", cluster_id="c1"))
    event = published(uow)
    register(uow, event, "p1")
    emitted = len(uow.events)
    forget_cluster(uow, "c1", "Tunis Agrifood", T0 + timedelta(minutes=1))
    clusters(uow, ClusterChange("c1", "Back?", "TN", T0 + timedelta(minutes=2)))
    assert cluster(uow, "c1") == ClusterCopy("c1", "Tunis Agrifood", "TN", removed=True)
    assert statuses(uow, event) == {"p1": "confirmed"}
    assert len(uow.events) == emitted


# -- a hosted meeting follows mentoring ----------------------------------------------
def test_a_rescheduled_meeting_moves_its_event_for_everyone(uow: Uow) -> None:
    keep(uow, change("p1"), change("p2"))
    command = meeting(["p1", "p2"])
    hosted = host(uow, command)
    emitted = len(uow.events)
    later = replace(
        command,
        starts_at=command.starts_at + timedelta(days=3),
        ends_at=command.ends_at + timedelta(days=3, hours=1),
        timezone="Europe/Rome",
    )
    moved = move(uow, later)
    assert (moved.starts_at, moved.ends_at, moved.timezone, moved.version) == (
        later.starts_at,
        later.ends_at,
        "Europe/Rome",
        hosted.version + 1,
    )
    assert uow.types()[emitted:] == ["events.event.rescheduled"]
    data = uow.events[-1].data
    assert data["person_ids"] == ["p1", "p2"]
    assert data["previous"]["starts_at"] == command.starts_at.isoformat()
    assert sorted(data["changed"]) == ["ends_at", "starts_at", "timezone"]
    # the same move again (another message with the same meeting) changes nothing
    assert move(uow, later) == ops.get_event(uow, hosted.id)
    assert len(uow.events) == emitted + 1


def test_a_move_registers_participants_added_since_and_carries_the_agenda(uow: Uow) -> None:
    keep(uow, change("p1"), change("p2"))
    command = meeting(["p1"])
    hosted = host(uow, command)
    with_agenda = ops.update_event(
        uow,
        UpdateEvent(
            hosted.id,
            {
                "agenda": (
                    AgendaItem(command.starts_at, "Welcome"),
                    AgendaItem(command.starts_at + timedelta(minutes=90), "Wrap-up"),
                )
            },
        ),
    )
    shorter = replace(
        command,
        person_ids=("p1", "p2"),
        starts_at=command.starts_at + timedelta(days=1),
        ends_at=command.starts_at + timedelta(days=1, hours=1),
    )
    moved = move(uow, shorter)
    # the agenda moves with the start; an item past the new end is dropped
    assert moved.agenda == (AgendaItem(shorter.starts_at, "Welcome"),)
    assert with_agenda.agenda[0].starts_at == command.starts_at
    assert statuses(uow, moved) == {"p1": "confirmed", "p2": "confirmed"}
    assert uow.types()[-2:] == ["events.event.rescheduled", "events.registration.confirmed"]
    assert uow.events[-1].data["event"]["starts_at"] == shorter.starts_at.isoformat()


def test_a_move_of_a_meeting_not_hosted_yet_hosts_it_as_it_is_now(uow: Uow) -> None:
    keep(uow, change("p1"))
    command = meeting(["p1"])
    moved = move(uow, replace(command, starts_at=command.starts_at + timedelta(hours=1)))
    assert moved.id == ops.hosted_event_id("m-1")
    assert moved.starts_at == command.starts_at + timedelta(hours=1)
    assert uow.types() == [
        "events.event.created",
        "events.event.published",
        "events.registration.confirmed",
    ]


def test_a_move_that_cannot_be_followed_is_left_and_changes_nothing(uow: Uow) -> None:
    keep(uow, change("p1"))
    command = meeting(["p1"])
    hosted = host(uow, command)
    emitted = len(uow.events)
    into_the_past = replace(
        command,
        starts_at=datetime.now(UTC) - timedelta(hours=2),
        ends_at=datetime.now(UTC) - timedelta(hours=1),
    )
    assert move(uow, into_the_past) is None
    assert ops.get_event(uow, hosted.id) == hosted and len(uow.events) == emitted
    cancel(uow)
    cancelled = ops.get_event(uow, hosted.id)
    assert move(uow, replace(command, title="Moved after all")) is None
    assert ops.get_event(uow, hosted.id) == cancelled


def test_a_cancelled_meeting_cancels_its_event_once(uow: Uow) -> None:
    keep(uow, change("p1"), change("p2"))
    hosted = host(uow, meeting(["p1", "p2"]))
    cancelled = cancel(uow, reason="The programme paused.")
    assert cancelled.status is EventStatus.CANCELLED
    assert statuses(uow, hosted) == {"p1": "cancelled", "p2": "cancelled"}
    assert uow.types()[-1] == "events.event.cancelled"
    data = uow.events[-1].data
    assert (data["reason"], data["person_ids"]) == ("The programme paused.", ["p1", "p2"])
    emitted = len(uow.events)
    assert cancel(uow) is None  # again: nothing to do
    assert cancel(uow, "never-hosted") is None
    assert len(uow.events) == emitted
