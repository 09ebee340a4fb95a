"""In-memory fakes of the notifications service's ports, for unit tests of its use cases."""

from __future__ import annotations

from services.notifications.domain.ports import NotificationsTx
from shared.events.catalogue import Catalogue
from shared.fake_uow import FakeTransaction, FakeUnitOfWork


class FakeNotificationsTx(FakeTransaction, NotificationsTx):
    """A unit of work of the notifications service, in memory."""


def fake_uow(catalogue: Catalogue) -> FakeUnitOfWork[FakeNotificationsTx]:
    return FakeUnitOfWork(FakeNotificationsTx(catalogue))
