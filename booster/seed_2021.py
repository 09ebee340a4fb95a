"""The demo data of the 2021 Cluster Booster Track: what ``booster seed`` loads.

DEMO DATA. What is real: the programme's countries and their policy context (the
registry's own reference data), the twelve clusters of the 2021 programme (their names,
countries and kinds), the mentoring programme "Cluster Mentoring Reloaded" (thirteen
mentors from France, Italy, Palestine and Spain paired with thirteen mentees from
cluster governance teams, January to October 2021, fully online, three joint meetings)
and its online launch on 20 January 2021. What is invented: every person (a made-up
name and an address at ``example.org``, a domain reserved for examples, so no real
person is contacted), the clusters' cities and sector lists (plausible summaries; their
founding years, websites and member counts are left out on purpose), the enrolments'
languages and competencies, the joint meetings' dates and themes, and the business
trip. Nothing here is read from or written to anything but the platform's own APIs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

DEMO = "DEMO DATA"
DEMO_PERSON = "DEMO DATA: an invented person, not a real contact"
# The people's language follows their country.
LANGUAGES = {
    "MA": "fr",
    "TN": "fr",
    "DZ": "fr",
    "EG": "ar",
    "PS": "ar",
    "JO": "ar",
    "LB": "ar",
    "FR": "fr",
    "IT": "en",
    "ES": "en",
}
# Programme countries first (Morocco, Egypt, Palestine, Tunisia, Jordan, Algeria,
# Lebanon), then the European partners.
COUNTRIES: tuple[str, ...] = ("MA", "EG", "PS", "TN", "JO", "DZ", "LB", "FR", "IT", "ES")


def slugify(text: str) -> str:
    """``Pôle de Compétitivité Agrinova`` -> ``pole-de-competitivite-agrinova``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# -- the registry: clusters and people -------------------------------------------------
@dataclass(frozen=True)
class DemoPerson:
    """A person of the demo data. DEMO DATA: the person is invented."""

    name: str
    email: str
    demo: str = DEMO_PERSON


@dataclass(frozen=True)
class DemoCluster:
    """A cluster of the 2021 programme and its (invented) governance-team members."""

    name: str
    country: str
    kind: str
    city: str
    sectors: tuple[str, ...]
    person: DemoPerson
    acronym: str | None = None
    more_people: tuple[DemoPerson, ...] = ()

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def people(self) -> tuple[DemoPerson, ...]:
        """Its governance-team members (each a mentee of the programme)."""
        return (self.person, *self.more_people)

    def body(self) -> dict[str, Any]:
        """What ``POST /api/v1/clusters`` receives."""
        body: dict[str, Any] = {
            "name": self.name,
            "country": self.country,
            "kind": self.kind,
            "city": self.city,
            "sectors": list(self.sectors),
            "description": (
                "A cluster of the 2021 Cluster Mentoring programme of THE NEXT SOCIETY's "
                "Cluster Booster Track (demo data)."
            ),
        }
        if self.acronym:
            body["acronym"] = self.acronym
        return body

    def person_body(self, cluster_id: str, person: DemoPerson | None = None) -> dict[str, Any]:
        """What ``POST /api/v1/people`` receives for one of the cluster's people."""
        person = person or self.person
        return {
            "name": person.name,
            "email": person.email,
            "language": LANGUAGES[self.country],
            "cluster_id": cluster_id,
            "role": "governance_team",
        }


# DEMO DATA: the clusters are the 2021 programme's; every person below is invented.
CLUSTERS: tuple[DemoCluster, ...] = (
    DemoCluster(
        "Maroc Numeric Cluster",
        "MA",
        "cluster",
        "Casablanca",
        ("ICT", "Digital"),
        DemoPerson("Salma Idrissi", "salma.idrissi@example.org"),
    ),
    DemoCluster(
        "Cluster Textile Technique Marocain",
        "MA",
        "cluster",
        "Casablanca",
        ("Technical textiles", "Textile"),
        DemoPerson("Youssef Alaoui", "youssef.alaoui@example.org"),
        acronym="C2TM",
    ),
    DemoCluster(
        "Cluster Electronique, Mécatronique & Mécanique",
        "MA",
        "cluster",
        "Casablanca",
        ("Electronics", "Mechatronics", "Mechanics"),
        DemoPerson("Nadia Tazi", "nadia.tazi@example.org"),
        acronym="CE3M",
    ),
    DemoCluster(
        "Pôle de Compétitivité Agrinova",
        "MA",
        "competitiveness_pole",
        "Meknès",
        ("Agri-food", "Agriculture"),
        DemoPerson("Hicham Berrada", "hicham.berrada@example.org"),
    ),
    DemoCluster(
        "Egyptian Renewable Energy Cluster Initiative",
        "EG",
        "cluster",
        "Cairo",
        ("Renewable energy", "Solar energy", "Wind energy"),
        DemoPerson("Mona Abdelrahman", "mona.abdelrahman@example.org"),
        acronym="ERECI",
        # thirteen mentees from twelve clusters: this one sent two
        more_people=(DemoPerson("Tarek Fahmy", "tarek.fahmy@example.org"),),
    ),
    DemoCluster(
        "Cluster House of Furniture",
        "PS",
        "cluster",
        "Nablus",
        ("Furniture", "Woodworking"),
        DemoPerson("Khaled Nasser", "khaled.nasser@example.org"),
    ),
    DemoCluster(
        "Hebron Leather and Shoe Cluster",
        "PS",
        "cluster",
        "Hebron",
        ("Leather", "Footwear"),
        DemoPerson("Rania Qawasmi", "rania.qawasmi@example.org"),
    ),
    DemoCluster(
        "Cluster Mécatronique",
        "TN",
        "cluster",
        "Sousse",
        ("Mechatronics", "Automotive components", "Electronics"),
        DemoPerson("Mehdi Trabelsi", "mehdi.trabelsi@example.org"),
    ),
    DemoCluster(
        "Cluster de l'huile d'olive du Nord-Ouest",
        "TN",
        "cluster",
        "Béja",
        ("Olive oil", "Agri-food"),
        DemoPerson("Amel Jendoubi", "amel.jendoubi@example.org"),
    ),
    DemoCluster(
        "Cluster Marbre",
        "TN",
        "cluster",
        "Thala",
        ("Marble", "Stone"),
        DemoPerson("Sami Gharbi", "sami.gharbi@example.org"),
    ),
    DemoCluster(
        "ICT Association of Jordan",
        "JO",
        "association",
        "Amman",
        ("ICT",),
        DemoPerson("Lina Haddad", "lina.haddad@example.org"),
        acronym="int@j",
    ),
    DemoCluster(
        "OASIS500",
        "JO",
        "association",
        "Amman",
        ("Startups", "ICT"),
        DemoPerson("Omar Khatib", "omar.khatib@example.org"),
    ),
)


@dataclass(frozen=True)
class DemoMentor:
    """A mentor of the programme: an experienced manager of a European or Palestinian
    cluster (DEMO DATA: the people and their clusters are invented)."""

    person: DemoPerson
    country: str
    languages: tuple[str, ...]
    sectors: tuple[str, ...]
    cluster_name: str
    city: str

    @property
    def cluster(self) -> DemoCluster:
        """The cluster the mentor manages, as the registry receives it."""
        return DemoCluster(
            self.cluster_name, self.country, "cluster", self.city, self.sectors, self.person
        )

    def person_body(self, cluster_id: str) -> dict[str, Any]:
        """What ``POST /api/v1/people`` receives."""
        return {
            "name": self.person.name,
            "email": self.person.email,
            "language": LANGUAGES[self.country],
            "cluster_id": cluster_id,
            "role": "cluster_manager",
        }


def _mentor(
    name: str,
    country: str,
    languages: tuple[str, ...],
    cluster: tuple[str, str],
    *sectors: str,
) -> DemoMentor:
    email = slugify(name).replace("-", ".") + "@example.org"
    cluster_name, city = cluster
    return DemoMentor(DemoPerson(name, email), country, languages, sectors, cluster_name, city)


# DEMO DATA: thirteen invented mentors from France, Italy, Palestine and Spain, each the
# manager of an invented cluster of their country (the portfolio's mentors' clusters).
MENTORS: tuple[DemoMentor, ...] = (
    _mentor(
        "Claire Dubois",
        "FR",
        ("fr", "en"),
        ("Pôle Numérique Rhône-Alpes", "Lyon"),
        "ICT",
        "Digital",
    ),
    _mentor(
        "Julien Moreau",
        "FR",
        ("fr", "en"),
        ("Cluster Mécatronique de Savoie", "Annecy"),
        "Mechatronics",
        "Automotive components",
    ),
    _mentor(
        "Sophie Laurent",
        "FR",
        ("fr", "en", "ar"),
        ("Cluster Méditerranée Agroalimentaire", "Marseille"),
        "Agri-food",
        "Olive oil",
    ),
    _mentor(
        "Giulia Romano",
        "IT",
        ("en", "fr"),
        ("Distretto del Mobile Brianza", "Monza"),
        "Furniture",
        "Woodworking",
    ),
    _mentor(
        "Marco Bianchi",
        "IT",
        ("en",),
        ("Distretto Calzaturiero Marchigiano", "Fermo"),
        "Leather",
        "Footwear",
        "Textile",
    ),
    _mentor(
        "Francesca Ricci",
        "IT",
        ("en", "fr"),
        ("Distretto Lapideo Apuano", "Carrara"),
        "Marble",
        "Stone",
    ),
    _mentor(
        "Ahmad Odeh", "PS", ("ar", "en"), ("Ramallah Tech Cluster", "Ramallah"), "ICT", "Startups"
    ),
    _mentor(
        "Dina Khalil",
        "PS",
        ("ar", "en"),
        ("Palestine Solar Energy Cluster", "Nablus"),
        "Renewable energy",
        "Solar energy",
    ),
    _mentor(
        "Samer Hamdan",
        "PS",
        ("ar", "en"),
        ("Hebron Crafts and Leather Cluster", "Hebron"),
        "Furniture",
        "Leather",
    ),
    _mentor(
        "Laura Puig",
        "ES",
        ("en", "fr"),
        ("Clúster Tèxtil Tècnic del Vallès", "Terrassa"),
        "Technical textiles",
        "Textile",
    ),
    _mentor(
        "Jordi Vidal",
        "ES",
        ("en",),
        ("Clúster d'Electrònica i Mecànica de Girona", "Girona"),
        "Electronics",
        "Mechanics",
    ),
    _mentor(
        "Marta Serra",
        "ES",
        ("en", "fr"),
        ("Clúster Agroalimentari de Lleida", "Lleida"),
        "Agriculture",
        "Agri-food",
    ),
    _mentor(
        "Pablo Navarro",
        "ES",
        ("en", "ar"),
        ("Clúster Eólico de Aragón", "Zaragoza"),
        "Renewable energy",
        "Wind energy",
    ),
)


# -- mentoring: the programme ------------------------------------------------------------
COMPETENCIES: tuple[str, ...] = (
    "value_added_services",
    "governance_strategy",
    "internationalisation",
    "funding",
    "digital_tools",
    "member_engagement",
)

PROGRAMME: dict[str, Any] = {
    "name": "Cluster Mentoring Reloaded",
    "edition": "2021",
    "organiser": "ACCIÓ",
    "starts_on": "2021-01-20",
    "ends_on": "2021-10-29",
    "competencies": list(COMPETENCIES),
}
"""Ten months, fully online, from the launch on 20 January 2021."""


def mentor_enrolment(index: int, mentor: DemoMentor, person_id: str) -> dict[str, Any]:
    """What ``POST /api/v1/programmes/{id}/enrolments`` receives for a mentor (DEMO DATA:
    the competencies offered rotate through the programme's)."""
    offered = [COMPETENCIES[(index + k) % len(COMPETENCIES)] for k in range(3)]
    return {
        "person_id": person_id,
        "role": "mentor",
        "languages": list(mentor.languages),
        "competencies": [{"competency": c, "level": 5 - k % 2} for k, c in enumerate(offered)],
        "sectors": list(mentor.sectors),
        "availability": "Two hours a month, online",
        "capacity": 1,
    }


def mentee_enrolment(index: int, cluster: DemoCluster, person_id: str) -> dict[str, Any]:
    """What the enrolment of a cluster's governance-team member receives (DEMO DATA)."""
    wanted = [COMPETENCIES[(2 * index + k) % len(COMPETENCIES)] for k in range(2)]
    return {
        "person_id": person_id,
        "role": "mentee",
        "languages": [LANGUAGES[cluster.country], "en"],
        "competencies": [{"competency": c, "level": 2} for c in wanted],
        "sectors": list(cluster.sectors),
    }


MEETING_LINK = "https://meet.example.org/cluster-mentoring-reloaded"
# DEMO DATA: the programme had three joint meetings; their dates and themes are invented.
MEETINGS: tuple[dict[str, Any], ...] = (
    {
        "title": "Joint meeting 1: value-added services to cluster members",
        "starts_at": "2021-03-24T14:00:00+01:00",
        "ends_at": "2021-03-24T16:00:00+01:00",
        "timezone": "Europe/Madrid",
        "online_link": f"{MEETING_LINK}/joint-1",
        "agenda": "Mentees present their service offer; mentors comment (demo data).",
    },
    {
        "title": "Joint meeting 2: funding and internationalisation",
        "starts_at": "2021-06-23T14:00:00+02:00",
        "ends_at": "2021-06-23T16:00:00+02:00",
        "timezone": "Europe/Madrid",
        "online_link": f"{MEETING_LINK}/joint-2",
        "agenda": "Funding sources and export support for members (demo data).",
    },
    {
        "title": "Joint meeting 3: lessons learnt and action plans",
        "starts_at": "2021-10-20T14:00:00+02:00",
        "ends_at": "2021-10-20T16:00:00+02:00",
        "timezone": "Europe/Madrid",
        "online_link": f"{MEETING_LINK}/joint-3",
        "agenda": "Each pair presents its action plan (demo data).",
    },
)


# -- events: the launch, the joint meetings and a business trip --------------------------
LAUNCH: dict[str, Any] = {
    "kind": "launch",
    "title": "Cluster Mentoring Reloaded: online launch",
    "format": "online",
    "starts_at": "2021-01-20T10:00:00+01:00",
    "ends_at": "2021-01-20T12:30:00+01:00",
    "timezone": "Europe/Paris",
    "online_link": f"{MEETING_LINK}/launch",
    "description": (
        "The online launch of the 2021 mentoring programme of the Cluster Booster Track: "
        "mentors and mentees meet (demo data)."
    ),
}

TRIP_EXTRAS: dict[str, Any] = {
    "sectors": ["agri-food", "ict"],
    "host_organisation": "ACCIÓ",
}
"""Fields of a business trip that the events API accepts once its schema has them
(checked against its OpenAPI document before they are sent)."""

BUSINESS_TRIP: dict[str, Any] = {
    "kind": "business_trip",
    "title": "Business trip to Barcelona: agri-food and ICT clusters",
    "format": "in_person",
    "starts_at": "2021-11-16T09:00:00+01:00",
    "ends_at": "2021-11-18T17:00:00+01:00",
    "timezone": "Europe/Madrid",
    "capacity": 15,
    "city": "Barcelona",
    "country": "ES",
    "description": (
        "Cluster managers of the programme visit Catalan clusters and their members "
        "(demo data: an invented trip)."
    ),
}


def events() -> tuple[dict[str, Any], ...]:
    """Every event the events API receives, without the trip's extras: the launch, the
    three joint meetings (online, as the events service hosts them) and the trip."""
    meetings = tuple(
        {
            "kind": "joint_meeting",
            "title": meeting["title"],
            "format": "online",
            "starts_at": meeting["starts_at"],
            "ends_at": meeting["ends_at"],
            "timezone": meeting["timezone"],
            "online_link": meeting["online_link"],
            "description": f"A joint meeting of {PROGRAMME['name']} 2021 (demo data).",
        }
        for meeting in MEETINGS
    )
    return (LAUNCH, *meetings, BUSINESS_TRIP)
