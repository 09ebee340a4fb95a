"""What every benchmark shares: sizes, services, databases, results and the table."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared.testing import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
BROKER_URL = os.environ.get("BOOSTER_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
ADMIN_DB_URL = os.environ.get(
    "BOOSTER_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark runs: ``full`` for ``make bench``, ``quick`` for CI."""

    name: str
    drain_events: int
    latency_seconds: float
    latency_rate: int
    write_seconds: int
    rest_seconds: int
    scale_small: int
    scale_large: int
    people_per_cluster: int
    scale_requests: int

    @classmethod
    def get(cls, name: str) -> Sizes:
        if name == "quick":
            return cls("quick", 3_000, 4.0, 500, 3, 3, 1_000, 10_000, 5, 40)
        return cls("full", 20_000, 20.0, 500, 10, 10, 1_000, 100_000, 5, 200)


@dataclass
class Result:
    """One measured figure, its baseline, the ratio and the goal it is held to."""

    bench: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str | None = None
    goal: str | None = None
    met: bool | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]


class Report:
    """Collects results, prints the table, writes ``bench/results.json``."""

    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.results: list[Result] = []
        self.started = time.time()

    def add(self, result: Result) -> Result:
        self.results.append(result)
        print(_row(result), flush=True)
        return result

    def write(self, path: Path = RESULTS) -> None:
        body = {
            "sizes": asdict(self.sizes),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "started": self.started,
            "seconds": round(time.time() - self.started, 1),
            "results": [{**asdict(r), "ratio": r.ratio} for r in self.results],
        }
        path.write_text(json.dumps(body, indent=2) + "\n")

    def table(self) -> str:
        lines = [HEADER, "-" * len(HEADER)]
        lines += [_row(result) for result in self.results]
        return "\n".join(lines)


HEADER = f"{'bench':<10} {'metric':<34} {'value':>12} {'baseline':>12} {'ratio':>7}  goal"


def _row(r: Result) -> str:
    baseline = f"{r.baseline:,.1f}" if r.baseline is not None else "-"
    ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
    goal = f"{r.goal} {'ok' if r.met else 'MISSED'}" if r.goal else ""
    return f"{r.bench:<10} {r.metric:<34} {r.value:>12,.1f} {baseline:>12} {ratio:>7}  {goal}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fresh_database(prefix: str = "bench") -> AbstractContextManager[str]:
    """A new PostgreSQL database for one benchmark, dropped afterwards."""
    return fresh_postgres_database(ADMIN_DB_URL, prefix)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"
