"""The services of the platform, listed explicitly; each spec carries its name and port.

A service's package is imported only when its spec is asked for: an API process loads
its own service, not the other three (their imports, e.g. numpy for mentoring's
matching, would cost every process memory). A worker loads them all, to declare every
subscriber's queue before it publishes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from types import MappingProxyType

from shared.service import ServiceSpec


def _registry() -> ServiceSpec:
    from services.registry.service import SPEC

    return SPEC


def _mentoring() -> ServiceSpec:
    from services.mentoring.service import SPEC

    return SPEC


def _events() -> ServiceSpec:
    from services.events.service import SPEC

    return SPEC


def _notifications() -> ServiceSpec:
    from services.notifications.service import SPEC

    return SPEC


LOADERS: Mapping[str, Callable[[], ServiceSpec]] = MappingProxyType(
    {
        "registry": _registry,
        "mentoring": _mentoring,
        "events": _events,
        "notifications": _notifications,
    }
)
SERVICE_NAMES: tuple[str, ...] = tuple(LOADERS)


@cache
def spec(name: str) -> ServiceSpec:
    """The spec of the service called ``name`` (its package imported on first use)."""
    try:
        loader = LOADERS[name]
    except KeyError:
        raise ValueError(
            f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}"
        ) from None
    found = loader()
    if found.name != name:
        raise RuntimeError(f"the spec listed as {name!r} calls itself {found.name!r}")
    return found


def all_specs() -> tuple[ServiceSpec, ...]:
    """Every service's spec, in the platform's order (imports every service)."""
    return tuple(spec(name) for name in SERVICE_NAMES)
