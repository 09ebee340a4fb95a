"""The registry's use cases on in-memory repositories: no database, no broker."""

from __future__ import annotations

from typing import Any

import pytest

from booster.catalogue import platform_catalogue
from services.registry import operations as ops
from services.registry.adapters.memory import FakeRegistryTx, fake_uow
from services.registry.domain.commands import RegisterCluster, RegisterPerson
from services.registry.domain.model import Cluster, ClusterKind, Language, Person
from shared.fake_uow import FakeUnitOfWork

Uow = FakeUnitOfWork[FakeRegistryTx]


@pytest.fixture
def uow() -> Uow:
    return fake_uow(platform_catalogue())


def new_cluster(uow: Uow, **fields: Any) -> Cluster:
    command = {"name": "Maroc Numeric Cluster", "country": "MA", "kind": ClusterKind.CLUSTER}
    return ops.register_cluster(uow, RegisterCluster(**{**command, **fields}))


def new_person(uow: Uow, **fields: Any) -> Person:
    command = {"name": "Amina Benali", "email": "amina@example.org", "language": Language.FR}
    return ops.register_person(uow, RegisterPerson(**{**command, **fields}))
