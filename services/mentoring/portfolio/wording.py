"""The portfolio told in a language (English, French or Arabic): the words, the role
titles, country names (``shared.countries``, the registry's own trilingual names),
dates (Babel), and the order (each group sorted by country name in that language).

:func:`view` turns a :class:`~services.mentoring.portfolio.content.Portfolio` into what
both the HTML page and the PDF show, so that the two always say the same thing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from services.mentoring.domain.model import LabelCopy
from services.mentoring.portfolio.content import Group, Participant, Portfolio, Profile
from shared.countries import country_name

LANGUAGES = ("en", "fr", "ar")
DEFAULT_LANGUAGE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
BRAND = "THE NEXT SOCIETY · Cluster Booster Track"

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Portfolio of the participating clusters",
        "edition": "Edition",
        "organiser": "Organised by",
        "dates": "Dates",
        "date_span": "{start} to {end}",
        "competencies": "Competencies worked on",
        "summary": "Mentors: {mentors} · their clusters: {mentor_clusters} · mentees: "
        "{mentees} · their clusters: {mentee_clusters} · pairs: {pairs}",
        "pairs": "Who is matched with whom",
        "no_pairs": "No pair is confirmed yet.",
        "mentor": "Mentor",
        "mentee": "Mentee",
        "mentors": "The mentors' clusters",
        "mentees": "The mentees' clusters",
        "unattached_mentors": "Mentors without a cluster in the registry",
        "unattached_mentees": "Mentees without a cluster in the registry",
        "no_profiles": "None yet.",
        "country": "Country",
        "city": "City",
        "kind": "Type",
        "sectors": "Sectors",
        "founded": "Founded",
        "members": "Members",
        "labels": "Labels",
        "website": "Website",
        "people": "In the programme",
        "valid_until": "valid until {date}",
        "awarded": "awarded {date}",
        "inactive": "No longer active in the registry.",
        "page": "Page {page}",
        "pdf": "Download as PDF",
        "languages": "Languages",
    },
    "fr": {
        "title": "Portfolio des clusters participants",
        "edition": "Édition",
        "organiser": "Organisé par",
        "dates": "Dates",
        "date_span": "du {start} au {end}",
        "competencies": "Compétences travaillées",
        "summary": "Mentors : {mentors} · leurs clusters : {mentor_clusters} · mentorés : "
        "{mentees} · leurs clusters : {mentee_clusters} · binômes : {pairs}",
        "pairs": "Qui accompagne qui",
        "no_pairs": "Aucun binôme n'est encore confirmé.",
        "mentor": "Mentor",
        "mentee": "Mentoré",
        "mentors": "Les clusters des mentors",
        "mentees": "Les clusters des mentorés",
        "unattached_mentors": "Mentors sans cluster inscrit au registre",
        "unattached_mentees": "Mentorés sans cluster inscrit au registre",
        "no_profiles": "Aucun pour l'instant.",
        "country": "Pays",
        "city": "Ville",
        "kind": "Type",
        "sectors": "Secteurs",
        "founded": "Fondé en",
        "members": "Membres",
        "labels": "Labels",
        "website": "Site web",
        "people": "Dans le programme",
        "valid_until": "valable jusqu'au {date}",
        "awarded": "décerné le {date}",
        "inactive": "N'est plus actif dans le registre.",
        "page": "Page {page}",
        "pdf": "Télécharger en PDF",
        "languages": "Langues",
    },
    "ar": {
        "title": "ملف التجمّعات المشاركة",
        "edition": "الدورة",
        "organiser": "الجهة المنظِّمة",
        "dates": "التواريخ",
        "date_span": "من {start} إلى {end}",
        "competencies": "الكفاءات المستهدفة",
        "summary": "المرشدون: {mentors} · تجمّعاتهم: {mentor_clusters} · المسترشدون: "
        "{mentees} · تجمّعاتهم: {mentee_clusters} · الثنائيات: {pairs}",
        "pairs": "من يرشد من",
        "no_pairs": "لم تُؤكَّد أي ثنائية بعد.",
        "mentor": "المرشد",
        "mentee": "المسترشد",
        "mentors": "تجمّعات المرشدين",
        "mentees": "تجمّعات المسترشدين",
        "unattached_mentors": "مرشدون دون تجمّع مسجَّل في السجل",
        "unattached_mentees": "مسترشدون دون تجمّع مسجَّل في السجل",
        "no_profiles": "لا يوجد بعد.",
        "country": "البلد",
        "city": "المدينة",
        "kind": "النوع",
        "sectors": "القطاعات",
        "founded": "سنة التأسيس",
        "members": "عدد الأعضاء",
        "labels": "العلامات",
        "website": "الموقع الإلكتروني",
        "people": "في البرنامج",
        "valid_until": "صالحة حتى {date}",
        "awarded": "مُنحت في {date}",
        "inactive": "لم يعد نشطاً في السجل.",
        "page": "صفحة {page}",
        "pdf": "تنزيل بصيغة PDF",
        "languages": "اللغات",
    },
}

ROLE_TITLES: dict[str, dict[str, str]] = {
    "cluster_manager": {
        "en": "Cluster manager",
        "fr": "Responsable de cluster",
        "ar": "مدير التجمّع",
    },
    "governance_team": {
        "en": "Governance team member",
        "fr": "Membre de l'équipe de gouvernance",
        "ar": "عضو فريق الحوكمة",
    },
    "expert": {"en": "Expert", "fr": "Expert·e", "ar": "خبير"},
    "other": {"en": "Participant", "fr": "Participant·e", "ar": "مشارك"},
}
KINDS: dict[str, dict[str, str]] = {
    "cluster": {"en": "Cluster", "fr": "Cluster", "ar": "تجمّع عنقودي"},
    "technopole": {"en": "Technopole", "fr": "Technopole", "ar": "قطب تكنولوجي"},
    "competitiveness_pole": {
        "en": "Competitiveness pole",
        "fr": "Pôle de compétitivité",
        "ar": "قطب تنافسية",
    },
    "association": {"en": "Association", "fr": "Association", "ar": "جمعية"},
}
LEVELS: dict[str, dict[str, str]] = {
    "bronze": {"en": "bronze", "fr": "bronze", "ar": "برونزي"},
    "silver": {"en": "silver", "fr": "argent", "ar": "فضي"},
    "gold": {"en": "gold", "fr": "or", "ar": "ذهبي"},
}
COMPETENCIES: dict[str, dict[str, str]] = {
    "value_added_services": {
        "en": "value-added services",
        "fr": "services à valeur ajoutée",
        "ar": "الخدمات ذات القيمة المضافة",
    },
    "governance_strategy": {
        "en": "governance and strategy",
        "fr": "gouvernance et stratégie",
        "ar": "الحوكمة والاستراتيجية",
    },
    "internationalisation": {
        "en": "internationalisation",
        "fr": "internationalisation",
        "ar": "التدويل",
    },
    "funding": {"en": "funding", "fr": "financement", "ar": "التمويل"},
    "digital_tools": {"en": "digital tools", "fr": "outils numériques", "ar": "الأدوات الرقمية"},
    "member_engagement": {
        "en": "member engagement",
        "fr": "engagement des membres",
        "ar": "إشراك الأعضاء",
    },
    "innovation": {"en": "innovation", "fr": "innovation", "ar": "الابتكار"},
    "skills_training": {
        "en": "skills and training",
        "fr": "formation et compétences",
        "ar": "التدريب وتنمية المهارات",
    },
}
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "ar": "العربية"}


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class PersonLine:
    name: str
    title: str
    """Their role title and role in the programme, e.g. "Cluster manager · Mentor"."""


@dataclass(frozen=True)
class ProfileView:
    heading: str
    facts: tuple[Fact, ...]
    website: str | None
    description: str | None
    people: tuple[PersonLine, ...]
    inactive: bool


@dataclass(frozen=True)
class GroupView:
    key: str
    """``mentors`` or ``mentees``."""
    heading: str
    profiles: tuple[ProfileView, ...]
    unattached_heading: str
    unattached: tuple[PersonLine, ...]
    """Role title, role in the programme and country of each."""


@dataclass(frozen=True)
class SideView:
    name: str
    detail: str
    """Role title, cluster and country."""


@dataclass(frozen=True)
class PairView:
    mentor: SideView
    mentee: SideView


@dataclass(frozen=True)
class PortfolioView:
    language: str
    direction: str
    words: dict[str, str]
    name: str
    facts: tuple[Fact, ...]
    summary: str
    pairs: tuple[PairView, ...]
    groups: tuple[GroupView, GroupView]
    """The mentors', then the mentees'."""
    languages: tuple[tuple[str, str], ...]
    """(code, name) of each language the portfolio is told in."""

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"


def view(portfolio: Portfolio, language: str) -> PortfolioView:
    """What the page and the PDF show, in ``language``."""
    words = WORDS[language]
    facts = [
        Fact(words["edition"], portfolio.edition) if portfolio.edition else None,
        Fact(words["organiser"], portfolio.organiser) if portfolio.organiser else None,
        Fact(
            words["dates"],
            words["date_span"].format(
                start=long_date(portfolio.starts_on, language),
                end=long_date(portfolio.ends_on, language),
            ),
        ),
        Fact(
            words["competencies"],
            _join([COMPETENCIES[c.value][language] for c in portfolio.competencies], language),
        ),
    ]
    pairs = sorted(
        portfolio.pairs,
        key=lambda line: (
            sort_key(country_name(line.mentee.country, language) or ""),
            sort_key(line.mentee_cluster or ""),
            sort_key(line.mentee.name),
            line.mentee.person_id,
        ),
    )
    return PortfolioView(
        language=language,
        direction="rtl" if language in RIGHT_TO_LEFT else "ltr",
        words=words,
        name=portfolio.name,
        facts=tuple(fact for fact in facts if fact is not None),
        summary=words["summary"].format(
            mentors=portfolio.mentors.people,
            mentor_clusters=len(portfolio.mentors.profiles),
            mentees=portfolio.mentees.people,
            mentee_clusters=len(portfolio.mentees.profiles),
            pairs=len(portfolio.pairs),
        ),
        pairs=tuple(
            PairView(
                _side(line.mentor, line.mentor_cluster, language),
                _side(line.mentee, line.mentee_cluster, language),
            )
            for line in pairs
        ),
        groups=(
            _group("mentors", portfolio.mentors, language),
            _group("mentees", portfolio.mentees, language),
        ),
        languages=tuple((code, LANGUAGE_NAMES[code]) for code in LANGUAGES),
    )


def long_date(day: date, language: str) -> str:
    return format_date(day, "d MMMM y", locale=language)


def role_title(role: str | None, language: str) -> str:
    return ROLE_TITLES.get(role or "other", ROLE_TITLES["other"])[language]


def sort_key(text: str) -> str:
    """Accents and case ignored, and the Arabic article (``ال``) as Arabic indexes do."""
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).casefold()
    return folded.removeprefix("ال")


def _join(items: Sequence[str], language: str) -> str:
    return ("، " if language == "ar" else ", ").join(items)


def _side(participant: Participant, cluster: str | None, language: str) -> SideView:
    where = ("، " if language == "ar" else ", ").join(
        part for part in (cluster, country_name(participant.country, language)) if part
    )
    detail = " · ".join(part for part in (role_title(participant.role, language), where) if part)
    return SideView(participant.name, detail)


def _group(key: str, group: Group, language: str) -> GroupView:
    words = WORDS[language]
    unattached = sorted(
        group.unattached,
        key=lambda p: (sort_key(country_name(p.country, language) or "\uffff"), sort_key(p.name)),
    )
    return GroupView(
        key=key,
        heading=f"{words[key]} ({len(group.profiles)})",
        profiles=_profiles(group.profiles, language),
        unattached_heading=f"{words['unattached_' + key]} ({len(unattached)})",
        unattached=tuple(
            PersonLine(
                person.name,
                " · ".join(
                    part
                    for part in (
                        role_title(person.role, language),
                        words[person.programme_role.value],
                        country_name(person.country, language),
                    )
                    if part
                ),
            )
            for person in unattached
        ),
    )


def _profiles(profiles: Sequence[Profile], language: str) -> tuple[ProfileView, ...]:
    ordered = sorted(
        profiles,
        key=lambda p: (
            sort_key(country_name(p.country, language) or "\uffff"),
            sort_key(p.name),
            p.cluster_id,
        ),
    )
    return tuple(_profile(profile, language) for profile in ordered)


def _profile(profile: Profile, language: str) -> ProfileView:
    words = WORDS[language]
    facts: list[Fact] = []

    def add(key: str, value: object) -> None:
        if value not in (None, "", ()):
            facts.append(Fact(words[key], str(value)))

    add("country", country_name(profile.country, language))
    add("city", profile.city)
    add("kind", KINDS[profile.kind][language] if profile.kind in KINDS else None)
    add("sectors", _join(profile.sectors, language) if profile.sectors else None)
    add("founded", profile.founded)
    add("members", profile.members_count)
    add("labels", "; ".join(_label(label, language) for label in profile.labels))
    heading = f"{profile.name} ({profile.acronym})" if profile.acronym else profile.name
    return ProfileView(
        heading=heading,
        facts=tuple(facts),
        website=profile.website,
        description=profile.description,
        people=tuple(
            PersonLine(
                person.name,
                f"{role_title(person.role, language)} · {words[person.programme_role.value]}",
            )
            for person in profile.people
        ),
        inactive=not profile.active,
    )


def _label(label: LabelCopy, language: str) -> str:
    words = WORDS[language]
    level = LEVELS.get(label.level, {}).get(language, label.level)
    when = (
        words["valid_until"].format(date=long_date(label.valid_until, language))
        if label.valid_until
        else words["awarded"].format(date=long_date(label.awarded_on, language))
    )
    return f"{label.scheme} ({level}), {when}"
