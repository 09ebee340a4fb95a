"""``make run`` as a newcomer meets it: ``booster run``, its banner, its logs, and the
2021 programme loaded with the command the banner prints.

One ``booster run`` (embedded defaults, a shell environment without ``BOOSTER_*``
settings but ``BOOSTER_VAR_DIR``) serves the first three tests, in order:

- the banner lists each service's URL and ``/docs``, and commands that work as printed
  from another shell in the same folder: a token, a first call with ``curl``;
- its logs go to a file, so they are JSON lines, and each request is logged once (the
  development server's own request line is not repeated beside the access log's);
- the printed ``booster seed`` loads the 2021 programme through the APIs; run again it
  changes nothing (every listing of every service is the same, to the last version
  number and timestamp), and the programme's report shows its 13 pairs.

At a terminal (a pseudo-terminal here) the logs are readable console lines instead.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from booster.seed_2021 import BUSINESS_TRIP, CLUSTERS, LAUNCH, MEETINGS, MENTORS, TRIP_EXTRAS
from shared.auth import mint_token
from tests.e2e.running import (
    SERVICE_PORTS,
    free_offset,
    get_json,
    output,
    process,
    stop,
    wait_http,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ROOT = Path(__file__).resolve().parents[2]
BANNER_END = "Ctrl-C stops everything."


def _clean_env() -> dict[str, str]:
    """The environment of a newcomer's shell: no BOOSTER_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BOOSTER_")}


def _shell(command: str) -> str:
    """``command`` as a newcomer types it: bash, the repository's folder, no settings."""
    result = subprocess.run(
        ["bash", "-c", command],
        env=_clean_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result.stdout


def _request(url: str, request_id: str) -> int:
    request = urllib.request.Request(url, headers={"X-Request-ID": request_id})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def _until(check: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.1)


@dataclass
class Newcomer:
    var: Path
    urls: dict[str, str]
    stdout: Path
    stderr: Path
    secret: str

    @property
    def banner(self) -> str:
        return self.stdout.read_text()

    def line(self, pattern: str) -> str:
        """The one banner line (stripped) that matches ``pattern`` (a regex)."""
        [found] = [line.strip() for line in self.banner.splitlines() if re.search(pattern, line)]
        return found

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(self.secret, 'tester', 'admin')}"}


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newcomer]:
    """``booster run`` started from the repository's folder by a newcomer's shell."""
    folder = tmp_path_factory.mktemp("newcomer")
    var = folder / "var"
    offset = free_offset()
    urls = {name: f"http://127.0.0.1:{port + offset}" for name, port in SERVICE_PORTS.items()}
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    with (
        out.open("wb") as stdout,
        err.open("wb") as stderr,
        process(
            ["run", "--port-offset", str(offset)],
            {"BOOSTER_VAR_DIR": str(var)},
            folder / "run.log",
            inherit=_clean_env(),
            stdout=stdout,
            stderr=stderr,
            cwd=ROOT,
        ) as run,
    ):
        for url in urls.values():
            wait_http(f"{url}/healthz", run)
        _until(lambda: BANNER_END in out.read_text(), "banner")
        secret = (var / "jwt_secret").read_text().strip()  # created on first start
        yield Newcomer(var, urls, out, err, secret)
        run.log = err  # type: ignore[attr-defined]
        assert stop(run) == [0], output(run)


def test_the_banner_lists_every_service_and_commands_that_work(newcomer: Newcomer) -> None:
    banner = newcomer.banner
    assert banner.startswith("Booster Track is running")
    for name, url in newcomer.urls.items():
        assert re.search(rf"^  {name} +{url} +docs: {url}/docs$", banner, re.M), banner

    # the token command exactly as printed, in a shell without BOOSTER_* settings
    command = newcomer.line(r"^  BOOSTER_VAR_DIR=\S+ \S+ token ")
    assert command.startswith(f"BOOSTER_VAR_DIR={newcomer.var} ")
    assert command.endswith(" token --sub newcomer --scope admin")
    token = _shell(command).strip()
    paths = {
        "registry": "/api/v1/countries/TN",
        "mentoring": "/api/v1/programmes",
        "events": "/api/v1/events",
        "notifications": "/api/v1/webhooks",
    }
    for name, url in newcomer.urls.items():
        status, body = get_json(url + paths[name], {"Authorization": f"Bearer {token}"})
        assert status == 200, (name, body)
    # the first call, as printed
    assert json.loads(_shell(newcomer.line(r"^  curl ")))["code"] == "TN"


def test_logs_to_a_file_are_json_and_each_request_is_logged_once(newcomer: Newcomer) -> None:
    assert _request(f"{newcomer.urls['events']}/openapi.json", "newcomer-once-1") == 200
    _until(lambda: "newcomer-once-1" in newcomer.stderr.read_text(), "access log line")
    records = [json.loads(line) for line in newcomer.stderr.read_text().splitlines() if line]
    about = [r for r in records if "/openapi.json" in json.dumps(r)]
    assert len(about) == 1
    [logged] = about
    assert (logged["event"], logged["request_id"], logged["status"]) == (
        "request",
        "newcomer-once-1",
        200,
    )
    assert not [r for r in records if r.get("logger") == "werkzeug"]


def _items(newcomer: Newcomer, service: str, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        separator = "&" if "?" in path else "?"
        url = f"{newcomer.urls[service]}{path}{separator}limit=200{cursor}"
        status, page = get_json(url, newcomer.headers())
        assert status == 200, page
        found += page["items"]
        if not page["next_cursor"]:
            return found
        cursor = f"&cursor={page['next_cursor']}"


def _everything(newcomer: Newcomer) -> dict[str, Any]:
    """Every listing the seed touches, in full, with each programme's report."""
    programmes = _items(newcomer, "mentoring", "/api/v1/programmes")
    snapshot: dict[str, Any] = {
        "countries": _items(newcomer, "registry", "/api/v1/countries"),
        "clusters": _items(newcomer, "registry", "/api/v1/clusters"),
        "people": _items(newcomer, "registry", "/api/v1/people"),
        "programmes": programmes,
        "events": _items(newcomer, "events", "/api/v1/events"),
    }
    for programme in programmes:
        base = f"/api/v1/programmes/{programme['id']}"
        for part in ("enrolments", "pairs", "meetings"):
            snapshot[f"{programme['id']}/{part}"] = _items(newcomer, "mentoring", f"{base}/{part}")
        url = f"{newcomer.urls['mentoring']}{base}/report"
        status, report = get_json(url, newcomer.headers())
        assert status == 200, report
        snapshot[f"{programme['id']}/report"] = report
    return snapshot


def test_the_printed_seed_loads_the_2021_programme_once(newcomer: Newcomer) -> None:
    offset = int(newcomer.urls["registry"].rsplit(":", 1)[1]) - SERVICE_PORTS["registry"]
    seed = newcomer.line(r"^  BOOSTER_VAR_DIR=\S+ \S+ seed")
    assert seed.endswith(f" seed --port-offset {offset}")

    first = _shell(seed)
    assert "clusters:   25 created" in first and "people:     26 created" in first
    assert "pairs:      13 created" in first and "events:     5 created" in first
    loaded = _everything(newcomer)
    second = _shell(seed)
    assert "nothing to do: the demo data was already loaded" in second
    for line in second.splitlines():
        if " created, " in line:
            assert " 0 created" in line and " 0 updated" in line, line
    assert _everything(newcomer) == loaded

    [programme] = loaded["programmes"]
    assert (programme["name"], programme["edition"]) == ("Cluster Mentoring Reloaded", "2021")
    assert programme["status"] == "running"
    totals = loaded[f"{programme['id']}/report"]["totals"]
    assert totals["pairs"] == totals["active_pairs"] == 13
    assert totals["joint_meetings"] == len(MEETINGS) == 3
    people = {person["id"]: person for person in loaded["people"]}
    pairs = loaded[f"{programme['id']}/pairs"]
    assert {people[p["mentor_id"]]["email"] for p in pairs} == {m.person.email for m in MENTORS}
    assert Counter(people[p["mentor_id"]]["country"] for p in pairs) == Counter(
        {"FR": 3, "IT": 3, "PS": 3, "ES": 4}
    )
    mentees = {person.email for cluster in CLUSTERS for person in cluster.people}
    assert {people[p["mentee_id"]]["email"] for p in pairs} == mentees
    assert all(p["score"] and p["reasons"] for p in pairs)
    governance = {p["cluster_id"] for p in loaded["people"] if p["role"] == "governance_team"}
    managers = {p["cluster_id"] for p in loaded["people"] if p["role"] == "cluster_manager"}
    assert len(governance) == 12 and len(managers) == 13
    assert governance | managers == {c["id"] for c in loaded["clusters"]}
    assert len(loaded[f"{programme['id']}/enrolments"]) == 26
    with_policy = [c for c in loaded["countries"] if c.get("policy")]
    assert {c["code"] for c in with_policy} == {
        "MA",
        "EG",
        "PS",
        "TN",
        "JO",
        "DZ",
        "LB",
        "FR",
        "IT",
        "ES",
    }

    events = {event["title"]: event for event in loaded["events"]}
    assert Counter(event["kind"] for event in events.values()) == {
        "launch": 1,
        "joint_meeting": 3,
        "business_trip": 1,
    }
    launch = events[LAUNCH["title"]]
    assert (launch["format"], launch["starts_at"][:10]) == ("online", "2021-01-20")
    trip = events[BUSINESS_TRIP["title"]]
    assert (trip["city"], trip["country"], trip["capacity"]) == ("Barcelona", "ES", 15)
    for extra, value in TRIP_EXTRAS.items():
        if extra in trip:  # the events API takes the trip's extras: they were sent
            assert trip[extra] == value
    assert {event["status"] for event in events.values()} == {"draft"}  # past: not publishable


@contextmanager
def _terminal() -> Iterator[tuple[int, list[bytes]]]:
    """A pseudo-terminal: its child side, and what the child wrote (read in a thread)."""
    parent, child = pty.openpty()
    seen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # the child side is closed: nothing more
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield child, seen
    finally:
        os.close(child)
        reader.join(5)
        os.close(parent)


def test_at_a_terminal_the_logs_are_console_lines(tmp_path: Path) -> None:
    offset = free_offset()
    url = f"http://127.0.0.1:{SERVICE_PORTS['registry'] + offset}"

    def text(seen: list[bytes]) -> str:
        return ANSI.sub("", b"".join(seen).decode(errors="replace")).replace("\r\n", "\n")

    with _terminal() as (child, seen):
        with process(
            ["run", "--port-offset", str(offset), "--service", "registry"],
            {"BOOSTER_VAR_DIR": str(tmp_path / "var")},
            tmp_path / "run.log",
            inherit=_clean_env(),
            stdout=child,
            stderr=child,
        ) as run:
            wait_http(f"{url}/healthz", run)
            assert _request(f"{url}/openapi.json", "at-a-terminal-1") == 200
            _until(
                lambda: all(w in text(seen) for w in ("at-a-terminal-1", BANNER_END)),
                "banner and access log line",
            )
            assert stop(run) == [0]
        shown = text(seen)
    assert "Booster Track is running" in shown
    logged = [line for line in shown.splitlines() if "/openapi.json" in line]
    assert len(logged) == 1, shown
    [line] = logged
    assert not line.lstrip().startswith("{")  # not JSON: a console line
    assert "request" in line and "at-a-terminal-1" in line and "status=200" in line
    assert not [line for line in shown.splitlines() if line.lstrip().startswith('{"')]
