"""The programme portfolio on the in-memory repositories: the read copies that feed it
(profile details, labels, role), what it holds, its privacy rule, its order in each
language, its fingerprint, publishing, and the PDF made once per version of the data."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from services.mentoring import handlers
from services.mentoring import operations as ops
from services.mentoring.domain.commands import (
    ForgetCluster,
    ForgetPerson,
    KeepLabel,
    PublishPortfolio,
    UnpublishPortfolio,
)
from services.mentoring.domain.model import LabelAward, LabelCopy, PairStatus, Role
from services.mentoring.portfolio import operations as portfolio_ops
from services.mentoring.portfolio.content import Portfolio, fingerprint, scrub, web_address
from services.mentoring.portfolio.html import render_html
from services.mentoring.portfolio.pdf import render_pdf
from services.mentoring.portfolio.wording import sort_key, view
from shared.errors import InvalidTransition, NotFound
from tests.unit.mentoring.conftest import T0, Uow, cluster, enrol, matched, person, programme

LABEL = LabelCopy("l1", "ESCA Cluster Management Excellence", "gold", date(2020, 1, 1))


def _award(cluster_id: str, label: LabelCopy = LABEL, name: str = "Cluster") -> KeepLabel:
    return KeepLabel(LabelAward(cluster_id, name, label, T0 + timedelta(hours=1)))


def _cast(uow: Uow) -> str:
    """A running programme: a Spanish and a French mentor, Tunisian and Egyptian mentees
    (two in one Tunisian cluster), all paired."""
    pid = programme(uow).id
    cluster(uow, "c-es", "ES", name="Clúster Madrid", city="Madrid", kind="cluster")
    cluster(uow, "c-fr", "FR", name="Pôle Lyon", kind="competitiveness_pole")
    cluster(
        uow,
        "c-tn",
        "TN",
        name="Cluster Marbre",
        founded=2012,
        members_count=30,
        website="https://marbre.example.tn",
        description="Marble makers. Mail info@marbre.tn, phone +216 71 123 456.",
    )
    cluster(uow, "c-eg", "EG", name="ERECI")
    people = [
        ("m-es", "c-es", "Marta Puig", "cluster_manager"),
        ("m-fr", "c-fr", "Jean Roux", "expert"),
        ("e-tn-1", "c-tn", "Sami Gharbi", "governance_team"),
        ("e-tn-2", "c-tn", "Amel Jendoubi", "governance_team"),
        ("e-eg", "c-eg", "Mona Abdelrahman", None),
    ]
    for person_id, cluster_id, name, role in people:
        person(uow, person_id, cluster_id, name=name, role=role)
    enrol(uow, pid, "m-es", "mentor", capacity=2)
    enrol(uow, pid, "m-fr", "mentor", capacity=1)
    for mentee in ("e-tn-1", "e-tn-2", "e-eg"):
        enrol(uow, pid, mentee, "mentee")
    matched(uow, pid)
    with uow.begin() as tx:
        ops.keep_label(tx, _award("c-tn"))
    return pid


# -- the read copies -------------------------------------------------------------------
def test_the_clusters_copy_keeps_profile_details_labels_once_and_people_their_role(
    uow: Uow,
) -> None:
    cluster(uow, "c1", "TN", acronym="CM", city="Thala", founded=2012, description="Marble")
    person(uow, "p1", "c1", role="cluster_manager")
    with uow.begin() as tx:
        ops.keep_label(tx, _award("c1"))
        ops.keep_label(tx, _award("c1"))  # a redelivery
        ops.keep_label(tx, _award("c1", replace(LABEL, id="l2", level="silver")))
    copy = uow.tx.clusters.get("c1")
    assert copy is not None
    assert (copy.acronym, copy.city, copy.founded, copy.description) == (
        "CM",
        "Thala",
        2012,
        "Marble",
    )
    assert [label.id for label in copy.labels] == ["l1", "l2"]
    assert uow.tx.people.get("p1").role == "cluster_manager"  # type: ignore[union-attr]
    # a later change of details keeps the labels
    cluster(uow, "c1", "TN", at=T0 + timedelta(days=1), description="Marble and stone")
    copy = uow.tx.clusters.get("c1")
    assert copy is not None and copy.description == "Marble and stone" and len(copy.labels) == 2


def test_a_label_before_the_cluster_keeps_it_and_a_removed_cluster_takes_none(
    uow: Uow,
) -> None:
    with uow.begin() as tx:
        assert tx.clusters.add_label(_award("early", name="Early Cluster").award) is True
    copy = uow.tx.clusters.get("early")
    assert copy is not None and copy.name == "Early Cluster" and copy.active
    cluster(uow, "early", "MA", at=T0, city="Fès")  # the registration, older, arrives
    copy = uow.tx.clusters.get("early")
    assert copy is not None and copy.city == "Fès" and copy.labels == (LABEL,)

    cluster(uow, "gone", "MA", description="Soon removed")
    with uow.begin() as tx:
        ops.forget_cluster(tx, ForgetCluster("gone", "Gone", T0 + timedelta(days=2)))
        assert tx.clusters.add_label(_award("gone").award) is False
    tombstone = uow.tx.clusters.get("gone")
    assert tombstone is not None and tombstone.removed and tombstone.description is None


def test_the_handler_reads_a_label_award_and_the_cluster_details_from_the_events(
    uow: Uow,
) -> None:
    from booster.catalogue import platform_catalogue

    catalogue = platform_catalogue()
    registered = catalogue.make_event(
        "registry.cluster.registered",
        subject="c9",
        data={
            "id": "c9",
            "name": "Cluster Nine",
            "acronym": "C9",
            "country": "ma",
            "region": "mena",
            "city": "Rabat",
            "kind": "technopole",
            "sectors": ["ICT"],
            "founded": 2001,
            "website": "https://c9.example.ma",
            "members_count": 12,
            "status": "active",
            "description": "Nine.",
        },
    )
    awarded = catalogue.make_event(
        "registry.cluster.label_awarded",
        subject="c9",
        data={
            "cluster_id": "c9",
            "cluster_name": "Cluster Nine",
            "label": {
                "id": "l9",
                "scheme": "ESCA",
                "level": "silver",
                "awarded_on": "2020-02-01",
                "valid_until": "2022-02-01",
            },
        },
    )
    with uow.begin() as tx:
        handlers.HANDLERS["registry.cluster.registered"]([registered], tx)  # type: ignore[call-arg]
        handlers.HANDLERS["registry.cluster.label_awarded"](awarded, tx)  # type: ignore[call-arg]
    copy = uow.tx.clusters.get("c9")
    assert copy is not None
    assert (copy.country, copy.kind, copy.members_count, copy.website, copy.description) == (
        "MA",
        "technopole",
        12,
        "https://c9.example.ma",
        "Nine.",
    )
    assert copy.labels == (LabelCopy("l9", "ESCA", "silver", date(2020, 2, 1), date(2022, 2, 1)),)


# -- what a portfolio holds ------------------------------------------------------------
def test_a_portfolio_holds_the_programme_its_clusters_by_role_and_its_pairs(uow: Uow) -> None:
    pid = _cast(uow)
    content = portfolio_ops.portfolio(uow, pid)
    assert (content.name, content.edition, content.organiser) == (
        "Cluster Mentoring Reloaded",
        "2026",
        "ACCIÓ",
    )
    assert {p.name for p in content.mentors.profiles} == {"Clúster Madrid", "Pôle Lyon"}
    assert {p.name for p in content.mentees.profiles} == {"Cluster Marbre", "ERECI"}
    marbre = next(p for p in content.mentees.profiles if p.name == "Cluster Marbre")
    assert [p.name for p in marbre.people] == ["Amel Jendoubi", "Sami Gharbi"]
    assert {p.programme_role for p in marbre.people} == {Role.MENTEE}
    assert marbre.labels == (LABEL,) and marbre.website == "https://marbre.example.tn"
    assert len(content.pairs) == 3
    assert {line.mentor.name for line in content.pairs} == {"Marta Puig", "Jean Roux"}
    assert {line.mentee.name for line in content.pairs} == {
        "Sami Gharbi",
        "Amel Jendoubi",
        "Mona Abdelrahman",
    }


def test_people_and_clusters_the_registry_removed_and_pairs_that_ended_are_left_out(
    uow: Uow,
) -> None:
    pid = _cast(uow)
    ended = next(p for p in uow.tx.pairs.rows.values() if p.mentee_id == "e-eg")
    with uow.begin() as tx:
        tx.pairs.save(ended.end(T0, "stopped"))
        ops.forget_person(tx, ForgetPerson("m-fr", T0 + timedelta(days=1)))
        ops.forget_cluster(tx, ForgetCluster("c-tn", "Cluster Marbre", T0 + timedelta(days=1)))
    statuses = {p.mentee_id: p.status for p in uow.tx.pairs.rows.values()}
    assert statuses["e-eg"] is PairStatus.ENDED
    content = portfolio_ops.portfolio(uow, pid)
    assert {p.name for p in content.mentors.profiles} == {"Clúster Madrid"}  # Jean Roux removed
    assert content.pairs == ()  # one ended by hand, the others with their mentee's cluster
    # the mentee whose pair ended still took part (her cluster keeps its profile); the
    # removed cluster has no profile
    assert {p.name for p in content.mentees.profiles} == {"ERECI"}


def test_mentors_without_a_cluster_are_listed_with_their_country(uow: Uow) -> None:
    """As in the seeded 2021 programme: mentors registered with a country, no cluster."""
    pid = programme(uow).id
    cluster(uow, "c-tn", "TN", name="Cluster Marbre")
    person(uow, "m-it", None, name="Giulia Romano", country="IT", role="cluster_manager")
    person(uow, "m-ps", None, name="Ahmad Odeh", country="PS", role="cluster_manager")
    person(uow, "e-tn", "c-tn", name="Sami Gharbi", role="governance_team")
    enrol(uow, pid, "m-it", "mentor", capacity=1)
    enrol(uow, pid, "m-ps", "mentor", capacity=1)
    enrol(uow, pid, "e-tn", "mentee")
    matched(uow, pid)
    content = portfolio_ops.portfolio(uow, pid)
    assert content.mentors.profiles == () and content.mentors.people == 2
    assert [p.name for p in content.mentors.unattached] == ["Ahmad Odeh", "Giulia Romano"]
    [line] = content.pairs
    assert line.mentor_cluster is None and line.mentee_cluster == "Cluster Marbre"
    shown = view(content, "fr")
    mentors = shown.groups[0]
    assert mentors.unattached_heading == "Mentors sans cluster inscrit au registre (2)"
    assert [(p.name, p.title) for p in mentors.unattached] == [
        ("Giulia Romano", "Responsable de cluster · Mentor · Italie"),  # I before P
        ("Ahmad Odeh", "Responsable de cluster · Mentor · Palestine"),
    ]
    assert shown.summary == (
        "Mentors : 2 · leurs clusters : 0 · mentorés : 1 · leurs clusters : 1 · binômes : 1"
    )
    text = _text(render_pdf(content, "en"))
    assert "Mentors without a cluster in the registry (2)" in text
    assert "Giulia Romano — Cluster manager · Mentor · Italy" in text
    page = render_html(content, "en")
    assert "Mentors without a cluster in the registry (2)" in page
    assert "The mentors&#39; clusters" not in page  # no empty clusters heading


def test_contact_details_in_free_text_are_scrubbed_and_years_are_not() -> None:
    assert scrub("Mail info@marbre.tn, phone +216 71 123 456.") == "Mail …, phone …."
    assert scrub("Write to mailto:someone@example.org now") == "Write to … now"
    assert scrub("Call (0)1.23.45.67.89 or 0021671123456") == "Call … or …"
    assert scrub("A project from 2012-2016, 120 members, founded 2009") == (
        "A project from 2012-2016, 120 members, founded 2009"
    )
    assert scrub("ICT Association of Jordan (int@j)") == "ICT Association of Jordan (int@j)"
    assert scrub("   ") is None and scrub(None) is None
    assert web_address("https://marbre.example.tn/about") == "https://marbre.example.tn/about"
    for bad in ("mailto:x@y.org", "https://user@host.org", "javascript:alert(1)", "www.x.org"):
        assert web_address(bad) is None, bad
    assert web_address("https://x.org/?tel=0021671123456") is None


def test_the_description_reaches_the_portfolio_without_its_contact_details(uow: Uow) -> None:
    content = portfolio_ops.portfolio(uow, _cast(uow))
    marbre = next(p for p in content.mentees.profiles if p.name == "Cluster Marbre")
    assert marbre.description == "Marble makers. Mail …, phone …."


def test_each_group_is_sorted_by_country_in_the_language_shown(uow: Uow) -> None:
    content = portfolio_ops.portfolio(uow, _cast(uow))
    english = view(content, "en")
    assert [p.heading for p in english.groups[0].profiles] == [
        "Pôle Lyon",
        "Clúster Madrid",
    ]  # F, S
    assert [p.heading for p in english.groups[1].profiles] == ["ERECI", "Cluster Marbre"]  # E, T
    french = view(content, "fr")
    assert [p.heading for p in french.groups[0].profiles] == [
        "Clúster Madrid",
        "Pôle Lyon",
    ]  # Es, Fr
    assert [p.facts[0].value for p in french.groups[1].profiles] == ["Égypte", "Tunisie"]
    arabic = view(content, "ar")
    assert arabic.direction == "rtl" and [p.facts[0].value for p in arabic.groups[0].profiles] == [
        "إسبانيا",
        "فرنسا",
    ]
    assert sort_key("Égypte") < sort_key("Espagne") < sort_key("France")
    assert sort_key("الأردن") < sort_key("تونس") < sort_key("مصر")  # the article set aside
    people = next(p for p in english.groups[1].profiles if p.heading == "Cluster Marbre").people
    assert [(line.name, line.title) for line in people] == [
        ("Amel Jendoubi", "Governance team member · Mentee"),
        ("Sami Gharbi", "Governance team member · Mentee"),
    ]
    marbre = next(p for p in english.groups[1].profiles if p.heading == "Cluster Marbre")
    assert ("Labels", "ESCA Cluster Management Excellence (gold), awarded 1 January 2020") in {
        (fact.label, fact.value) for fact in marbre.facts
    }


def test_the_fingerprint_follows_what_is_shown(uow: Uow) -> None:
    content = portfolio_ops.portfolio(uow, _cast(uow))
    assert fingerprint(content) == fingerprint(portfolio_ops.portfolio(uow, content.programme_id))
    renamed = replace(
        content,
        mentees=replace(
            content.mentees,
            profiles=(replace(content.mentees.profiles[0], name="Renamed"),),
        ),
    )
    assert fingerprint(renamed) != fingerprint(content)
    assert fingerprint(content, "v2") != fingerprint(content, "v1")


# -- rendering -------------------------------------------------------------------------
def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def test_the_pdf_tells_the_portfolio_in_each_language(uow: Uow) -> None:
    content = portfolio_ops.portfolio(uow, _cast(uow))
    english = _text(render_pdf(content, "en"))
    assert "Portfolio of the participating clusters" in english and "Tunisia" in english
    assert "Who is matched with whom" in english and "Marble makers." in english
    french = _text(render_pdf(content, "fr"))
    assert "Portfolio des clusters participants" in french and "Égypte" in french
    arabic = render_pdf(content, "ar")
    assert b"/Lang (ar)" in arabic
    text = _text(arabic)
    assert "مصر" in text and "تونس" in text and "Cluster Marbre" in text
    assert render_pdf(content, "en") == render_pdf(content, "en")  # the content alone decides
    # an Arabic name in an English portfolio is shaped too (HarfBuzz only when needed)
    cluster(uow, "c-eg", "EG", at=T0 + timedelta(days=1), name="الخليل")
    mixed = _text(render_pdf(portfolio_ops.portfolio(uow, content.programme_id), "en"))
    assert "الخليل" in mixed and "Egypt" in mixed


def test_the_page_escapes_what_it_shows_and_reads_right_to_left_in_arabic(uow: Uow) -> None:
    pid = _cast(uow)
    cluster(uow, "c-eg", "EG", at=T0 + timedelta(days=1), name="<script>alert(1)</script>")
    content = portfolio_ops.portfolio(uow, pid)
    page = render_html(content, "ar")
    assert '<html lang="ar" dir="rtl">' in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="?format=pdf&amp;lang=ar"' in page


# -- the PDF, once per version of the data ------------------------------------------------
def test_the_pdf_is_made_once_per_version_of_the_data(uow: Uow) -> None:
    pid = _cast(uow)
    made: list[str] = []

    def renderer(content: Portfolio, language: str) -> bytes:
        made.append(language)
        return f"%PDF-{sorted(p.name for p in content.mentees.profiles)}-{language}".encode()

    def download(language: str = "en") -> tuple[bytes, bool]:
        content = portfolio_ops.portfolio(uow, pid)
        return portfolio_ops.pdf(uow, content, language, renderer, "v1")

    first, kept = download()
    assert not kept and made == ["en"]
    assert download() == (first, True) and made == ["en"]
    assert download("ar")[1] is False and made == ["en", "ar"]
    cluster(uow, "c-eg", "EG", at=T0 + timedelta(days=1), name="AAA Renamed")
    fresh, kept = download()
    assert not kept and b"AAA Renamed" in fresh and made == ["en", "ar", "en"]
    content = portfolio_ops.portfolio(uow, pid)
    assert portfolio_ops.pdf(uow, content, "en", renderer, "v2")[1] is False  # new renderer


# -- publishing ------------------------------------------------------------------------
def test_publishing_announces_once_and_unpublishing_takes_it_back(uow: Uow) -> None:
    pid = _cast(uow)
    before = len(uow.events)
    published = portfolio_ops.publish(uow, PublishPortfolio(pid, "operator"))
    assert published.published_by == "operator"
    assert portfolio_ops.publish(uow, PublishPortfolio(pid, "someone else")) == published
    [event] = uow.events[before:]
    assert (event.type, event.subject) == ("mentoring.portfolio.published", pid)
    assert event.data["url"] == f"/portfolios/{pid}"
    assert portfolio_ops.portfolio(uow, pid, published=True).programme_id == pid
    portfolio_ops.unpublish(uow, UnpublishPortfolio(pid))
    portfolio_ops.unpublish(uow, UnpublishPortfolio(pid))
    assert [e.type for e in uow.events[before:]] == [
        "mentoring.portfolio.published",
        "mentoring.portfolio.unpublished",
    ]
    with pytest.raises(NotFound):
        portfolio_ops.portfolio(uow, pid, published=True)
    assert portfolio_ops.publication(uow, pid) is None


def test_a_draft_or_an_unknown_programme_is_not_published(uow: Uow) -> None:
    draft = programme(uow, status="draft")
    with pytest.raises(InvalidTransition):
        portfolio_ops.publish(uow, PublishPortfolio(draft.id))
    assert uow.tx.portfolios.publications == {}
    for attempt in (
        lambda: portfolio_ops.publish(uow, PublishPortfolio("nope")),
        lambda: portfolio_ops.unpublish(uow, UnpublishPortfolio("nope")),
        lambda: portfolio_ops.portfolio(uow, "nope"),
    ):
        with pytest.raises(NotFound):
            attempt()
