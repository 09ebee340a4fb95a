"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print the table,
write ``bench/results.json``. Needs RabbitMQ and PostgreSQL (see bench/common.py)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

from bench.common import Report, Result, Sizes

SUITES = (
    "pipeline",
    "writes",
    "rest",
    "scale",
    "race",
    "matching",
    "mentoring",
    "fanout",
    "memory",
    "cluster",
)
NOT_QUICK = frozenset({"cluster"})
"""Suites ``--quick`` leaves out unless named with ``--only`` (cluster: starting three
RabbitMQ nodes alone takes half a minute)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="the one-minute version (CI)")
    parser.add_argument("--only", nargs="*", choices=SUITES, default=None)
    args = parser.parse_args(argv)
    if args.only is None:
        args.only = [s for s in SUITES if not (args.quick and s in NOT_QUICK)]
    logging.disable(logging.WARNING)  # the services' request logs would drown the table
    sizes = Sizes.get("quick" if args.quick else "full")
    report = Report(sizes)
    failed = []
    for name in args.only:
        print(f"== {name} ({sizes.name})", flush=True)
        try:
            importlib.import_module(f"bench.{name}").run(report, sizes)
        except Exception:  # noqa: BLE001 - report it and go on with the others
            traceback.print_exc()
            failed.append(name)
            report.add(Result(name, "FAILED", float("nan"), "", notes="see the traceback"))
    report.write()
    print()
    print(report.table())
    print(f"\nwritten: bench/results.json ({len(report.results)} figures)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
