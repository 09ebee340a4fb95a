"""IANA time zone names: what an event's or a meeting's ``timezone`` may be."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones


@cache
def iana_zones() -> frozenset[str]:
    """The IANA zone names (not the system's aliases such as ``localtime``)."""
    names = available_timezones() - {"localtime", "Factory", "posixrules"}
    return frozenset(n for n in names if not n.startswith(("posix/", "right/")))


def is_iana_zone(name: str) -> bool:
    return name in iana_zones()
