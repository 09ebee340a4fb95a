"""The 50-way registration race: fifty people register for the last seats at once.

The events service runs under gunicorn (2 workers × 25 threads, so all fifty requests
are in flight together and reach PostgreSQL together). Each round releases fifty
clients at the same instant, each with its own connection:

- **race**: all fifty register for one business trip with 10 seats; the event's row
  lock puts them in line, so 10 are confirmed and 40 waitlisted, positions 1–40;
- **baseline**: the same fifty registrations, one per event (fifty events with 10 seats
  each), so nothing waits for a lock: the same work without contention.

Rounds alternate race and baseline; the figure is the median time until the last of
the fifty has its answer. Every race round is checked: no overbooking, no duplicate
place on the waitlist, every request answered 201.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from typing import Any

from bench.apps import (
    EventsApi,
    Process,
    booster_env,
    events_people,
    free_port,
    gunicorn_command,
    quiet_logs,
    rss_tree,
    secret,
)
from bench.common import BROKER_URL, Report, Result, Sizes, fresh_database, median, percentile

RACERS = 50
SEATS = 10
THREADS_PER_WORKER = 25


def _trip(api: EventsApi) -> str:
    """A published business trip with ``SEATS`` seats: its id."""
    return api.published_event(title="Race to Lyon", capacity=SEATS)


def _all_at_once(api: EventsApi, targets: list[tuple[str, str]]) -> tuple[float, list, list]:
    """Register each (event, person) from its own thread, all released together:
    the time until the last answer, each request's latency (ms) and its response."""
    barrier = threading.Barrier(len(targets) + 1)
    latencies: list[float] = [0.0] * len(targets)
    answers: list[Any] = [None] * len(targets)

    def run(index: int, event_id: str, person_id: str) -> None:
        barrier.wait()
        began = time.perf_counter()
        answers[index] = api.call(
            "POST", f"/api/v1/events/{event_id}/registrations", {"person_id": person_id}
        )
        latencies[index] = (time.perf_counter() - began) * 1000

    threads = [
        threading.Thread(target=run, args=(index, event_id, person_id))
        for index, (event_id, person_id) in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return (time.perf_counter() - began) * 1000, latencies, answers


def check_race(answers: list[tuple[int, Any]]) -> str:
    """'' if the race came out right, else what went wrong."""
    codes = Counter(status for status, _ in answers)
    if codes != {201: RACERS}:
        return f"answers {dict(codes)}"
    statuses = Counter(body["status"] for _, body in answers)
    if statuses != {"confirmed": SEATS, "waitlisted": RACERS - SEATS}:
        return f"statuses {dict(statuses)}"
    places = sorted(b["waitlist_position"] for _, b in answers if b["status"] == "waitlisted")
    if places != list(range(1, RACERS - SEATS + 1)):
        return f"waitlist positions {places}"
    return ""


def run(report: Report, sizes: Sizes) -> None:
    from booster.bootstrap import bootstrap
    from booster.platform import spec as load_spec
    from shared.auth import mint_token
    from shared.config import Settings
    from shared.migrations import upgrade

    quiet_logs()
    rounds = 4 if sizes.name == "quick" else 15
    jwt_secret = secret()
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database("bench_race"))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        upgrade(load_spec("events"), url)
        settings = Settings(
            environment="test", jwt_secret=jwt_secret, database_urls={"events": url}
        )
        runtime = bootstrap("events", settings)
        stack.callback(runtime.database.dispose)
        env = booster_env(
            BOOSTER_EVENTS_DATABASE_URL=url,
            BOOSTER_JWT_SECRET=jwt_secret,
            BOOSTER_BROKER_URL=BROKER_URL,
            BOOSTER_VAR_DIR=tmp,
            BOOSTER_LOG_LEVEL="WARNING",
        )
        port = free_port()
        command = gunicorn_command("service_app('events')", port, threads=THREADS_PER_WORKER)
        server = stack.enter_context(Process(command, env, port))
        api = EventsApi(port, mint_token(jwt_secret, "bench", "events:read events:write"))

        race_ms: list[float] = []
        base_ms: list[float] = []
        race_latency: list[float] = []
        base_latency: list[float] = []
        wrong: list[str] = []
        _all_at_once(api, [(_trip(api), p) for p in events_people(runtime, RACERS)])  # warm
        for _ in range(rounds):
            trip = _trip(api)
            total, latencies, answers = _all_at_once(
                api, [(trip, person) for person in events_people(runtime, RACERS)]
            )
            race_ms.append(total)
            race_latency += latencies
            if problem := check_race(answers):
                wrong.append(problem)
            trips = [_trip(api) for _ in range(RACERS)]
            total, latencies, answers = _all_at_once(
                api, list(zip(trips, events_people(runtime, RACERS), strict=True))
            )
            base_ms.append(total)
            base_latency += latencies
            if any(status != 201 for status, _ in answers):
                wrong.append("a baseline registration failed")
        _, workers = rss_tree(server.pid)

    correct = not wrong
    report.add(
        Result(
            "scale",
            "50-way registration race",
            median(race_ms),
            "ms",
            median(base_ms),
            "50 registrations to 50 events",
            goal="correct",
            met=correct,
            notes=(
                f"{rounds} rounds: every one {SEATS} confirmed, {RACERS - SEATS} waitlisted 1–"
                f"{RACERS - SEATS}, no error; the row lock costs the ratio"
                if correct
                else "WRONG: " + "; ".join(wrong[:3])
            ),
            extra={
                "rounds": rounds,
                "racers": RACERS,
                "seats": SEATS,
                "gunicorn": f"2 workers x {THREADS_PER_WORKER} threads",
                "race_ms": [round(v, 1) for v in race_ms],
                "baseline_ms": [round(v, 1) for v in base_ms],
                "race_p50_ms": round(percentile(race_latency, 50), 1),
                "race_p99_ms": round(percentile(race_latency, 99), 1),
                "baseline_p50_ms": round(percentile(base_latency, 50), 1),
                "baseline_p99_ms": round(percentile(base_latency, 99), 1),
                "errors": wrong,
            },
        )
    )
    if workers:
        peak = max(worker.hwm_mb for worker in workers)
        report.add(
            Result(
                "memory",
                "events api worker peak, race",
                peak,
                "MB",
                goal="< 120 MB",
                met=peak < 120,
                notes=f"VmHWM of {len(workers)} workers, {THREADS_PER_WORKER} threads each",
            )
        )
