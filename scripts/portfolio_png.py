"""Render page 1 of the seeded 2021 programme's portfolio as a PNG (for the README).

Runs the registry, mentoring and events services in this process on embedded defaults
(SQLite in a temporary folder, the in-process bus, a throwaway JWT secret), loads the
demo data with the code of ``booster seed``, downloads the portfolio's PDF from the
mentoring API, and renders its first page with pypdfium2 (PDFium from PyPI: no
browser, no system package). Nothing outside the temporary folder is touched but the
PNG written.

    .venv/bin/python scripts/portfolio_png.py                 # docs/img/portfolio-page1.png
    .venv/bin/python scripts/portfolio_png.py --lang ar --out /tmp/page1-ar.png --pdf /tmp/p.pdf
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2
import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from booster.bootstrap import bootstrap, create_app, create_worker, load_settings  # noqa: E402
from booster.platform import spec  # noqa: E402
from booster.seed import Clients, seed  # noqa: E402
from shared.auth import TokenIssuer  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.logging import configure_logging  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

SERVICES = ("registry", "mentoring", "events")
DEFAULT_OUT = ROOT / "docs" / "img" / "portfolio-page1.png"


@contextmanager
def embedded_platform(var_dir: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    """The seeded services, each with its HTTP server (an ephemeral port) and worker."""
    for name in [name for name in os.environ if name.startswith("BOOSTER_")]:
        del os.environ[name]
    os.environ.update(
        {
            "BOOSTER_VAR_DIR": str(var_dir),
            "BOOSTER_BROKER_URL": "memory://",
            "BOOSTER_JWT_SECRET": secrets.token_urlsafe(48),
            "BOOSTER_LOG_LEVEL": "WARNING",
        }
    )
    settings = load_settings()
    configure_logging("WARNING", json=False)
    servers, workers, urls = [], [], {}
    try:
        for name in SERVICES:
            upgrade(spec(name), settings.database_url(name))
            runtime = bootstrap(name, settings)
            server = make_server("127.0.0.1", 0, create_app(runtime), threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            worker = create_worker(runtime)
            worker.start()
            workers.append(worker)
            urls[name] = f"http://127.0.0.1:{server.server_port}"
        yield settings, urls
    finally:
        for server in servers:
            server.shutdown()
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(timeout=10)


def seeded_portfolio_pdf(language: str) -> bytes:
    """The PDF of the seeded programme's portfolio, in ``language``."""
    return seeded_portfolio_pdfs((language,))[language]


def seeded_portfolio_pdfs(languages: tuple[str, ...]) -> dict[str, bytes]:
    """The PDFs of the seeded programme's portfolio, one per language, from one seed."""
    with tempfile.TemporaryDirectory(prefix="booster-portfolio-") as folder:
        with embedded_platform(Path(folder)) as (settings, urls):
            clients = Clients.for_settings(urls, settings)
            try:
                report = seed(clients)
            finally:
                clients.close()
            if report.programme_id is None:
                raise SystemExit("the seed made no programme")
            token = TokenIssuer.from_settings(settings).mint("portfolio-png", "mentoring:read")
            pdfs: dict[str, bytes] = {}
            with requests.Session() as http:
                http.trust_env = False  # loopback: never through a proxy
                for language in languages:
                    response = http.get(
                        f"{urls['mentoring']}/api/v1/programmes/{report.programme_id}/portfolio",
                        params={"format": "pdf", "lang": language},
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=60,
                    )
                    response.raise_for_status()
                    pdfs[language] = response.content
            return pdfs


def first_page_png(pdf: bytes, scale: float) -> bytes:
    """Page 1 of ``pdf`` as a PNG, ``scale`` pixels per PDF point (1.5: 893 x 1263)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="en", choices=("en", "fr", "ar"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the PNG to write")
    parser.add_argument("--scale", type=float, default=1.5, help="pixels per PDF point")
    parser.add_argument("--pdf", type=Path, help="also keep the whole PDF here")
    args = parser.parse_args(argv)
    pdf = seeded_portfolio_pdf(args.lang)
    if args.pdf:
        args.pdf.write_bytes(pdf)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(first_page_png(pdf, args.scale))
    print(f"wrote {args.out} (page 1 of {len(pdf):,} bytes of PDF)")


if __name__ == "__main__":
    main()
