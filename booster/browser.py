"""A service's ``/docs`` in headless Chromium: its rendered DOM, or a screenshot.

Used by the browser test (``tests/e2e/test_docs_browser.py``) and by
``scripts/docs_screenshot.py`` (which makes ``docs/img/docs-swagger.png``). Chromium is
Debian's (``/usr/bin/chromium``; ``make browser-deps`` installs it): each run gets a new
profile, no background networking, and a host resolver that knows no host but the
loopback one, so a page that would fetch anything from the internet (a CDN) fails to.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    # every host name but the loopback ones fails to resolve: nothing leaves the machine
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
)
BUDGET_MS = 15_000
"""Virtual time the page gets to run its scripts (fetch /openapi.json, render)."""


class BrowserError(RuntimeError):
    """Chromium is missing, failed, or did not finish in time."""


def chromium_path() -> Path | None:
    """Debian's Chromium, if installed."""
    return CHROMIUM if CHROMIUM.is_file() else None


def _run(url: str, action: Sequence[str], window: tuple[int, int], timeout: float) -> str:
    executable = chromium_path()
    if executable is None:
        raise BrowserError(
            f"no {CHROMIUM}: install Debian's chromium (`make browser-deps`, as root)"
        )
    profile = tempfile.mkdtemp(prefix="booster-chromium-")
    try:
        completed = subprocess.run(
            [
                str(executable),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={window[0]},{window[1]}",
                f"--virtual-time-budget={BUDGET_MS}",
                *action,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BrowserError(f"chromium did not finish with {url} in {timeout:g} s") from None
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if completed.returncode != 0:
        raise BrowserError(
            f"chromium exited {completed.returncode} on {url}: {completed.stderr[-2000:]}"
        )
    return completed.stdout


def render(
    url: str,
    *,
    screenshot: Path | None = None,
    window: tuple[int, int] = (1280, 1600),
    timeout: float = 90,
) -> str:
    """The page's DOM after its scripts ran (``--dump-dom``); with ``screenshot``, a PNG
    of it there too (same run)."""
    action = ["--dump-dom"]
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.unlink(missing_ok=True)
        action.append(f"--screenshot={screenshot.absolute()}")
    dom = _run(url, action, window, timeout)
    if screenshot is not None and not screenshot.is_file():
        raise BrowserError(f"chromium wrote no screenshot of {url} to {screenshot}")
    return dom


OPERATION = re.compile(
    r'<span class="opblock-summary-method">(?P<method>[A-Z]+)</span>.*?'
    r'data-path="(?P<path>[^"]+)"',
    re.DOTALL,
)


def listed_operations(dom: str) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation Swagger UI rendered in ``dom``."""
    return {
        (match["method"], match["path"])
        for block in dom.split('class="opblock ')[1:]
        if (match := OPERATION.search(block))
    }
