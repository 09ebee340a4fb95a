#!/usr/bin/env python3
"""Make docs/img/docs-swagger.png: a service's /docs rendered by headless Chromium.

    .venv/bin/python scripts/docs_screenshot.py [--service registry] [--out PATH]

The service's real app runs on loopback with a throwaway SQLite database; Chromium
(Debian's: `make browser-deps`) resolves no host but loopback, so the picture shows
what a machine without internet access shows. tests/e2e/test_docs_browser.py checks
the same rendering for every service.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a file from anywhere
    sys.path.insert(0, str(ROOT))

from booster.browser import listed_operations, render  # noqa: E402
from booster.platform import SERVICE_NAMES  # noqa: E402
from booster.testing import service_harness  # noqa: E402
from shared.logging import configure_logging  # noqa: E402

OUT = ROOT / "docs" / "img" / "docs-swagger.png"
SECRET = secrets.token_urlsafe(48)  # the page needs no token; the app needs a secret


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=SERVICE_NAMES, default="registry")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1600)
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="booster-docs-") as folder:
        database = f"sqlite:///{Path(folder) / 'docs.db'}"
        with service_harness(args.service, database, Path(folder), SECRET) as harness:
            server = make_server("127.0.0.1", 0, harness.app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                url = f"http://127.0.0.1:{server.server_port}/docs"
                dom = render(url, screenshot=args.out, window=(args.width, args.height))
            finally:
                server.shutdown()
                server.server_close()
    operations = listed_operations(dom)
    if not operations:
        print(f"{url} rendered no operation: see {args.out}", file=sys.stderr)
        return 1
    print(f"{args.out}: {args.service} /docs, {len(operations)} operations listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
