"""Demo data of the 2021 Cluster Mentoring programme, loaded through the registry's HTTP API.

DEMO DATA. The clusters are the real clusters of the 2021 programme (their names,
countries and kinds); their cities and sector lists are plausible summaries, and their
founding years, websites and member counts are left out on purpose. The people are
INVENTED: one governance-team member per cluster, with a made-up name and an address
at ``example.org`` (a domain reserved for examples), so no real person is contacted.

``booster seed`` runs :func:`seed` with a :class:`RegistryClient`. It goes through the
API (never the database), so the registry emits its events as for any client. Running
it again changes nothing: every item is looked up before it is created, and every
write carries a stable ``Idempotency-Key``; country policies are written only when
they differ from :data:`~services.registry.domain.countries.POLICIES`.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from services.registry.domain.countries import POLICIES
from shared.auth import mint_token
from shared.config import Settings

SUBJECT = "booster-seed"
SCOPE = "registry:read registry:write"
DEMO_PERSON = "DEMO DATA: an invented person, not a real contact"
# The people's language follows their cluster's country.
LANGUAGES = {"MA": "fr", "TN": "fr", "DZ": "fr", "EG": "ar", "PS": "ar", "JO": "ar"}
# Programme countries first (Morocco, Egypt, Palestine, Tunisia, Jordan, Algeria,
# Lebanon), then the European partners.
COUNTRIES: tuple[str, ...] = ("MA", "EG", "PS", "TN", "JO", "DZ", "LB", "FR", "IT", "ES")


# -- the data ------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoPerson:
    """A governance-team member of a demo cluster. DEMO DATA: the person is invented."""

    name: str
    email: str
    demo: str = DEMO_PERSON


@dataclass(frozen=True)
class DemoCluster:
    """A cluster of the 2021 programme and its (invented) governance-team member."""

    name: str
    country: str
    kind: str
    city: str
    sectors: tuple[str, ...]
    person: DemoPerson
    acronym: str | None = None

    @property
    def slug(self) -> str:
        return slugify(self.name)

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

    def person_body(self, cluster_id: str) -> dict[str, Any]:
        """What ``POST /api/v1/people`` receives for the cluster's person."""
        return {
            "name": self.person.name,
            "email": self.person.email,
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


def slugify(text: str) -> str:
    """``Pôle de Compétitivité Agrinova`` -> ``pole-de-competitivite-agrinova``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# -- the HTTP client -----------------------------------------------------------------
class RegistryError(Exception):
    """The registry could not be reached, or answered with an error (its problem detail)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


class RegistryClient:
    """JSON over HTTP to the registry's ``/api/v1`` with a bearer token (``requests``)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()
        self._http.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, application/problem+json",
            }
        )
        # A registry on loopback is never reached through an HTTP(S)_PROXY.
        self._http.trust_env = not _loopback(urlsplit(self.base_url).hostname or "")

    @classmethod
    def for_settings(cls, base_url: str, settings: Settings) -> RegistryClient:
        """A client with a token minted from the platform settings' JWT secret."""
        token = mint_token(
            settings.jwt_secret,
            SUBJECT,
            SCOPE,
            audience=settings.jwt_audience,
            algorithm=settings.jwt_algorithm,
        )
        return cls(base_url, token)

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).body

    def post(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Answer:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", path, body=body, headers=headers)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body=body).body

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        url = self.base_url + path
        query = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            response = self._http.request(
                method,
                url,
                params=query or None,
                json=body,
                headers=dict(headers or {}),
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise RegistryError(
                f"Cannot reach the registry at {self.base_url}: {error}. Is it running "
                "(`booster run` or `booster serve registry`)? See --registry-url."
            ) from None
        if response.status_code >= 400:
            raise self._problem(method, path, response.status_code, response.content)
        raw = response.content
        return Answer(
            response.status_code,
            _json(raw, method, url) if raw else None,
            dict(response.headers),
        )

    def _problem(self, method: str, path: str, status: int, raw: bytes) -> RegistryError:
        try:
            problem = json.loads(raw) if raw else {}
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        title = problem.get("title") or "error"
        message = f"{method} {path} -> {status} {title}"
        if detail := problem.get("detail"):
            message += f": {detail}"
        errors = problem.get("errors") or []
        if isinstance(errors, list) and errors:
            message += " (" + "; ".join(_field_error(error) for error in errors) + ")"
        if status == 401:
            message += ". Does BOOSTER_JWT_SECRET (and audience/algorithm) match the registry's?"
        return RegistryError(message, status)


def _field_error(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    where = next((str(error[k]) for k in ("pointer", "parameter", "header") if k in error), "")
    return f"{where}: {error.get('detail', '')}" if where else str(error.get("detail", ""))


def _json(raw: bytes, method: str, url: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise RegistryError(
            f"{method} {url} answered something that is not JSON: is this the registry?"
        ) from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- the seed ------------------------------------------------------------------------
@dataclass
class Tally:
    created: int = 0
    present: int = 0
    updated: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.present} already present, {self.updated} updated"


@dataclass
class SeedReport:
    """What one run of :func:`seed` did."""

    countries: Tally = field(default_factory=Tally)
    clusters: Tally = field(default_factory=Tally)
    people: Tally = field(default_factory=Tally)
    actions: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(t.created or t.updated for t in (self.countries, self.clusters, self.people))

    def summary(self) -> str:
        lines = [
            f"countries: {self.countries}",
            f"clusters:  {self.clusters}",
            f"people:    {self.people}",
        ]
        lines += [f"  {action}" for action in self.actions]
        if not self.changed:
            lines.append("nothing to do: the demo data was already loaded")
        return "\n".join(lines)


def seed(
    client: RegistryClient,
    clusters: Sequence[DemoCluster] = CLUSTERS,
    countries: Sequence[str] = COUNTRIES,
) -> SeedReport:
    """Load the demo data through the API; what is already there is left as it is."""
    report = SeedReport()
    for code in countries:
        _seed_country(client, code, report)
    for cluster in clusters:
        cluster_id = _seed_cluster(client, cluster, report)
        _seed_person(client, cluster, cluster_id, report)
    return report


def _seed_country(client: RegistryClient, code: str, report: SeedReport) -> None:
    try:
        country = client.get(f"/api/v1/countries/{code}")
    except RegistryError as error:
        if error.status == 404:
            raise RegistryError(
                f"The registry does not know country {code}: is its database migrated "
                "(`booster db upgrade registry`)?",
                404,
            ) from None
        raise
    wanted = POLICIES.get(code)
    if wanted is None:
        report.countries.present += 1
        return
    policy = {"summary": wanted.summary, "facts": list(wanted.facts)}
    current = country.get("policy") or {}
    if {"summary": current.get("summary"), "facts": list(current.get("facts") or [])} == policy:
        report.countries.present += 1
        return
    client.put(f"/api/v1/countries/{code}/policy", policy)
    report.countries.updated += 1
    report.actions.append(f"country {code}: policy context updated")


def _seed_cluster(client: RegistryClient, cluster: DemoCluster, report: SeedReport) -> str:
    params = {"q": cluster.name, "country": cluster.country, "limit": 200}
    wanted = cluster.name.casefold()
    for item in _items(client, "/api/v1/clusters", params):
        if item.get("name", "").casefold() == wanted:
            report.clusters.present += 1
            return str(item["id"])
    answer = client.post(
        "/api/v1/clusters", cluster.body(), idempotency_key=f"seed-cluster-{cluster.slug}"
    )
    if answer.headers.get("Idempotent-Replayed") == "true":
        report.clusters.present += 1
    else:
        report.clusters.created += 1
    return str(answer.body["id"])


def _seed_person(
    client: RegistryClient, cluster: DemoCluster, cluster_id: str, report: SeedReport
) -> None:
    email = cluster.person.email
    params = {"q": email, "limit": 200}
    if any(
        item.get("email", "").casefold() == email.casefold()
        for item in _items(client, "/api/v1/people", params)
    ):
        report.people.present += 1
        return
    try:
        answer = client.post(
            "/api/v1/people",
            cluster.person_body(cluster_id),
            idempotency_key=f"seed-person-{slugify(email)}",
        )
    except RegistryError as error:
        if error.status != 409:  # 409: registered meanwhile, by someone else
            raise
        report.people.present += 1
        return
    if answer.headers.get("Idempotent-Replayed") == "true":
        report.people.present += 1
    else:
        report.people.created += 1


def _items(client: RegistryClient, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a list, following ``next_cursor``."""
    cursor = None
    while True:
        page = client.get(path, {**params, "cursor": cursor})
        yield from page.get("items", [])
        cursor = page.get("next_cursor")
        if not cursor:
            return
