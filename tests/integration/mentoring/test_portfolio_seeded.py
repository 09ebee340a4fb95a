"""The portfolio of the programme that ``booster seed`` loads (issue #17, point 1).

The seed runs through the real APIs of the registry, mentoring and events services in
this process (embedded defaults, the registry's events reaching mentoring through the
in-process bus), exactly as ``scripts/portfolio_png.py`` draws the README's picture.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from booster.seed_2021 import CLUSTERS, MENTORS
from shared.countries import country_name
from tests.integration.mentoring.test_portfolio import pdf_text

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "portfolio_png.py"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+?\d[\d ()./-]{7,}\d")


def _script() -> ModuleType:
    loaded = importlib.util.spec_from_file_location("portfolio_png", SCRIPT)
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    pdfs = _script().seeded_portfolio_pdfs(("en", "fr", "ar"))
    return {language: pdf_text(pdf) for language, pdf in pdfs.items()}


def test_the_seeded_programme_lists_its_twelve_mentee_clusters_and_the_mentors_clusters(
    texts: dict[str, str],
) -> None:
    mentee_clusters = [(cluster.name, cluster.country) for cluster in CLUSTERS]
    mentor_clusters = [(mentor.cluster_name, mentor.country) for mentor in MENTORS]
    assert len(mentee_clusters) == 12 and len(mentor_clusters) == 13
    for language in ("en", "fr"):
        text = texts[language]
        for name, country in mentee_clusters + mentor_clusters:
            assert name in text, (language, name)
            assert country_name(country, language) in text, (language, country)
        assert "Cluster Mentoring Reloaded" in text and "ACCIÓ" in text


def test_the_seeded_arabic_portfolio_holds_the_arabic_country_names_as_text(
    texts: dict[str, str],
) -> None:
    countries = {cluster.country for cluster in CLUSTERS} | {m.country for m in MENTORS}
    for code in countries:
        assert country_name(code, "ar") in texts["ar"], code


def test_the_seeded_portfolio_shows_no_email_address_or_phone_number(
    texts: dict[str, str],
) -> None:
    for language, text in texts.items():
        assert EMAIL.search(text) is None, language
        assert PHONE.search(text) is None, language
