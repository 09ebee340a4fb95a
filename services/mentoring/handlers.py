"""Events the mentoring service subscribes to, and their handlers.

It keeps its own read copies of the registry's people and clusters (a person's
language, cluster, country and role; a cluster's country, region, sectors, status, the
details its profile in a portfolio shows and its labels), so that enrolment, matching
and the portfolio never ask the registry. Changes are applied newest-first
by the registry's event time, so a redelivered or late event never overwrites a newer
one. Flow 5 of the design: a deactivated (or removed) cluster ends the active pairs of
its mentees, a removed person their pairs. Each handler turns the received data
(checked against the catalogue by the consumer) into a command and runs the use case
in the consumer's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from services.mentoring import operations as ops
from services.mentoring.domain.commands import (
    ChangeClusterStatus,
    ForgetCluster,
    ForgetPerson,
    KeepClusters,
    KeepLabel,
    KeepPeople,
)
from services.mentoring.domain.model import (
    ClusterChange,
    ClusterStatusChange,
    LabelAward,
    LabelCopy,
    PersonChange,
)
from services.mentoring.domain.ports import MentoringTx
from shared.bus.consumer import Handler, batched
from shared.events import CloudEvent


def keep_people(events: Sequence[CloudEvent], tx: MentoringTx) -> None:
    """registry.person.registered / .updated: the newest copy of each person (one
    statement for a run of events)."""
    ops.keep_people(tx, KeepPeople(tuple(_person(event_) for event_ in events)))


def person_removed(event_: CloudEvent, tx: MentoringTx) -> None:
    """registry.person.removed: a tombstone; their pairs end."""
    ops.forget_person(tx, ForgetPerson(event_.data["id"], event_.occurred_at))


def keep_clusters(events: Sequence[CloudEvent], tx: MentoringTx) -> None:
    """registry.cluster.registered / .updated: the newest details of each cluster."""
    ops.keep_clusters(tx, KeepClusters(tuple(_cluster(event_) for event_ in events)))


def cluster_deactivated(event_: CloudEvent, tx: MentoringTx) -> None:
    """registry.cluster.deactivated (flow 5): its mentees' active pairs end."""
    _status(event_, tx, active=False)


def cluster_reactivated(event_: CloudEvent, tx: MentoringTx) -> None:
    """registry.cluster.reactivated: the copy is active again (ended pairs stay ended)."""
    _status(event_, tx, active=True)


def cluster_removed(event_: CloudEvent, tx: MentoringTx) -> None:
    """registry.cluster.removed: like a deactivation, then a tombstone."""
    data = event_.data
    ops.forget_cluster(tx, ForgetCluster(data["id"], data["name"], event_.occurred_at))


def label_awarded(event_: CloudEvent, tx: MentoringTx) -> None:
    """registry.cluster.label_awarded: the label, for the cluster's profile."""
    data = event_.data
    label = data["label"]
    award = LabelAward(
        cluster_id=data["cluster_id"],
        cluster_name=data["cluster_name"],
        label=LabelCopy(
            id=label["id"],
            scheme=label["scheme"],
            level=label["level"],
            awarded_on=_day(label["awarded_on"]),
            valid_until=_day(label["valid_until"]) if label.get("valid_until") else None,
        ),
        at=event_.occurred_at,
    )
    ops.keep_label(tx, KeepLabel(award))


def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _status(event_: CloudEvent, tx: MentoringTx, *, active: bool) -> None:
    data = event_.data
    change = ClusterStatusChange(
        data["id"], data["name"], data["country"], active, event_.occurred_at
    )
    ops.change_cluster_status(tx, ChangeClusterStatus(change, data.get("reason")))


def _person(event_: CloudEvent) -> PersonChange:
    data = event_.data
    return PersonChange(
        id=data["id"],
        name=data["name"],
        language=data["language"],
        at=event_.occurred_at,
        cluster_id=data.get("cluster_id"),
        country=_code(data.get("country")),
        role=data.get("role"),
    )


def _cluster(event_: CloudEvent) -> ClusterChange:
    data = event_.data
    return ClusterChange(
        id=data["id"],
        name=data["name"],
        country=_code(data["country"]) or "",
        region=data["region"],
        sectors=tuple(sector.strip().lower() for sector in data["sectors"] if sector.strip()),
        active=data["status"] == "active",
        at=event_.occurred_at,
        acronym=data.get("acronym"),
        city=data.get("city"),
        kind=data.get("kind"),
        founded=data.get("founded"),
        members_count=data.get("members_count"),
        website=data.get("website"),
        description=data.get("description"),
    )


def _code(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code in upper case; anything else is not kept."""
    if country and len(country) == 2 and country.isalpha():
        return country.upper()
    return None


people_changed = batched(keep_people)
clusters_changed = batched(keep_clusters)

HANDLERS: Mapping[str, Handler] = {
    "registry.person.registered": people_changed,
    "registry.person.updated": people_changed,
    "registry.person.removed": person_removed,
    "registry.cluster.registered": clusters_changed,
    "registry.cluster.updated": clusters_changed,
    "registry.cluster.deactivated": cluster_deactivated,
    "registry.cluster.reactivated": cluster_reactivated,
    "registry.cluster.removed": cluster_removed,
    "registry.cluster.label_awarded": label_awarded,
}
"""Event type (or topic pattern) -> handler: the one declaration of what it consumes."""
