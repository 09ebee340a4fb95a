"""Words other services send in English, told in the recipient's language.

The mentoring service explains a match with English reason strings (``"shared
language: en, fr"``, ``"competency fit: offers 2 of 3 wanted competencies: funding,
governance_strategy"``, ``"sector affinity: agrifood"``, ``"cross-country: MA and FR"``,
``"manual pair"``) and gives a session without a title an English default
(``"Bilateral session"``, ``"Group session"``). A French or Arabic message must not
carry them as they are: :func:`reasons` reads the kinds it recognises from the strings
and words them in the language (language and country names through Babel); a reason it
does not recognise is left out of a French or Arabic message (English keeps it as
written). :func:`title` localises the default titles and leaves any other title alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from babel import Locale
from babel.numbers import format_percent

_LANGUAGE = re.compile(r"shared language: (?P<codes>[a-z]{2,3}(?:, [a-z]{2,3})*)")
_COMPETENCE = re.compile(
    r"competency fit: offers (?P<covered>\d+) of (?P<wanted>\d+) wanted competencies"
    r"(?:: (?P<names>[a-z_]+(?:, [a-z_]+)*))?"
)
_SECTORS = re.compile(r"sector affinity: (?P<sectors>.+)")
_COUNTRIES = re.compile(r"cross-country: (?P<one>[A-Z]{2}) and (?P<other>[A-Z]{2})")

COMPETENCIES: dict[str, dict[str, str]] = {
    "fr": {
        "value_added_services": "services à valeur ajoutée",
        "governance_strategy": "gouvernance et stratégie",
        "internationalisation": "internationalisation",
        "funding": "financement",
        "digital_tools": "outils numériques",
        "member_engagement": "engagement des membres",
        "innovation": "innovation",
        "skills_training": "formation et compétences",
    },
    "ar": {
        "value_added_services": "الخدمات ذات القيمة المضافة",
        "governance_strategy": "الحوكمة والاستراتيجية",
        "internationalisation": "التدويل",
        "funding": "التمويل",
        "digital_tools": "الأدوات الرقمية",
        "member_engagement": "إشراك الأعضاء",
        "innovation": "الابتكار",
        "skills_training": "التدريب وتنمية المهارات",
    },
}

PHRASES: dict[str, dict[str, str]] = {
    "fr": {
        "language": "langue commune : {}",
        "competence": "compétences : {} sur {} recherchées",
        "sectors": "secteurs en commun : {}",
        "countries": "deux pays : {} et {}",
        "manual": "binôme formé par l'équipe du programme",
        "score": "score d'affinité : {}",
        "list": ", ",
    },
    "ar": {
        "language": "لغة مشتركة: {}",
        "competence": "الكفاءات: {} من أصل {} مطلوبة",
        "sectors": "قطاعات مشتركة: {}",
        "countries": "بلدان مختلفان: {} و{}",
        "manual": "ثنائي شكّله فريق البرنامج",
        "score": "درجة التوافق: {}",
        "list": "، ",
    },
}

DEFAULT_TITLES: dict[str, dict[str, str]] = {
    "Bilateral session": {"fr": "Séance bilatérale", "ar": "جلسة ثنائية"},
    "Group session": {"fr": "Séance de groupe", "ar": "جلسة جماعية"},
}


def _name(names: dict[str, str], code: str) -> str:
    return names.get(code) or names.get(code.lower()) or code


def _reason(text: str, language: str) -> str | None:
    """One reason in the language, or None if its kind is not recognised."""
    words = PHRASES[language]
    sep = words["list"]
    locale = Locale.parse(language)
    text = text.strip()
    if text == "manual pair":
        return words["manual"]
    if match := _LANGUAGE.fullmatch(text):
        codes = match["codes"].split(", ")
        return words["language"].format(sep.join(_name(locale.languages, c) for c in codes))
    if match := _COMPETENCE.fullmatch(text):
        phrase = words["competence"].format(match["covered"], match["wanted"])
        known = [
            COMPETENCIES[language][n]
            for n in (match["names"] or "").split(", ")
            if n in COMPETENCIES[language]
        ]
        return f"{phrase} ({sep.join(known)})" if known else phrase
    if match := _COUNTRIES.fullmatch(text):
        return words["countries"].format(
            _name(locale.territories, match["one"]), _name(locale.territories, match["other"])
        )
    if match := _SECTORS.fullmatch(text):
        return words["sectors"].format(match["sectors"])
    return None


def reasons(values: Any, language: str, score: Any = None) -> list[str]:
    """The match's reasons told in ``language`` (en: as written; fr, ar: the recognised
    kinds, worded there, and the score as a percentage)."""
    items = [str(v) for v in values] if isinstance(values, Iterable) and values else []
    if isinstance(values, str):
        items = [values]
    if language not in PHRASES:
        return items
    told = [r for r in (_reason(item, language) for item in items) if r is not None]
    if isinstance(score, int | float) and not isinstance(score, bool) and 0 <= score <= 1:
        told.append(PHRASES[language]["score"].format(format_percent(score, locale=language)))
    return told


def title(value: Any, language: str) -> Any:
    """A default title (``"Bilateral session"``) in ``language``; other titles as given."""
    if isinstance(value, str):
        return DEFAULT_TITLES.get(value, {}).get(language, value)
    return value
