"""A programme like the seeded 2021 one, built for the portfolio's tests: twelve mentee
clusters (the 2021 programme's, in Egypt, Jordan, Morocco, Palestine and Tunisia) with
thirteen mentees, thirteen mentors' clusters in France, Italy, Palestine and Spain, and
thirteen pairs. The registry's part arrives as its events would (people with email
addresses and phone numbers, which the portfolio must never show; clusters with their
details; labels); the programme, enrolments and pairs are made through the API.

DEMO DATA: the mentee clusters are the real clusters of the 2021 programme; their
details, the mentors' clusters and every person are invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from booster.catalogue import platform_catalogue
from booster.testing import ServiceHarness
from tests.integration.mentoring.conftest import call, cluster_data, deliver, registry_event

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?:\+|\b00)?\d(?:[\s().\-/]{0,3}\d){7,}")
"""What a reader would take for an email address or a phone number (eight digits or more,
spaced or punctuated)."""

COUNTRIES = {
    "EG": ("Egypt", "Égypte", "مصر"),
    "JO": ("Jordan", "Jordanie", "الأردن"),
    "MA": ("Morocco", "Maroc", "المغرب"),
    "PS": ("Palestine", "Palestine", "فلسطين"),
    "TN": ("Tunisia", "Tunisie", "تونس"),
    "FR": ("France", "France", "فرنسا"),
    "IT": ("Italy", "Italie", "إيطاليا"),
    "ES": ("Spain", "Espagne", "إسبانيا"),
}
"""The registry's names (en, fr, ar) of the programme's countries."""


@dataclass(frozen=True)
class Cluster:
    key: str
    name: str
    country: str
    city: str
    sectors: tuple[str, ...]
    kind: str = "cluster"
    acronym: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


MENTEE_CLUSTERS = (
    Cluster("numeric", "Maroc Numeric Cluster", "MA", "Casablanca", ("ICT", "Digital")),
    Cluster(
        "c2tm",
        "Cluster Textile Technique Marocain",
        "MA",
        "Casablanca",
        ("Technical textiles",),
        acronym="C2TM",
    ),
    Cluster(
        "ce3m",
        "Cluster Electronique, Mécatronique & Mécanique",
        "MA",
        "Casablanca",
        ("Electronics", "Mechatronics"),
        acronym="CE3M",
    ),
    Cluster(
        "agrinova",
        "Pôle de Compétitivité Agrinova",
        "MA",
        "Meknès",
        ("Agri-food",),
        kind="competitiveness_pole",
    ),
    Cluster(
        "ereci",
        "Egyptian Renewable Energy Cluster Initiative",
        "EG",
        "Cairo",
        ("Renewable energy", "Solar energy"),
        acronym="ERECI",
        details={
            "founded": 2016,
            "members_count": 48,
            "website": "https://ereci.example.org",
            "description": "Solar and wind companies working together. Write to "
            "contact@ereci.example.org or call +20 2 2735 1234 (office hours).",
        },
    ),
    Cluster("furniture", "Cluster House of Furniture", "PS", "Nablus", ("Furniture",)),
    Cluster("hebron", "Hebron Leather and Shoe Cluster", "PS", "Hebron", ("Leather",)),
    Cluster(
        "mecatronique", "Cluster Mécatronique", "TN", "Sousse", ("Mechatronics", "Electronics")
    ),
    Cluster(
        "olive",
        "Cluster de l'huile d'olive du Nord-Ouest",
        "TN",
        "Béja",
        ("Olive oil", "Agri-food"),
    ),
    Cluster("marbre", "Cluster Marbre", "TN", "Thala", ("Marble", "Stone")),
    Cluster(
        "intaj",
        "ICT Association of Jordan",
        "JO",
        "Amman",
        ("ICT",),
        kind="association",
        acronym="int@j",
    ),
    Cluster("oasis", "OASIS500", "JO", "Amman", ("Startups", "ICT"), kind="association"),
)
MENTOR_CLUSTERS = (
    Cluster(
        "lyon",
        "Pôle Numérique Rhône-Alpes",
        "FR",
        "Lyon",
        ("ICT",),
        kind="competitiveness_pole",
        details={"founded": 2005, "members_count": 210},
    ),
    Cluster("marseille", "Cluster Méditerranée Agroalimentaire", "FR", "Marseille", ("Agri-food",)),
    Cluster("nantes", "Cluster Textile de l'Ouest", "FR", "Nantes", ("Textile",)),
    Cluster("torino", "Cluster Meccatronica Piemonte", "IT", "Torino", ("Mechatronics",)),
    Cluster("milano", "Lombardia Energy Cluster", "IT", "Milano", ("Energy",)),
    Cluster("bari", "Distretto Agroalimentare Puglia", "IT", "Bari", ("Agri-food",)),
    Cluster("ramallah", "Palestine ICT Incubator Cluster", "PS", "Ramallah", ("ICT",)),
    Cluster("gaza", "Gaza Furniture Makers", "PS", "Gaza", ("Furniture",)),
    Cluster(
        "barcelona",
        "Clúster Digital de Catalunya",
        "ES",
        "Barcelona",
        ("ICT", "Digital"),
        details={"website": "https://digital.example.es"},
    ),
    Cluster("valencia", "Clúster de la Energía", "ES", "Valencia", ("Energy",)),
    Cluster("sevilla", "Clúster Aeroespacial Andaluz", "ES", "Sevilla", ("Aerospace",)),
    Cluster("bilbao", "Clúster de Movilidad Vasco", "ES", "Bilbao", ("Automotive",)),
    Cluster("murcia", "Clúster del Mármol de Murcia", "ES", "Murcia", ("Marble", "Stone")),
)
ALL_CLUSTERS = MENTEE_CLUSTERS + MENTOR_CLUSTERS
LABEL = {
    "id": "label-ereci-bronze",
    "scheme": "ESCA Cluster Management Excellence",
    "level": "bronze",
    "awarded_on": "2019-05-01",
    "valid_until": "2021-05-01",
}
"""The label the registry awarded ERECI (shown with its level and validity)."""


@dataclass(frozen=True)
class Cast:
    programme_id: str
    mentors: list[str]
    mentees: list[str]
    names: dict[str, str]
    """person id -> name"""


def cluster_id(key: str) -> str:
    return f"cluster-{key}"


def known_clusters(harness: ServiceHarness) -> None:
    """The registry's clusters (with their details) and ERECI's label, as its events."""
    events = [
        registry_event(
            "registry.cluster.registered",
            cluster_data(
                cluster_id(cluster.key),
                cluster.country,
                name=cluster.name,
                acronym=cluster.acronym,
                city=cluster.city,
                kind=cluster.kind,
                sectors=list(cluster.sectors),
                **cluster.details,
            ),
        )
        for cluster in ALL_CLUSTERS
    ]
    events.append(
        platform_catalogue().make_event(
            "registry.cluster.label_awarded",
            subject=cluster_id("ereci"),
            data={
                "cluster_id": cluster_id("ereci"),
                "cluster_name": "Egyptian Renewable Energy Cluster Initiative",
                "label": LABEL,
            },
        )
    )
    deliver(harness, *events)


def person_event(person_id: str, name: str, cluster: str, role: str) -> Any:
    return registry_event(
        "registry.person.registered",
        {
            "id": person_id,
            "name": name,
            "email": f"{person_id}@example.org",
            "language": "fr",
            "cluster_id": cluster_id(cluster),
            "country": None,
            "role": role,
            "phone": "+216 71 123 456",
        },
    )


def the_2021_programme(harness: ServiceHarness, *, status: str = "running") -> Cast:
    """The whole cast, enrolled and paired (mentor n with mentee n), the programme
    ``status`` (open or running)."""
    known_clusters(harness)
    mentors, mentees, names = [], [], {}
    people = []
    for n, cluster in enumerate(MENTOR_CLUSTERS):
        person_id, name = f"mentor-{n:02d}", f"Mentor{n:02d} Adams"
        people.append(person_event(person_id, name, cluster.key, "cluster_manager"))
        mentors.append(person_id)
        names[person_id] = name
    # thirteen mentees in twelve clusters: Maroc Numeric Cluster sends two
    for n, cluster in enumerate((*MENTEE_CLUSTERS, MENTEE_CLUSTERS[0])):
        person_id, name = f"mentee-{n:02d}", f"Mentee{n:02d} Baker"
        people.append(person_event(person_id, name, cluster.key, "governance_team"))
        mentees.append(person_id)
        names[person_id] = name
    deliver(harness, *people)
    programme = call(
        harness,
        "POST",
        "/programmes",
        201,
        json={
            "name": "Cluster Mentoring Reloaded",
            "edition": "2021",
            "organiser": "ACCIÓ",
            "starts_on": "2021-01-11",
            "ends_on": "2021-10-29",
            "competencies": ["governance_strategy", "funding", "internationalisation"],
        },
    )
    pid = programme["id"]
    call(harness, "POST", f"/programmes/{pid}/open")
    for person_id in mentors + mentees:
        role = "mentor" if person_id in mentors else "mentee"
        call(
            harness,
            "POST",
            f"/programmes/{pid}/enrolments",
            201,
            json={"person_id": person_id, "role": role, "languages": ["en", "fr", "ar"]},
        )
    for mentor, mentee in zip(mentors, mentees, strict=True):
        call(
            harness,
            "POST",
            f"/programmes/{pid}/pairs",
            201,
            json={"mentor_id": mentor, "mentee_id": mentee},
        )
    if status == "running":
        call(harness, "POST", f"/programmes/{pid}/launch")
    return Cast(pid, mentors, mentees, names)
