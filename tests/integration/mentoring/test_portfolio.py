"""The programme portfolio over HTTP (SQLite and PostgreSQL): a programme like the 2021
one (twelve mentee clusters, thirteen mentors' clusters, thirteen pairs) as a web page
and a PDF in English, French and Arabic; the privacy rule; the PDF kept per version of
the data and conditional requests; publishing at a URL that needs no token."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from markupsafe import escape
from pypdf import PdfReader

from booster.testing import ServiceHarness
from tests.integration.mentoring.conftest import READ, WRITE, call, deliver, registry_event
from tests.integration.mentoring.portfolio_data import (
    ALL_CLUSTERS,
    COUNTRIES,
    EMAIL,
    MENTEE_CLUSTERS,
    MENTOR_CLUSTERS,
    PHONE,
    Cast,
    cluster_id,
    the_2021_programme,
)

LANGUAGE_INDEX = {"en": 0, "fr": 1, "ar": 2}


@pytest.fixture
def cast(mentoring: ServiceHarness) -> Cast:
    return the_2021_programme(mentoring)


def _get(harness: ServiceHarness, path: str, *, scope: str = READ, **headers: str) -> Any:
    return harness.client.get(path, headers=harness.headers(scope, **headers))


def _portfolio(harness: ServiceHarness, pid: str, query: str = "", **headers: str) -> Any:
    response = _get(harness, f"/api/v1/programmes/{pid}/portfolio{query}", **headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def pdf_text(data: bytes) -> str:
    """The PDF's text (pypdf), white space runs as one space."""
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def page_text(markup: str) -> str:
    """The page's visible text: tags dropped, entities decoded, white space as one space."""
    without_style = re.sub(r"<style.*?</style>", " ", markup, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", without_style)).split())


def test_the_2021_programme_gives_a_pdf_with_every_cluster_and_country_in_english_and_french(
    mentoring: ServiceHarness, cast: Cast
) -> None:
    for language in ("en", "fr"):
        response = _portfolio(mentoring, cast.programme_id, f"?format=pdf&lang={language}")
        assert response.mimetype == "application/pdf"
        text = pdf_text(response.data)
        for cluster in ALL_CLUSTERS:
            assert cluster.name in text, (language, cluster.name)
            assert COUNTRIES[cluster.country][LANGUAGE_INDEX[language]] in text
        # the programme's title, edition, organiser and dates
        assert "Cluster Mentoring Reloaded" in text and "2021" in text and "ACCIÓ" in text
        dates = {"en": "11 January 2021", "fr": "11 janvier 2021"}[language]
        assert (
            dates in text and {"en": "29 October 2021", "fr": "29 octobre 2021"}[language] in text
        )
        # who is matched with whom, and role titles
        for person_id in cast.mentors + cast.mentees:
            assert cast.names[person_id] in text
        titles = {"en": ("Cluster manager", "Governance team member")}
        titles["fr"] = ("Responsable de cluster", "Membre de l'équipe de gouvernance")
        assert all(title in text for title in titles[language])
    assert len(MENTEE_CLUSTERS) == 12 and len(MENTOR_CLUSTERS) == 13


def test_the_arabic_pdf_holds_the_arabic_country_names_as_text(
    mentoring: ServiceHarness, cast: Cast
) -> None:
    response = _portfolio(mentoring, cast.programme_id, "?format=pdf&lang=ar")
    text = pdf_text(response.data)
    for code in {cluster.country for cluster in ALL_CLUSTERS}:
        assert COUNTRIES[code][2] in text, code
    assert "ملف التجمّعات المشاركة" in text  # the title, shaped text extracts as letters
    for cluster in ALL_CLUSTERS:  # names stay as the registry wrote them
        assert cluster.name in text, cluster.name


def test_the_page_groups_mentors_then_mentees_sorted_by_country_in_each_language(
    mentoring: ServiceHarness, cast: Cast
) -> None:
    for language in ("en", "fr", "ar"):
        markup = _portfolio(mentoring, cast.programme_id, f"?lang={language}").get_data(
            as_text=True
        )
        direction = "rtl" if language == "ar" else "ltr"
        assert f'<html lang="{language}" dir="{direction}">' in markup
        text = page_text(markup)
        mentors_at = markup.index('id="mentors"')
        mentees_at = markup.index('id="mentees"')
        assert mentors_at < mentees_at
        for group, start, end in (
            (MENTOR_CLUSTERS, mentors_at, mentees_at),
            (MENTEE_CLUSTERS, mentees_at, len(markup)),
        ):
            section = markup[start:end]
            positions = {
                cluster.key: section.index(str(escape(_heading(cluster)))) for cluster in group
            }
            countries = [
                COUNTRIES[cluster.country][LANGUAGE_INDEX[language]]
                for cluster in sorted(group, key=lambda cluster: positions[cluster.key])
            ]
            assert countries == sorted(countries, key=_collation), (language, countries)
        for cluster in ALL_CLUSTERS:
            assert cluster.name in text
            assert COUNTRIES[cluster.country][LANGUAGE_INDEX[language]] in text
    english = page_text(_portfolio(mentoring, cast.programme_id).get_data(as_text=True))
    assert "Founded 2016" in english.replace(":", "") and "Members 48" in english.replace(":", "")
    assert "ESCA Cluster Management Excellence (bronze), valid until 1 May 2021" in english
    assert "https://ereci.example.org" in english and "Competitiveness pole" in english


def _heading(cluster: Any) -> str:
    return f"{cluster.name} ({cluster.acronym})" if cluster.acronym else cluster.name


def _collation(name: str) -> str:
    from services.mentoring.portfolio.wording import sort_key

    return sort_key(name)


def test_no_email_address_or_phone_number_appears_in_the_page_or_the_pdf(
    mentoring: ServiceHarness, cast: Cast
) -> None:
    """The registry's people carry emails and phone numbers, and one cluster's description
    has both: none of it reaches a portfolio, in any language or format."""
    for language in ("en", "fr", "ar"):
        page = _portfolio(mentoring, cast.programme_id, f"?lang={language}").get_data(as_text=True)
        document = pdf_text(
            _portfolio(mentoring, cast.programme_id, f"?format=pdf&lang={language}").data
        )
        for text in (page_text(page), page, document):
            assert EMAIL.findall(text) == [], language
            assert PHONE.findall(text) == [], language
        # the description is there, without its contact details
        assert "Solar and wind companies working together." in document
        assert "(office hours)" in document
    assert EMAIL.search("contact@ereci.example.org") and PHONE.search("+20 2 2735 1234")


def test_the_pdf_is_made_once_per_version_of_the_data_and_conditional_requests_answer_304(
    mentoring: ServiceHarness, cast: Cast
) -> None:
    pid = cast.programme_id
    first = _portfolio(mentoring, pid, "?format=pdf")
    assert first.headers["X-Portfolio-Cache"] == "miss"
    again = _portfolio(mentoring, pid, "?format=pdf")
    assert again.headers["X-Portfolio-Cache"] == "hit"
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert first.headers["ETag"].startswith('W/"')
    # another language is another file, kept on its own
    assert _portfolio(mentoring, pid, "?format=pdf&lang=fr").headers["X-Portfolio-Cache"] == (
        "miss"
    )
    assert _portfolio(mentoring, pid, "?format=pdf").headers["X-Portfolio-Cache"] == "hit"

    for query in ("?format=pdf", ""):
        tag = _portfolio(mentoring, pid, query).headers["ETag"]
        unchanged = _get(
            mentoring, f"/api/v1/programmes/{pid}/portfolio{query}", **{"If-None-Match": tag}
        )
        assert unchanged.status_code == 304 and unchanged.data == b""
        assert unchanged.headers["ETag"] == tag
    html_tag = _portfolio(mentoring, pid).headers["ETag"]
    assert html_tag != first.headers["ETag"]  # format and language are part of the tag

    # the registry renames a participating cluster: a new version, made afresh
    renamed = "Maroc Numeric Cluster (MNC)"
    deliver(
        mentoring,
        registry_event(
            "registry.cluster.updated",
            {
                **_cluster_event_data("numeric", "MA", "Casablanca", name=renamed),
                "changed": ["name"],
            },
            at=datetime.now(UTC),
        ),
    )
    stale = _get(
        mentoring,
        f"/api/v1/programmes/{pid}/portfolio?format=pdf",
        **{"If-None-Match": first.headers["ETag"]},
    )
    assert stale.status_code == 200 and stale.headers["X-Portfolio-Cache"] == "miss"
    assert stale.headers["ETag"] != first.headers["ETag"]
    assert renamed in pdf_text(stale.data)
    assert _portfolio(mentoring, pid, "?format=pdf").headers["X-Portfolio-Cache"] == "hit"


def _cluster_event_data(key: str, country: str, city: str, **fields: Any) -> dict[str, Any]:
    from tests.integration.mentoring.conftest import cluster_data

    return cluster_data(cluster_id(key), country, city=city, **fields)


def test_content_negotiation_and_bad_parameters(mentoring: ServiceHarness, cast: Cast) -> None:
    pid = cast.programme_id
    by_accept = _portfolio(mentoring, pid, "", Accept="application/pdf")
    assert by_accept.mimetype == "application/pdf"
    assert by_accept.headers["Content-Disposition"] == (
        'inline; filename="portfolio-cluster-mentoring-reloaded-2021-en.pdf"'
    )
    assert _portfolio(mentoring, pid, "", Accept="text/html").mimetype == "text/html"
    assert _portfolio(mentoring, pid, "?format=html", Accept="application/pdf").mimetype == (
        "text/html"
    )
    for query, parameter in (("?lang=de", "lang"), ("?format=docx", "format")):
        response = _get(mentoring, f"/api/v1/programmes/{pid}/portfolio{query}")
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"][0]["parameter"] == parameter
    missing = _get(mentoring, "/api/v1/programmes/nope/portfolio")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert _get(mentoring, f"/api/v1/programmes/{pid}/portfolio", scope=WRITE).status_code == 403
    assert mentoring.client.get(f"/api/v1/programmes/{pid}/portfolio").status_code == 401


def test_a_published_portfolio_needs_no_token_and_an_unpublished_one_answers_404(
    mentoring: ServiceHarness, cast: Cast
) -> None:
    pid = cast.programme_id
    public = f"/portfolios/{pid}"
    assert mentoring.client.get(public).status_code == 404
    status = call(mentoring, "GET", f"/programmes/{pid}/portfolio/publication")
    assert status == {"programme_id": pid, "published": False, "published_at": None, "url": None}

    published = call(mentoring, "POST", f"/programmes/{pid}/portfolio/publish")
    assert published["published"] is True and published["url"] == public
    assert call(mentoring, "POST", f"/programmes/{pid}/portfolio/publish") == published
    [event] = [e for e in mentoring.events() if e.type == "mentoring.portfolio.published"]
    assert event.subject == pid
    assert event.data["url"] == public and event.data["pdf_url"] == f"{public}?format=pdf"
    assert event.data["programme_name"] == "Cluster Mentoring Reloaded"
    assert event.data["languages"] == ["en", "fr", "ar"]

    page = mentoring.client.get(public)  # no Authorization header at all
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Hebron Leather and Shoe Cluster" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "public, no-cache"
    document = mentoring.client.get(f"{public}?format=pdf&lang=ar")
    assert document.status_code == 200 and document.mimetype == "application/pdf"
    assert "فلسطين" in pdf_text(document.data)
    tag = document.headers["ETag"]
    again = mentoring.client.get(f"{public}?format=pdf&lang=ar", headers={"If-None-Match": tag})
    assert again.status_code == 304

    unpublished = call(mentoring, "POST", f"/programmes/{pid}/portfolio/unpublish")
    assert unpublished == {
        "programme_id": pid,
        "published": False,
        "published_at": None,
        "url": None,
    }
    gone = mentoring.client.get(public)
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"
    assert mentoring.client.get(f"{public}?format=pdf").status_code == 404
    call(mentoring, "POST", f"/programmes/{pid}/portfolio/unpublish")  # nothing more happens
    types = [e.type for e in mentoring.events() if e.type.startswith("mentoring.portfolio.")]
    assert types == ["mentoring.portfolio.published", "mentoring.portfolio.unpublished"]
    # the operators' route still serves it
    assert _portfolio(mentoring, pid).status_code == 200


def test_publishing_is_for_operators_and_not_for_drafts_or_unknown_programmes(
    mentoring: ServiceHarness,
) -> None:
    draft = call(
        mentoring,
        "POST",
        "/programmes",
        201,
        json={
            "name": "Next edition",
            "starts_on": "2027-01-01",
            "ends_on": "2027-10-31",
            "competencies": ["funding"],
        },
    )
    refused = mentoring.client.post(
        f"/api/v1/programmes/{draft['id']}/portfolio/publish",
        headers=mentoring.headers(WRITE),
    )
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert mentoring.client.get(f"/portfolios/{draft['id']}").status_code == 404
    for verb in ("publish", "unpublish"):
        path = f"/api/v1/programmes/{draft['id']}/portfolio/{verb}"
        assert mentoring.client.post(path, headers=mentoring.headers(READ)).status_code == 403
        unknown = mentoring.client.post(
            f"/api/v1/programmes/nope/portfolio/{verb}", headers=mentoring.headers(WRITE)
        )
        assert unknown.status_code == 404
    # an empty programme (open, nobody enrolled) still gives a portfolio
    call(mentoring, "POST", f"/programmes/{draft['id']}/open")
    empty = _portfolio(mentoring, draft["id"], "?format=pdf")
    assert "No pair is confirmed yet." in pdf_text(empty.data)
