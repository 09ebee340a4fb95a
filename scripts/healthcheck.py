#!/usr/bin/env python3
"""Container health checks of the Booster Track image (standard library only).

    booster-healthcheck http URL   exit 0 when URL answers 200 (an API's /readyz)
    booster-healthcheck broker     exit 0 when this container holds an established TCP
                                   connection to a broker port of BOOSTER_BROKER_URL (a
                                   worker: its relay and consumer stay connected)

A worker serves no HTTP; what says it is doing its job is its broker connection, read
from /proc/net/tcp{,6}, which in a container lists that container's own sockets only.
The image installs this file as /usr/local/bin/booster-healthcheck; docker-compose.yml
runs it.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

ESTABLISHED = "01"
AMQP_PORTS = {"amqp": 5672, "pyamqp": 5672, "amqps": 5671}


def check_http(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def broker_port(url: str) -> int:
    """The TCP port of an ``amqp://`` URL (its default when the URL names none)."""
    parts = urlsplit(url)
    if parts.scheme not in AMQP_PORTS:
        raise ValueError(f"BOOSTER_BROKER_URL is not an amqp:// URL: {parts.scheme}://")
    return parts.port or AMQP_PORTS[parts.scheme]


def established_remote_ports(proc_net: Path = Path("/proc/net")) -> set[int]:
    """Remote ports of the established TCP connections in this network namespace."""
    ports: set[int] = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc_net / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == ESTABLISHED:
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def broker_ports(environ: Mapping[str, str]) -> set[int]:
    """The ports of ``BOOSTER_BROKER_URL`` (one URL, or a cluster's ``;``-separated) and
    of any service's own ``BOOSTER_<SERVICE>_BROKER_URL``."""
    urls = [
        url.strip()
        for name, value in environ.items()
        if name.startswith("BOOSTER_") and name.endswith("BROKER_URL")
        for url in value.split(";")
        if url.strip()
    ]
    if not urls:
        raise ValueError("BOOSTER_BROKER_URL is not set")
    return {broker_port(url) for url in urls}


def check_broker(environ: Mapping[str, str]) -> bool:
    return bool(broker_ports(environ) & established_remote_ports())


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "http":
        ok = check_http(argv[1])
    elif len(argv) == 1 and argv[0] == "broker":
        try:
            ok = check_broker(os.environ)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if not ok:
        print(f"unhealthy: {' '.join(argv)}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
