"""The portfolio's repository parts behave alike in memory and on SQL (SQLite,
PostgreSQL): the clusters copy's profile details and labels (newest details win, labels
once each, a label before its cluster, tombstones), people's role, publications and
the PDFs kept per fingerprint. One scenario, the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from booster.testing import service_harness
from services.mentoring import operations as ops
from services.mentoring.adapters.memory import fake_uow
from services.mentoring.domain.commands import (
    CreateProgramme,
    ForgetCluster,
    KeepClusters,
    KeepLabel,
    KeepPeople,
)
from services.mentoring.domain.model import (
    ClusterChange,
    Competency,
    LabelAward,
    LabelCopy,
    PersonChange,
    Publication,
)
from services.mentoring.domain.ports import MentoringUnitOfWork
from shared.testing import fresh_postgres_database
from tests.conftest import TEST_SECRET

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MentoringUnitOfWork]:
    if request.param == "memory":
        yield fake_uow(platform_catalogue())
        return
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'contract.db'}"
        else:
            admin = request.getfixturevalue("postgres_admin_url")
            url = stack.enter_context(fresh_postgres_database(admin))
        harness = stack.enter_context(service_harness("mentoring", url, tmp_path, TEST_SECRET))
        yield harness.runtime.uow


def _cluster(cid: str, minutes: int, **fields: Any) -> ClusterChange:
    data: dict[str, Any] = {"name": f"C {cid}", "country": "TN", "region": "mena"}
    data |= {"sectors": ("agrifood",), "active": True, **fields}
    return ClusterChange(id=cid, at=T0 + timedelta(minutes=minutes), **data)


def _label(cid: str, label_id: str, level: str = "gold", minutes: int = 5) -> KeepLabel:
    label = LabelCopy(label_id, "ESCA", level, date(2020, 1, 1), date(2022, 1, 1))
    return KeepLabel(LabelAward(cid, f"C {cid}", label, T0 + timedelta(minutes=minutes)))


def scenario(uow: MentoringUnitOfWork) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    with uow.begin() as tx:
        ops.keep_clusters(
            tx,
            KeepClusters(
                (
                    _cluster("a", 0, acronym="A", city="Tunis", kind="cluster", founded=2001),
                    _cluster("a", 2, city="Sfax", members_count=40, website="https://a.tn"),
                    _cluster("a", 1, city="Older", description="older"),
                    _cluster("gone", 0, description="soon gone"),
                )
            ),
        )
        ops.keep_people(
            tx,
            KeepPeople(
                (
                    PersonChange("p", "P", "fr", T0, "a", None, role="cluster_manager"),
                    PersonChange("q", "Q", "ar", T0, "a", None),
                )
            ),
        )
        for command in (
            _label("a", "l1"),
            _label("a", "l1"),
            _label("a", "l2", "silver"),
            _label("early", "l3"),
        ):
            ops.keep_label(tx, command)
        ops.forget_cluster(tx, ForgetCluster("gone", "C gone", T0 + timedelta(minutes=9)))
        seen["gone label"] = tx.clusters.add_label(_label("gone", "l4").award)
    # the registration of the cluster labelled early arrives after its label
    with uow.begin() as tx:
        ops.keep_clusters(tx, KeepClusters((_cluster("early", 0, city="Fès", kind="association"),)))
    with uow.read() as tx:
        seen["clusters"] = tx.clusters.many(["a", "early", "gone"])
        seen["people"] = {p.id: p.role for p in tx.people.many(["p", "q"]).values()}

    programme = ops.create_programme(
        uow,
        CreateProgramme("P", date(2026, 1, 1), date(2026, 12, 31), (Competency.FUNDING,)),
    )
    published = Publication(programme.id, T0, "operator")
    with uow.begin() as tx:
        seen["before"] = tx.portfolios.publication(programme.id)
        tx.portfolios.publish(published)
        tx.portfolios.keep_rendered(programme.id, "en", "f1", b"%PDF-1")
        tx.portfolios.keep_rendered(programme.id, "ar", "f1", b"%PDF-ar")
        tx.portfolios.keep_rendered(programme.id, "en", "f2", b"%PDF-2")
    with uow.read() as tx:
        seen["publication"] = tx.portfolios.publication(programme.id)
        seen["files"] = [
            tx.portfolios.rendered(programme.id, language, key)
            for language, key in (("en", "f1"), ("en", "f2"), ("ar", "f1"), ("fr", "f1"))
        ]
    with uow.begin() as tx:
        tx.portfolios.unpublish(programme.id)
    with uow.read() as tx:
        seen["after"] = tx.portfolios.publication(programme.id)
    return seen


def test_the_portfolio_repositories_agree(uow: MentoringUnitOfWork) -> None:
    seen = scenario(uow)
    a, early, gone = (seen["clusters"][key] for key in ("a", "early", "gone"))
    assert (a.acronym, a.city, a.founded, a.members_count, a.website, a.description) == (
        None,  # the newest details (minute 2) named no acronym nor founding year
        "Sfax",
        None,
        40,
        "https://a.tn",
        None,
    )
    assert [(label.id, label.level) for label in a.labels] == [("l1", "gold"), ("l2", "silver")]
    assert a.labels[0].valid_until == date(2022, 1, 1)
    assert (early.name, early.city, early.kind, early.active) == (
        "C early",
        "Fès",
        "association",
        True,
    )
    assert [label.id for label in early.labels] == ["l3"]
    assert gone.removed and gone.description is None and gone.labels == ()
    assert seen["gone label"] is False
    assert seen["people"] == {"p": "cluster_manager", "q": None}
    assert seen["before"] is None and seen["after"] is None
    assert seen["publication"].published_by == "operator"
    assert seen["publication"].published_at == T0
    assert seen["files"] == [None, b"%PDF-2", b"%PDF-ar", None]
