"""Countries: every ISO 3166-1 country, with the programme's policy context.

Names come from ``shared.countries`` (pycountry: ISO 3166-1 and its French and Arabic
translations), the one source other services name countries from too; the region and
the national cluster-policy context of the programme's countries are the registry's own
reference data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from services.registry.domain.model import Region
from shared.countries import all_country_names

MENA = frozenset(
    "DZ BH DJ EG IR IQ IL JO KW LB LY MA OM PS QA SA SY TN AE YE".split()
)  # World Bank's Middle East and North Africa, without Malta (EU)
EU = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
PROGRAMME = ("DZ", "EG", "JO", "LB", "MA", "PS", "TN", "FR", "IT", "ES")


@dataclass(frozen=True)
class PolicyContext:
    """A country's national cluster policy, as the programme summarises it."""

    summary: str
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Country:
    code: str
    name_en: str
    name_fr: str
    name_ar: str
    region: Region
    programme: bool = False
    policy: PolicyContext | None = field(default=None)


POLICIES: dict[str, PolicyContext] = {
    "MA": PolicyContext(
        'Morocco structures its clusters through the national "Maroc Innovation" '
        "initiative, launched in June 2009.",
        (
            '"Maroc Innovation" initiative since June 2009',
            "11 nationally labelled clusters",
            "6 of them awarded the European Cluster Excellence Initiative Bronze label in 2014",
        ),
    ),
    "EG": PolicyContext(
        "Egypt has made cluster-based industrialisation part of its 2030 strategy since 2016.",
        (
            "Cluster-based industrialisation in the 2030 strategy since 2016",
            "22 industrial clusters",
            "The Innovation Cluster Initiative of 2016",
        ),
    ),
    "PS": PolicyContext(
        "Palestine's cluster approach grew out of the Private Sector Development Cluster "
        "Project (2012–2016).",
        ("Private Sector Development Cluster Project, 2012–2016", "5 pilot clusters"),
    ),
    "TN": PolicyContext(
        "Tunisia has had a cluster policy since 2013, built on its technopoles and "
        "competitiveness poles.",
        ("10 technopoles and competitiveness poles", "A cluster policy since 2013"),
    ),
    "JO": PolicyContext(
        "Jordan has focused on priority clusters since 2014, within the Jordan 2025 Vision.",
        ("6 priority clusters since 2014", "Jordan 2025 Vision"),
    ),
    "DZ": PolicyContext(
        "A Booster Track programme country; its national cluster policy is not yet summarised here."
    ),
    "LB": PolicyContext(
        "A Booster Track programme country; its national cluster policy is not yet summarised here."
    ),
    "FR": PolicyContext(
        "A European partner country; its competitiveness poles (pôles de compétitivité) "
        "have structured French clusters since 2004.",
        ("Pôles de compétitivité policy since 2004",),
    ),
    "IT": PolicyContext(
        "A European partner country; its national technology clusters (Cluster Tecnologici "
        "Nazionali) were set up from 2012.",
        ("Cluster Tecnologici Nazionali since 2012",),
    ),
    "ES": PolicyContext(
        "A European partner country; its innovative business clusters (Agrupaciones "
        "Empresariales Innovadoras) programme began in 2006.",
        ("Agrupaciones Empresariales Innovadoras (AEI) programme since 2006",),
    ),
}


def region_of(code: str) -> Region:
    if code in EU:
        return Region.EU
    if code in MENA:
        return Region.MENA
    return Region.OTHER


@cache
def all_countries() -> tuple[Country, ...]:
    """Every ISO 3166-1 country, ordered by code."""
    return tuple(
        Country(
            code=names.code,
            name_en=names.en,
            name_fr=names.fr,
            name_ar=names.ar,
            region=region_of(names.code),
            programme=names.code in PROGRAMME,
            policy=POLICIES.get(names.code),
        )
        for names in all_country_names()
    )


@cache
def _by_code() -> dict[str, Country]:
    return {country.code: country for country in all_countries()}


def iso_country(code: str) -> Country | None:
    """The ISO 3166-1 country with ``code`` (any case), from the reference data."""
    return _by_code().get(code.upper())
