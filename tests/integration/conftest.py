"""Integration fixtures: the demo service on a real database and the real broker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booster.bootstrap import bootstrap, create_app, create_worker
from booster.platform import spec
from booster.testing import ServiceHarness
from services.events.operations import MEETINGS
from shared.config import BusSettings, Settings
from shared.testing import fresh_postgres_database, migrated
from tests.conftest import TEST_SECRET
from tests.integration.demo import Demo

MENTORING_RW = "mentoring:read mentoring:write"


@pytest.fixture
def demo(database_url: str, bus_settings: BusSettings, unique: str) -> Iterator[Demo]:
    """The demo service on SQLite and on PostgreSQL, with its own queues."""
    service = Demo(unique, database_url, bus_settings)
    yield service
    service.delete_queues()


@pytest.fixture
def demo_pg(postgres_url: str, bus_settings: BusSettings, unique: str) -> Iterator[Demo]:
    service = Demo(unique, postgres_url, bus_settings)
    yield service
    service.delete_queues()


@contextmanager
def running(*loops: object) -> Iterator[None]:
    """Run relays/consumers (objects with run/stop) in threads for a block."""
    threads = []
    for loop in loops:
        thread = threading.Thread(target=loop.run, daemon=True)  # type: ignore[attr-defined]
        thread.start()
        threads.append(thread)
    try:
        for loop in loops:
            assert loop.ready.wait(15), f"{loop} did not become ready"  # type: ignore[attr-defined]
        yield
    finally:
        for loop in loops:
            loop.stop()  # type: ignore[attr-defined]
        for thread in threads:
            thread.join(15)
            assert not thread.is_alive(), "a loop did not stop"


@pytest.fixture
def run_loops() -> Callable[..., object]:
    return running


def eventually(check: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait until ``check()`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


@contextmanager
def running_platform(
    names: Sequence[str],
    admin_url: str,
    bus: BusSettings,
    var_dir: Path,
    **settings: Any,
) -> Iterator[dict[str, ServiceHarness]]:
    """Services each on a fresh PostgreSQL database, with their workers (relay, consumer,
    own loops) running on ``bus``, as harnesses by name. ``bus_settings`` deletes the
    queues afterwards."""
    with ExitStack() as stack:
        runtimes = {}
        for name in names:
            url = stack.enter_context(fresh_postgres_database(admin_url))
            migrated(spec(name), url)
            runtimes[name] = bootstrap(
                name,
                Settings(
                    environment="test",
                    var_dir=var_dir,
                    jwt_secret=TEST_SECRET,
                    database_urls={name: url},
                    bus=bus,
                    **settings,
                ),
            )
            stack.callback(runtimes[name].database.dispose)
        workers = [create_worker(runtime) for runtime in runtimes.values()]
        for worker in workers:
            worker.start()
        try:
            assert all(worker.wait_ready(15) for worker in workers)
            yield {
                name: ServiceHarness(runtime, create_app(runtime), TEST_SECRET)
                for name, runtime in runtimes.items()
            }
        finally:
            for worker in workers:
                worker.stop()
            for worker in workers:
                worker.join(15)


@dataclass(frozen=True)
class JointMeeting:
    id: str
    starts: datetime
    hosted: str  # the id of the event the events service hosts it as


def joint_meeting(
    mentoring: ServiceHarness, people: Sequence[str], *, title: str, online_link: str
) -> JointMeeting:
    """Over mentoring's API: a programme open from today for a year, ``people`` (the
    mentor, then the mentee) enrolled in it, and a two-hour joint meeting of theirs in
    ten days, in Tunis time."""

    def post(path: str, body: dict[str, Any], status: int = 201) -> Any:
        response = mentoring.client.post(
            f"/api/v1{path}", json=body, headers=mentoring.headers(MENTORING_RW)
        )
        assert response.status_code == status, response.get_json()
        return response.get_json()

    today = date.today()
    programme = post(
        "/programmes",
        {
            "name": "Cluster Mentoring Reloaded",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=365)).isoformat(),
            "competencies": ["funding"],
        },
    )
    pid = programme["id"]
    post(f"/programmes/{pid}/open", {}, 200)
    for person_id, role in zip(people, ("mentor", "mentee"), strict=True):
        post(f"/programmes/{pid}/enrolments", {"person_id": person_id, "role": role})
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    meeting = post(
        f"/programmes/{pid}/meetings",
        {
            "title": title,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "timezone": "Africa/Tunis",
            "online_link": online_link,
        },
    )
    return JointMeeting(meeting["id"], starts, str(uuid.uuid5(MEETINGS, meeting["id"])))
