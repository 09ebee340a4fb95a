"""In-memory fakes of the mentoring service's ports, for unit tests of its use cases."""

from __future__ import annotations

from services.mentoring.domain.ports import MentoringTx
from shared.events.catalogue import Catalogue
from shared.fake_uow import FakeTransaction, FakeUnitOfWork


class FakeMentoringTx(FakeTransaction, MentoringTx):
    """A unit of work of the mentoring service, in memory."""


def fake_uow(catalogue: Catalogue) -> FakeUnitOfWork[FakeMentoringTx]:
    return FakeUnitOfWork(FakeMentoringTx(catalogue))
