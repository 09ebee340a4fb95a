"""Where a webhook may point: the server-side request forgery rules.

Only ``http`` and ``https`` URLs, and only to public addresses: a private, loopback,
link-local (cloud metadata: 169.254.169.254, fd00:ec2::254), multicast, reserved or
unspecified address is refused, when the subscription is made and again at send time
after resolving the name (the sender then connects to the address it checked, so a
second lookup cannot point elsewhere). Hosts listed in ``BOOSTER_WEBHOOK_ALLOWED_HOSTS``
are exempt (tests allow ``127.0.0.1`` that way).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import InvalidInput

Resolve = Callable[[str, int], list[str]]
"""host, port -> the addresses it resolves to (raises ``OSError`` if it does not)."""

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})


class UnsafeAddress(InvalidInput):
    """A webhook URL that points where the platform must not send requests."""


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: its parts, and the addresses that may be connected to."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def refusal(address: str) -> str | None:
    """Why ``address`` (an IP literal) is refused, or None if it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (cloud metadata lives there)"),
        (ip.is_private, "a private address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_unspecified, "an unspecified address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _invalid(message: str) -> UnsafeAddress:
    return UnsafeAddress(message, errors={"url": [message]})


def parse(url: str) -> tuple[str, str, int]:
    """The scheme, host (lower case, IPv6 without brackets) and port of an http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid("Not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _invalid("Only http and https URLs are allowed.")
    host = (parts.hostname or "").lower()
    if not host:
        raise _invalid("The URL has no host.")
    if parts.username or parts.password:
        raise _invalid("Credentials in the URL are not allowed.")
    if port == 0:
        raise _invalid("Port 0 is not a port one can connect to.")
    return scheme, host, port if port is not None else (443 if scheme == "https" else 80)


def _addresses(host: str, port: int, resolve: Resolve) -> list[str]:
    """The host itself if it is an IP literal, else what it resolves to (maybe none)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            return sorted(set(resolve(host, port)))
        except OSError:
            return []
    return [host]


def check_target(url: str, resolve: Resolve, allowed_hosts: Collection[str]) -> Target:
    """The URL if every address its host resolves to is public (or the host is
    allowed); else :class:`UnsafeAddress` saying why."""
    scheme, host, port = parse(url)
    allowed = host in {h.lower().strip("[]") for h in allowed_hosts}
    if not allowed and host.rstrip(".") in METADATA_HOSTS:
        raise _invalid(f"{host} is a cloud metadata service.")
    addresses = _addresses(host, port, resolve)
    if not addresses:
        raise _invalid(f"{host} does not resolve.")
    if not allowed:
        for address in addresses:
            reason = refusal(address)
            if reason:
                raise _invalid(f"{host} resolves to {address}, {reason}.")
    return Target(url, scheme, host, port, tuple(addresses))
