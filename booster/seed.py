"""``booster seed``: the 2021 Cluster Booster Track loaded through the services' APIs.

The data and what in it is real or invented: :mod:`booster.seed_2021` (DEMO DATA).

:func:`seed` goes through the HTTP APIs (never a database), so each service emits its
events as for any client, and the platform's flows run on the demo data as on any
other: the registry's people reach mentoring's and events' read copies and the
notifications service's recipients through the bus. In order:

1. the registry: the countries' policy context, the twelve clusters with a
   governance-team member each (one has two: thirteen mentees), the thirteen mentors;
2. mentoring: "Cluster Mentoring Reloaded" created and opened, everyone enrolled (once
   mentoring's read copy knows them: the seed waits for the registry's events to get
   there), matching run and the thirteen proposals confirmed, the programme launched,
   its three joint meetings scheduled;
3. events: the online launch of 20 January 2021, the three joint meetings and a
   business trip (its ``sectors`` and ``host_organisation`` sent only if the events
   API's OpenAPI document says it takes them). The events lie in the past, so they
   stay drafts: a started event cannot be published, and the events service does not
   host a joint meeting that has started.

Running it again changes nothing: every item is looked up before it is created, every
create carries a stable ``Idempotency-Key``, and country policies are written only when
they differ from the registry's reference data.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from booster.seed_2021 import (
    BUSINESS_TRIP,
    CLUSTERS,
    COUNTRIES,
    MEETINGS,
    MENTORS,
    PROGRAMME,
    TRIP_EXTRAS,
    DemoCluster,
    DemoMentor,
    DemoPerson,
    events,
    mentee_enrolment,
    mentor_enrolment,
    slugify,
)
from services.registry.domain.countries import POLICIES
from shared.auth import TokenIssuer
from shared.config import Settings

SUBJECT = "booster-seed"
SCOPE = " ".join(
    f"{service}:{access}"
    for service in ("registry", "mentoring", "events")
    for access in ("read", "write")
)
SEEDED_SERVICES = ("registry", "mentoring", "events")
T = TypeVar("T")


# -- the HTTP client -----------------------------------------------------------------
class SeedError(Exception):
    """A service could not be reached, or answered with an error (its problem detail)."""

    def __init__(
        self, message: str, status: int | None = None, problem: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem: Mapping[str, Any] = problem or {}


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


class ApiClient:
    """JSON over HTTP to one service's ``/api/v1`` with a bearer token (``requests``)."""

    def __init__(self, service: str, base_url: str, token: str, *, timeout: float = 15.0) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()
        self._http.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, application/problem+json",
            }
        )
        # a service on loopback is never reached through an HTTP(S)_PROXY
        self._http.trust_env = not _loopback(urlsplit(self.base_url).hostname or "")

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).body

    def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Answer:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", path, body=body if body is not None else {}, headers=headers)

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
            raise SeedError(
                f"Cannot reach the {self.service} service at {self.base_url}: {error}. Is it "
                f"running (`booster run`, or `booster serve {self.service}`)? See "
                f"--{self.service}-url and --port-offset."
            ) from None
        raw = response.content
        if response.status_code >= 400:
            raise self._problem(method, path, response.status_code, raw)
        return Answer(
            response.status_code,
            self._json(raw, method, url) if raw else None,
            dict(response.headers),
        )

    def _json(self, raw: bytes, method: str, url: str) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise SeedError(
                f"{method} {url} answered something that is not JSON: is this the "
                f"{self.service} service?"
            ) from None

    def _problem(self, method: str, path: str, status: int, raw: bytes) -> SeedError:
        try:
            problem = json.loads(raw) if raw else {}
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        title = problem.get("title") or "error"
        message = f"{self.service}: {method} {path} -> {status} {title}"
        if detail := problem.get("detail"):
            message += f": {detail}"
        errors = problem.get("errors") or []
        if isinstance(errors, list) and errors:
            message += " (" + "; ".join(_field_error(error) for error in errors) + ")"
        if status == 401:
            message += (
                f". Does BOOSTER_JWT_SECRET (and audience/algorithm) match the {self.service}'s?"
            )
        return SeedError(message, status, problem)


def _field_error(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    where = next((str(error[k]) for k in ("pointer", "parameter", "header") if k in error), "")
    return f"{where}: {error.get('detail', '')}" if where else str(error.get("detail", ""))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Clients:
    """One client per service the seed writes to."""

    registry: ApiClient
    mentoring: ApiClient
    events: ApiClient

    @classmethod
    def for_settings(cls, urls: Mapping[str, str], settings: Settings) -> Clients:
        """Clients with one token minted as the platform settings say (the JWT secret,
        or the issuer's private key)."""
        token = TokenIssuer.from_settings(settings).mint(SUBJECT, SCOPE)
        return cls(**{name: ApiClient(name, urls[name], token) for name in SEEDED_SERVICES})

    def close(self) -> None:
        for client in (self.registry, self.mentoring, self.events):
            client.close()


# -- the report ----------------------------------------------------------------------
@dataclass
class Tally:
    created: int = 0
    present: int = 0
    updated: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.present} already present, {self.updated} updated"

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


@dataclass
class SeedReport:
    """What one run of :func:`seed` did, per kind of item."""

    countries: Tally = field(default_factory=Tally)
    clusters: Tally = field(default_factory=Tally)
    people: Tally = field(default_factory=Tally)
    programmes: Tally = field(default_factory=Tally)
    enrolments: Tally = field(default_factory=Tally)
    pairs: Tally = field(default_factory=Tally)
    meetings: Tally = field(default_factory=Tally)
    events: Tally = field(default_factory=Tally)
    actions: list[str] = field(default_factory=list)
    programme_id: str | None = None

    def tallies(self) -> dict[str, Tally]:
        return {name: value for name, value in vars(self).items() if isinstance(value, Tally)}

    @property
    def changed(self) -> bool:
        return any(tally.changed for tally in self.tallies().values())

    def summary(self) -> str:
        lines = [f"{name + ':':<11} {tally}" for name, tally in self.tallies().items()]
        lines += [f"  {action}" for action in self.actions]
        if not self.changed:
            lines.append("nothing to do: the demo data was already loaded")
        return "\n".join(lines)


# -- the seed ------------------------------------------------------------------------
def seed(clients: Clients, *, wait: float = 60.0) -> SeedReport:
    """Load the 2021 programme through the APIs; what is already there stays as it is.

    ``wait``: how long to wait, in seconds, for mentoring's read copy of the people just
    registered (the registry's events reach it through the bus)."""
    report = SeedReport()
    mentees, mentors = seed_registry(clients.registry, report)
    seed_mentoring(clients.mentoring, mentees, mentors, report, wait=wait)
    seed_events(clients.events, report)
    return report


def seed_registry(
    client: ApiClient,
    report: SeedReport,
    clusters: Sequence[DemoCluster] = CLUSTERS,
    mentors: Sequence[DemoMentor] = MENTORS,
    countries: Sequence[str] = COUNTRIES,
) -> tuple[list[tuple[DemoCluster, str]], list[tuple[DemoMentor, str]]]:
    """Countries, clusters, people; returns (cluster, person id) per mentee and
    (mentor, person id) per mentor, in the data's order."""
    for code in countries:
        _seed_country(client, code, report)
    mentees: list[tuple[DemoCluster, str]] = []
    for cluster in clusters:
        cluster_id = _seed_cluster(client, cluster, report)
        for person in cluster.people:
            body = cluster.person_body(cluster_id, person)
            mentees.append((cluster, _seed_person(client, person, body, report)))
    registered: list[tuple[DemoMentor, str]] = []
    for mentor in mentors:
        cluster_id = _seed_cluster(client, mentor.cluster, report)
        body = mentor.person_body(cluster_id)
        registered.append((mentor, _seed_person(client, mentor.person, body, report)))
    return mentees, registered


def _seed_country(client: ApiClient, code: str, report: SeedReport) -> None:
    try:
        country = client.get(f"/api/v1/countries/{code}")
    except SeedError as error:
        if error.status == 404:
            raise SeedError(
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


def _seed_cluster(client: ApiClient, cluster: DemoCluster, report: SeedReport) -> str:
    params = {"q": cluster.name, "country": cluster.country, "limit": 200}
    wanted = cluster.name.casefold()
    for item in items(client, "/api/v1/clusters", params):
        if item.get("name", "").casefold() == wanted:
            report.clusters.present += 1
            return str(item["id"])
    answer = client.post(
        "/api/v1/clusters", cluster.body(), idempotency_key=f"seed-cluster-{cluster.slug}"
    )
    _count(report.clusters, answer)
    return str(answer.body["id"])


def _seed_person(
    client: ApiClient, person: DemoPerson, body: dict[str, Any], report: SeedReport
) -> str:
    found = _person_by_email(client, person.email)
    if found is not None:
        report.people.present += 1
        return found
    try:
        answer = client.post(
            "/api/v1/people", body, idempotency_key=f"seed-person-{slugify(person.email)}"
        )
    except SeedError as error:
        found = _person_by_email(client, person.email) if error.status == 409 else None
        if found is None:  # 409: registered meanwhile, by someone else
            raise
        report.people.present += 1
        return found
    _count(report.people, answer)
    return str(answer.body["id"])


def _person_by_email(client: ApiClient, email: str) -> str | None:
    for item in items(client, "/api/v1/people", {"q": email, "limit": 200}):
        if item.get("email", "").casefold() == email.casefold():
            return str(item["id"])
    return None


def seed_mentoring(
    client: ApiClient,
    mentees: Sequence[tuple[DemoCluster, str]],
    mentors: Sequence[tuple[DemoMentor, str]],
    report: SeedReport,
    *,
    wait: float = 60.0,
) -> str:
    """The programme, its enrolments, its pairs (matched and confirmed), its launch and
    its joint meetings; returns its id."""
    programme = _seed_programme(client, report)
    pid = programme["id"]
    report.programme_id = pid
    enrolled = {e["person_id"] for e in items(client, f"/api/v1/programmes/{pid}/enrolments")}
    bodies = [mentor_enrolment(n, mentor, person) for n, (mentor, person) in enumerate(mentors)]
    bodies += [mentee_enrolment(n, cluster, person) for n, (cluster, person) in enumerate(mentees)]
    missing = [body for body in bodies if body["person_id"] not in enrolled]
    report.enrolments.present += len(bodies) - len(missing)
    if missing and programme["status"] != "open":
        raise SeedError(
            f"{len(missing)} enrolment(s) of the demo data are missing, but the programme "
            f"{pid} is {programme['status']}: enrolment takes place while it is open."
        )
    deadline = time.monotonic() + wait
    for body in missing:
        enrol = partial(
            client.post,
            f"/api/v1/programmes/{pid}/enrolments",
            body,
            idempotency_key=f"seed-enrol-{pid}-{body['person_id']}",
        )
        _count(report.enrolments, _once_known(enrol, deadline, wait))

    active = list(items(client, f"/api/v1/programmes/{pid}/pairs", {"status": "active"}))
    report.pairs.present += len(active)
    if len(active) < len(mentees):
        proposals = client.post(f"/api/v1/programmes/{pid}/matching").body["proposals"]
        for proposal in proposals:
            client.post(f"/api/v1/pairs/{proposal['id']}/confirm")
            report.pairs.created += 1
        report.actions.append(f"matching: {len(proposals)} proposal(s) confirmed")

    if programme["status"] == "open":
        client.post(f"/api/v1/programmes/{pid}/launch", idempotency_key=f"seed-launch-{pid}")
        report.actions.append(f"programme {pid}: launched")

    scheduled = {m["title"] for m in items(client, f"/api/v1/programmes/{pid}/meetings")}
    for meeting in MEETINGS:
        if meeting["title"] in scheduled:
            report.meetings.present += 1
            continue
        answer = client.post(
            f"/api/v1/programmes/{pid}/meetings",
            meeting,
            idempotency_key=f"seed-meeting-{pid}-{slugify(meeting['title'])}",
        )
        _count(report.meetings, answer)
    return str(pid)


def _seed_programme(client: ApiClient, report: SeedReport) -> dict[str, Any]:
    """The programme, created (and opened) if need be."""
    wanted = (PROGRAMME["name"], PROGRAMME["edition"])
    found = [
        p for p in items(client, "/api/v1/programmes") if (p["name"], p.get("edition")) == wanted
    ]
    if found:
        programme = found[0]
        report.programmes.present += 1
    else:
        answer = client.post(
            "/api/v1/programmes",
            PROGRAMME,
            idempotency_key=f"seed-programme-{slugify(PROGRAMME['name'])}-{PROGRAMME['edition']}",
        )
        _count(report.programmes, answer)
        programme = answer.body
    if programme["status"] == "draft":
        pid = programme["id"]
        programme = client.post(
            f"/api/v1/programmes/{pid}/open", idempotency_key=f"seed-open-{pid}"
        ).body
        report.actions.append(f"programme {pid}: opened for enrolment")
    return dict(programme)


def _once_known(call: Callable[[], T], deadline: float, wait: float) -> T:
    """``call()``, again while mentoring answers that it does not know the person (or
    their cluster) yet: the registry's events are on their way to its read copy."""
    pause = 0.05
    while True:
        try:
            return call()
        except SeedError as error:
            if not (_not_known_yet(error) and time.monotonic() < deadline):
                if _not_known_yet(error):
                    raise SeedError(
                        f"{error} (still unknown after {wait:g} s: is the mentoring worker "
                        "running, and on the same broker as the registry's?)",
                        error.status,
                        error.problem,
                    ) from None
                raise
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def _not_known_yet(error: SeedError) -> bool:
    if error.status != 422:
        return False
    errors = error.problem.get("errors") or []
    return any(
        isinstance(e, dict)
        and e.get("pointer") == "#/person_id"
        and "known to the mentoring service" in str(e.get("detail", ""))
        for e in errors
    )


def seed_events(client: ApiClient, report: SeedReport) -> None:
    """The launch, the joint meetings and the business trip, as drafts (they are past)."""
    extras = _accepted_fields(client, set(TRIP_EXTRAS))
    for body in events():
        if body is BUSINESS_TRIP:
            body = {**body, **{k: v for k, v in TRIP_EXTRAS.items() if k in extras}}
        window = {"kind": body["kind"], "from": body["starts_at"], "to": body["ends_at"]}
        if any(e["title"] == body["title"] for e in items(client, "/api/v1/events", window)):
            report.events.present += 1
            continue
        answer = client.post(
            "/api/v1/events",
            body,
            idempotency_key=f"seed-event-{slugify(body['title'])}",
        )
        _count(report.events, answer)


def _accepted_fields(client: ApiClient, wanted: set[str]) -> set[str]:
    """Which of ``wanted`` the body of ``POST /api/v1/events`` takes, per the service's
    OpenAPI document (no token needed)."""
    document = client.request("GET", "/openapi.json").body
    try:
        schema = document["paths"]["/api/v1/events"]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]
    except (KeyError, TypeError):
        raise SeedError(
            "The events service's /openapi.json has no POST /api/v1/events: is "
            f"{client.base_url} the events service?"
        ) from None
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return wanted & set(schema.get("properties", {}))


def _count(tally: Tally, answer: Answer) -> None:
    """A create's answer: a replayed one (same ``Idempotency-Key``) was there already."""
    if answer.headers.get("Idempotent-Replayed") == "true":
        tally.present += 1
    else:
        tally.created += 1


def items(
    client: ApiClient, path: str, params: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Every item of a list, following ``next_cursor`` (200 a page)."""
    query = {"limit": 200, **(params or {})}
    cursor = None
    while True:
        page = client.get(path, {**query, "cursor": cursor})
        yield from page.get("items", [])
        cursor = page.get("next_cursor")
        if not cursor:
            return
