"""The events service's HTTP API against its own OpenAPI document, property-based.

Every documented operation is fuzzed, positive and negative, with random path ids and
with the ids of resources made for the case (see ``tests/integration/openapi_fuzz.py``
for the machinery and the checks); hypothesis runs derandomized, so every run sends
the same requests. A registration's ``person_id`` is random, so nearly every
registration the fuzz posts is refused (422: no such person): the real registrations
come from the real ids.

``test_edge_inputs`` adds schema-valid inputs that random generation practically
never produces (forged cursors, NUL characters, times out of range), one case each:
each must be refused with a problem (4xx), never a 5xx. ``test_changes_conform`` sends
the changes a random ``If-Match`` never gets through (``*``, the current ETag): each
must succeed and conform.

The token holds the operator scopes and ``self`` for a known person with registrations,
so that the ``/me`` routes answer with their data (a token without ``self`` is refused
there); ``/feeds/calendar.ics`` needs no token (a random key: 404).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from booster.testing import ServiceHarness
from tests.integration.events.conftest import (
    RW,
    in_days,
    known_person,
    new_event,
    register,
)
from tests.integration.openapi_fuzz import (
    CHECKS,
    Edge,
    assert_conforms,
    backend_harness,
    check_edge,
    cursor,
    edge_params,
    load_schema,
)

MIN_CASES = 350
FUZZER = "fuzz-me"
"""The person the fuzz token's ``sub`` names (it also holds ``self``)."""
SCOPES = f"{RW} self"


class RealIds:
    """Fresh resources for a case's path parameters, so the happy paths are reached.

    ``{event_id}`` is a published event (a draft for ``/publish``); under
    ``/registrations`` it has one seat, taken by a known person, and a second known
    person on the waitlist; ``{registration_id}`` is either of the two, in turn (so a
    cancellation sometimes promotes the next in line).
    """

    def __init__(self, harness: ServiceHarness) -> None:
        self.harness = harness
        self.serial = itertools.count()

    def for_operation(self, operation: Any) -> dict[str, str]:
        names = {parameter.name for parameter in operation.path_parameters}
        ids: dict[str, str] = {}
        if "event_id" in names:
            if "/registrations" in operation.path:
                ids["event_id"], registration_ids = self._full_event()
                if "registration_id" in names:
                    ids["registration_id"] = registration_ids[next(self.serial) % 2]
            else:
                publish = not operation.path.endswith("/publish")
                ids["event_id"] = new_event(self.harness, publish=publish)["id"]
        assert names == set(ids), f"no real ids for {sorted(names - set(ids))}"
        return ids

    def _full_event(self) -> tuple[str, list[str]]:
        """A published event with one seat: one person confirmed, one waitlisted."""
        event_id = new_event(self.harness, capacity=1)["id"]
        registration_ids = []
        for expected in ("confirmed", "waitlisted"):
            person_id = known_person(self.harness, f"fuzz-person-{next(self.serial)}")
            response = register(self.harness, event_id, person_id)
            assert response.status_code == 201, response.get_json()
            assert response.get_json()["status"] == expected, response.get_json()
            registration_ids.append(response.get_json()["id"])
        return event_id, registration_ids


def own_registrations(harness: ServiceHarness) -> None:
    """The fuzzing person's registrations (a seat and a place on a waitlist) and feed."""
    known_person(harness, FUZZER)
    assert register(harness, new_event(harness)["id"], FUZZER).status_code == 201
    full = new_event(harness, capacity=1)["id"]
    assert register(harness, full, known_person(harness, "fuzz-first")).status_code == 201
    assert register(harness, full, FUZZER).status_code == 201
    own = harness.headers("self", sub=FUZZER)
    assert harness.client.post("/api/v1/me/calendar-feed", headers=own).status_code == 201


def test_events_api_conforms_to_its_openapi_document(events: ServiceHarness) -> None:
    own_registrations(events)
    schema = load_schema(events, allow_nul=True)
    auth = events.headers(SCOPES, sub=FUZZER)
    assert_conforms(schema, auth, RealIds(events), min_cases=MIN_CASES)


# -- schema-valid inputs that random generation practically never produces ----------------

EVENTS = "GET /api/v1/events"
REGISTRATIONS = "GET /api/v1/events/{event_id}/registrations"
OWN = "GET /api/v1/me/registrations"
FEED = "GET /feeds/calendar.ics"
PATCH = "PATCH /api/v1/events/{event_id}"
EDGES = [
    # the event list's cursor holds (starts_at as RFC 3339 with an offset, id)
    Edge("cursor-not-iso", EVENTS, {"cursor": cursor("next tuesday", "x")}),
    Edge("cursor-naive", EVENTS, {"cursor": cursor("2030-01-01T09:00:00", "x")}),
    Edge("cursor-year-1", EVENTS, {"cursor": cursor("0001-01-01T00:00:00+05:00", "x")}),
    Edge("cursor-year-9999", EVENTS, {"cursor": cursor("9999-12-31T23:59:59-05:00", "x")}),
    Edge("cursor-numbers", EVENTS, {"cursor": cursor(1, 2)}),
    Edge("cursor-nul", EVENTS, {"cursor": cursor("2030-01-01T09:00:00+00:00", "x\x00")}),
    # the registration list's cursor holds a registration's sequence (1, 2, ...)
    Edge("cursor-huge-int", REGISTRATIONS, {"cursor": cursor(10**30)}),
    Edge("cursor-string", REGISTRATIONS, {"cursor": cursor("1")}),
    Edge("cursor-negative", REGISTRATIONS, {"cursor": cursor(-1)}),
    Edge("cursor-zero", REGISTRATIONS, {"cursor": cursor(0)}),
    Edge("cursor-bool", REGISTRATIONS, {"cursor": cursor(True)}),
    Edge("cursor-float", REGISTRATIONS, {"cursor": cursor(1.5)}),
    # the start filters: RFC 3339 with an offset, 1970 to 2200
    Edge("from-year-1", EVENTS, {"from": "0001-01-01T00:00:00+05:00"}),
    Edge("to-year-9999", EVENTS, {"to": "9999-12-31T23:59:59-05:00"}),
    Edge("from-before-1970", EVENTS, {"from": "1969-12-31T23:59:59Z"}),
    Edge("to-after-2200", EVENTS, {"to": "2200-01-01T00:00:01+00:00"}),
    Edge("to-naive", EVENTS, {"to": "2030-01-01T09:00:00"}),
    # NUL (no database stores it) and lone surrogates (not encodable as UTF-8)
    Edge("surrogate-body", "POST /api/v1/events/{event_id}/registrations", {},
         body={"person_id": "\ud800"}),
    Edge("nul-body", "POST /api/v1/events", {},
         body={"kind": "webinar", "title": "Nul\x00", "format": "online",
               "starts_at": "2030-01-01T09:00:00+00:00", "ends_at": "2030-01-01T10:00:00+00:00",
               "timezone": "UTC", "online_link": "https://example.org/nul"}),
    Edge("nul-body-person", "POST /api/v1/events/{event_id}/registrations", {},
         body={"person_id": "nul\x00id"}),
    Edge("nul-query", EVENTS, {"kind": "webinar\x00"}),
    Edge("nul-path", "GET /api/v1/events/{event_id}", {}, path={"event_id": "nul\x00id"}),
    Edge("nul-path-registration", "GET /api/v1/events/{event_id}/registrations/{registration_id}",
         {}, path={"event_id": "x", "registration_id": "nul\x00id"}),
    # the participant list's filters, and its CSV
    Edge("csv-bad-country", REGISTRATIONS, {"format": "csv", "country": "XX"}),
    Edge("csv-nul-cluster", REGISTRATIONS, {"format": "csv", "cluster_id": "c\x00"}),
    # a person's own list: its cursor holds (past?, starts_at, registration id)
    Edge("own-cursor-naive", OWN, {"cursor": cursor(False, "2030-01-01T09:00:00", "x")}),
    Edge("own-cursor-not-bool", OWN, {"cursor": cursor(0, "2030-01-01T09:00:00+00:00", "x")}),
    Edge("own-cursor-year-1", OWN, {"cursor": cursor(True, "0001-01-01T00:00:00+05:00", "x")}),
    Edge("own-cursor-short", OWN, {"cursor": cursor(True, "2030-01-01T09:00:00+00:00")}),
    # the feed: a key no feed has, with characters no database stores
    Edge("feed-nul-key", FEED, {"key": "nul\x00key"}),
    Edge("feed-unknown-key", FEED, {"key": "x" * 43}),
    # changes (If-Match: *) that break the event's rules
    Edge("patch-agenda-outside", PATCH, {},
         body={"agenda": [{"starts_at": "2199-01-01T00:00:00+00:00", "title": "Later"}]}),
    Edge("patch-past", PATCH, {}, body={"starts_at": "1970-01-02T00:00:00+00:00"}),
    Edge("patch-null-title", PATCH, {}, body={"title": None}),
]  # fmt: skip


@pytest.mark.parametrize(("backend", "edge"), edge_params(EDGES))
def test_edge_inputs(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, edge: Edge
) -> None:
    with backend_harness(request, tmp_path, "events", backend) as harness:
        schema = load_schema(harness)
        headers = harness.headers(SCOPES, sub=FUZZER, **{"If-Match": "*"})
        check_edge(schema, edge, headers, RealIds(harness), refused=True)


CHANGES = [
    {"capacity": 50, "title": "A longer trip"},
    {"capacity": None},
    {"starts_at": in_days(60, 8), "ends_at": in_days(61, 16), "city": "Grenoble"},
    {"agenda": [{"starts_at": in_days(30, 9), "title": "Welcome", "speaker": "Amina"}]},
    {"sectors": ["Agrifood"], "host_organisation": "Lyon Hub", "description": None},
    {},
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_changes_conform(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> None:
    """Changes that get through If-Match: each answers 200 with the ETag and the event as
    documented (the fuzz's random If-Match is stale: 412)."""
    with backend_harness(request, tmp_path, "events", backend) as harness:
        schema = load_schema(harness)
        operation = schema.find_operation_by_label(PATCH)
        for body in CHANGES:
            event = new_event(harness)
            if_match = "*"
            for _ in range(2):  # then again with the ETag it answered (no change: the same)
                headers = harness.headers(RW, **{"If-Match": if_match})
                case = operation.Case(
                    path_parameters={"event_id": event["id"]}, headers=headers, body=body
                )
                response = case.call()
                case.validate_response(response, checks=CHECKS)
                assert response.status_code == 200, (body, response.text)
                (if_match,) = dict(response.headers)["etag"]
                assert if_match == f'"{event["id"]}.{response.json()["version"]}"'
