"""``/docs`` renders offline: headless Chromium lists every operation of each service.

Each service's real app serves on loopback (SQLite); Chromium (Debian's, see
``booster.browser``) resolves no host but loopback, so a page that needed a CDN would
render blank. The page names no URL outside the service, the service itself served
Swagger UI's scripts and styles, and the rendered DOM lists exactly the operations of
the service's ``/openapi.json``. ``scripts/docs_screenshot.py`` makes the picture
committed as ``docs/img/docs-swagger.png``; here the screenshot goes to a temporary
folder and is checked to be a real, full-size PNG.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from booster.browser import chromium_path, listed_operations, render
from booster.platform import SERVICE_NAMES
from booster.testing import service_harness
from shared.testing import unavailable
from tests.conftest import TEST_SECRET

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


class Recorder:
    """WSGI middleware that keeps the path of every request the app was asked."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.paths.append(environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def chromium() -> Path:
    path = chromium_path()
    if path is None:
        unavailable("Chromium", "no /usr/bin/chromium (`make browser-deps` installs it)")
    assert path is not None
    return path


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Recorder]]:
    """The service's app on a free loopback port; its base URL and request recorder."""
    name = request.param
    with service_harness(name, f"sqlite:///{tmp_path / 'docs.db'}", tmp_path, TEST_SECRET) as h:
        recorder = Recorder(h.app.wsgi_app)
        h.app.wsgi_app = recorder  # type: ignore[method-assign]
        server = make_server("127.0.0.1", 0, h.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", recorder
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)


@pytest.mark.parametrize("served", SERVICE_NAMES, indirect=True)
def test_docs_list_every_operation_with_no_internet(
    chromium: Path, served: tuple[str, Recorder], tmp_path: Path
) -> None:
    base, recorder = served
    import requests

    page = requests.get(f"{base}/docs", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "://" not in page.text  # no CDN, no absolute URL of any kind
    document = requests.get(f"{base}/openapi.json", timeout=10).json()
    expected = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    assert expected

    picture = tmp_path / "docs.png"
    dom = render(f"{base}/docs", screenshot=picture, window=(1280, 1000))
    assert listed_operations(dom) == expected
    assert document["info"]["title"] in dom
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/docs/assets/{asset}" in recorder.paths
    assert "/openapi.json" in recorder.paths

    header = picture.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    assert struct.unpack(">II", header[16:24]) == (1280, 1000)
    assert picture.stat().st_size > 20_000  # a rendered page, not a blank one


def test_assets_outside_swagger_ui_are_not_served(tmp_path: Path) -> None:
    with service_harness("registry", f"sqlite:///{tmp_path / 'r.db'}", tmp_path, TEST_SECRET) as h:
        client = h.client
        with client.get("/docs/assets/swagger-ui-bundle.js") as ok:
            assert ok.status_code == 200 and ok.mimetype == "text/javascript"
            assert "max-age=86400" in ok.headers["Cache-Control"]
        for path in (
            "/docs/assets/../__init__.py",
            "/docs/assets/..%2f__init__.py",
            "/docs/assets/x",
        ):
            assert client.get(path).status_code == 404
