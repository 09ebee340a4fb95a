"""scripts/healthcheck.py, the image's ``booster-healthcheck`` that compose runs: an
API is healthy when its /readyz answers 200, a worker while it holds a connection to
the broker."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection
from werkzeug.serving import make_server

from booster.testing import service_harness
from tests.conftest import TEST_SECRET
from tests.platform.deploy import ROOT

SCRIPT = ROOT / "scripts" / "healthcheck.py"


def _check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # the image runs it with only its standard library: so does this test (-I, -S)
    return subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT), *args],
        env=env or {},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def api_url(tmp_path: Path) -> Iterator[str]:
    """The registry's real app on SQLite and the in-process bus, served on a free port."""
    with service_harness(
        "registry", f"sqlite:///{tmp_path / 'registry.db'}", tmp_path, TEST_SECRET
    ) as harness:
        server = make_server("127.0.0.1", 0, harness.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.port}"
        finally:
            server.shutdown()
            thread.join(10)


def test_an_api_is_healthy_when_readyz_answers_200(api_url: str) -> None:
    assert _check("http", f"{api_url}/readyz").returncode == 0
    missing = _check("http", f"{api_url}/no-such-page")
    assert missing.returncode == 1 and "unhealthy" in missing.stderr
    with make_server("127.0.0.1", 0, lambda env, start: []) as probe:
        closed = probe.port  # nothing listens there once the probe is closed
    assert _check("http", f"http://127.0.0.1:{closed}/readyz").returncode == 1


def test_a_worker_is_healthy_while_connected_to_the_broker(broker_url: str) -> None:
    with Connection(broker_url) as connection:
        connection.connect()
        assert _check("broker", env={"BOOSTER_BROKER_URL": broker_url}).returncode == 0
        # a cluster's URLs, or the service's own broker user: any of their ports counts
        several = f"amqp://u:p@127.0.0.1:1//;{broker_url}"
        assert _check("broker", env={"BOOSTER_BROKER_URL": several}).returncode == 0
        own = {"BOOSTER_BROKER_URL": "amqp://u:p@h:1//", "BOOSTER_EVENTS_BROKER_URL": broker_url}
        assert _check("broker", env=own).returncode == 0
    # no connection to that port here
    unconnected = _check("broker", env={"BOOSTER_BROKER_URL": "amqp://u:p@127.0.0.1:1//"})
    assert unconnected.returncode == 1


def test_a_broker_check_without_an_amqp_url_is_a_usage_error() -> None:
    assert _check("broker").returncode == 2
    assert _check("broker", env={"BOOSTER_BROKER_URL": "memory://"}).returncode == 2
    assert _check().returncode == 2
    assert _check("http").returncode == 2
