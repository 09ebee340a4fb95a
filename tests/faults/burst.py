"""A burst of writes through the registry's own write path, in-process: each person is
registered by ``operations.register_person`` (row and outbox event in one transaction),
a hundred writes a transaction, as fast as the database takes them. For the cluster's
node-loss test, where 10,000 writes through the HTTP API would take minutes here.

It offers the load driver's record (``run``, ``attempted``, ``acknowledged``) so that the
same checker reads it."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from booster.bootstrap import bootstrap
from services.registry import operations
from services.registry.domain.commands import RegisterPerson
from services.registry.domain.model import Language
from shared.config import BusSettings, Settings
from tests.conftest import TEST_SECRET

PER_TRANSACTION = 100


@dataclass
class Burst:
    database_url: str
    count: int
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    acknowledged: dict[int, str] = field(default_factory=dict)
    indeterminate: set[int] = field(default_factory=set)
    anomalies: list[str] = field(default_factory=list)
    attempted: int = 0
    _thread: threading.Thread | None = None
    _error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._write, name="burst", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Wait for the burst to be written."""
        if self._thread is not None:
            self._thread.join(600)
            assert not self._thread.is_alive(), "the burst did not finish"
        if self._error is not None:
            raise self._error

    def _write(self) -> None:
        settings = Settings(
            environment="test",
            jwt_secret=TEST_SECRET,
            database_urls={"registry": self.database_url},
            bus=BusSettings(),
        )
        runtime = bootstrap("registry", settings)
        try:
            for start in range(0, self.count, PER_TRANSACTION):
                numbers = range(start, min(start + PER_TRANSACTION, self.count))
                self.attempted = numbers.stop
                with runtime.uow.begin():
                    people = {
                        n: operations.register_person(
                            runtime.uow,
                            RegisterPerson(
                                name=f"Burst {self.run} {n}",
                                email=f"f{self.run}-{n}@faults.example.org",
                                language=Language.FR,
                            ),
                        )
                        for n in numbers
                    }
                self.acknowledged.update({n: person.id for n, person in people.items()})
        except BaseException as exc:  # noqa: BLE001 - raised again by stop()
            self._error = exc
        finally:
            runtime.database.dispose()
