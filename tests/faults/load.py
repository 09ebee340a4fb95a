"""The load driver: a steady rate of real writes (``POST /api/v1/people``) through the API.

Each write is one person with a unique e-mail and its own ``Idempotency-Key``. A write is
retried with the same key until the API answers 201: after a 503 (it must be a problem
document with ``Retry-After``, which is honoured up to a second) and after a connection
error or a timeout (the outcome is unknown: the key makes the retry return the first
result if it had committed). Any other answer is an anomaly the tests assert against.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

PROBLEM_JSON = "application/problem+json"
GIVE_UP_AFTER = 60.0
"""Seconds a write keeps being retried after the driver was told to stop."""


@dataclass
class Outcome:
    """What one answer looked like (the time is monotonic)."""

    at: float
    status: int | None
    problem: bool = False
    retry_after: str | None = None


@dataclass
class LoadDriver:
    api: str
    token: str
    rate: float = 25.0
    threads: int = 2
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    acknowledged: dict[int, str] = field(default_factory=dict)
    """Write number -> person id, for every write the API answered 201."""
    indeterminate: set[int] = field(default_factory=set)
    """Writes still unanswered when the driver gave up (they may or may not exist)."""
    outcomes: list[Outcome] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self._next

    def start(self) -> None:
        for index in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"load-{index}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self) -> None:
        """Stop starting writes; wait for the ones in flight to be answered 201."""
        self._stop.set()
        for thread in self._workers:
            thread.join(GIVE_UP_AFTER + 30)
        assert not any(thread.is_alive() for thread in self._workers), "a load thread hangs"

    def statuses(self, since: float = 0.0, until: float = float("inf")) -> Counter[int | None]:
        with self._lock:
            return Counter(o.status for o in self.outcomes if since <= o.at < until)

    def acknowledged_since(self, since: float) -> int:
        with self._lock:
            return sum(1 for o in self.outcomes if o.at >= since and o.status == 201)

    def unavailable(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.status == 503]

    def _number(self) -> int:
        with self._lock:
            number = self._next
            self._next += 1
            return number

    def _loop(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        interval = self.threads / self.rate
        due = time.monotonic()
        while not self._stop.is_set():
            self._write(session, self._number())
            due += interval
            pause = due - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)
            else:
                due = time.monotonic()  # behind (a fault slowed us): do not burst
        session.close()

    def _write(self, session: requests.Session, number: int) -> None:
        body = {
            "name": f"Fault {self.run} {number}",
            "email": f"f{self.run}-{number}@faults.example.org",
            "language": "fr",
        }
        headers = {"Idempotency-Key": f"{self.run}-{number}"}
        stopped_at: float | None = None
        while True:
            if self._stop.is_set():
                stopped_at = stopped_at or time.monotonic()
                if time.monotonic() - stopped_at > GIVE_UP_AFTER:
                    with self._lock:
                        self.indeterminate.add(number)
                    return
            try:
                response = session.post(
                    f"{self.api}/api/v1/people", json=body, headers=headers, timeout=10
                )
            except requests.RequestException:
                self._note(Outcome(time.monotonic(), None))
                time.sleep(0.2)
                continue
            status = response.status_code
            outcome = Outcome(
                time.monotonic(),
                status,
                problem=response.headers.get("Content-Type", "").startswith(PROBLEM_JSON),
                retry_after=response.headers.get("Retry-After"),
            )
            self._note(outcome)
            if status == 201:
                with self._lock:
                    self.acknowledged[number] = response.json()["id"]
                return
            if status == 503:
                if not outcome.problem or outcome.retry_after is None:
                    self._anomaly(f"503 without a problem document or Retry-After: {response!r}")
                time.sleep(min(float(outcome.retry_after or 1), 1.0))
                continue
            self._anomaly(f"write {number}: {status} {response.text[:300]}")
            time.sleep(0.2)

    def _note(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def _anomaly(self, text: str) -> None:
        with self._lock:
            if len(self.anomalies) < 50:
                self.anomalies.append(text)
