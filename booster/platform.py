"""The services of the platform, listed explicitly (each spec carries its name and port)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from services.events.service import SPEC as EVENTS
from services.mentoring.service import SPEC as MENTORING
from services.notifications.service import SPEC as NOTIFICATIONS
from services.registry.service import SPEC as REGISTRY
from shared.service import ServiceSpec

SERVICES: tuple[ServiceSpec, ...] = (REGISTRY, MENTORING, EVENTS, NOTIFICATIONS)
SPECS: Mapping[str, ServiceSpec] = MappingProxyType({spec.name: spec for spec in SERVICES})
SERVICE_NAMES: tuple[str, ...] = tuple(SPECS)


def spec(name: str) -> ServiceSpec:
    """The spec of the service called ``name``."""
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(
            f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}"
        ) from None
