"""Country names in English, French and Arabic, from ISO 3166-1 (pycountry).

One source for every service: the registry's countries carry these names, and a service
that shows a country by its code (the mentoring portfolio) names it the same way, from
the same data, without asking the registry. English is pycountry's common name where it
has one; French and Arabic are pycountry's translations of the official ISO name; a few
countries read better with a short name of their own (:data:`SHORT_NAMES`).
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import cache

import pycountry

LANGUAGES = ("en", "fr", "ar")
SHORT_NAMES = {"PS": ("Palestine", "Palestine", "فلسطين")}
"""Short names (en, fr, ar) where ISO's official one reads awkwardly in a list."""


@dataclass(frozen=True)
class CountryNames:
    code: str
    en: str
    fr: str
    ar: str

    def in_language(self, language: str) -> str:
        """The name in ``language`` (en, fr or ar; English for any other)."""
        name: str = getattr(self, language) if language in LANGUAGES else self.en
        return name


@cache
def _all() -> dict[str, CountryNames]:
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    arabic = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ar"])
    names = {}
    for entry in pycountry.countries:
        code = entry.alpha_2
        if code in SHORT_NAMES:
            en, fr, ar = SHORT_NAMES[code]
        else:
            en = getattr(entry, "common_name", None) or entry.name
            fr, ar = french.gettext(entry.name), arabic.gettext(entry.name)
        names[code] = CountryNames(code, en, fr, ar)
    return names


def country_names(code: str) -> CountryNames | None:
    """The names of the ISO 3166-1 country with alpha-2 ``code`` (any case), or None."""
    return _all().get(code.upper())


def all_country_names() -> list[CountryNames]:
    """Every ISO 3166-1 country's names, ordered by code."""
    return sorted(_all().values(), key=lambda names: names.code)


def country_name(code: str | None, language: str) -> str | None:
    """The country's name in ``language``; the code itself for an unknown code."""
    if not code:
        return None
    names = country_names(code)
    return names.in_language(language) if names else code.upper()
