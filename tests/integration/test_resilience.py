"""The relay and consumer survive a lost broker and a SIGTERM without losing or
repeating anything."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shared import testing
from tests.integration.conftest import running
from tests.integration.demo import Demo

ROOT = Path(__file__).resolve().parents[2]
N = 1500


def _rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        testing.unavailable("rabbitmqctl", "not on PATH (needed to disrupt the broker)")
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def _assert_each_handled_once(demo: Demo, count: int) -> None:
    counts = demo.effect_counts()
    missing = set(range(count)) - set(counts)
    repeated = {seq: n for seq, n in counts.items() if n != 1}
    assert not missing, f"{len(missing)} events never handled, e.g. {sorted(missing)[:5]}"
    assert not repeated, f"side effects repeated: {dict(list(repeated.items())[:5])}"


@pytest.mark.parametrize("disruption", ["close_connections", "stop_app"])
def test_broker_lost_mid_stream_nothing_lost_nothing_repeated(
    demo_pg: Demo, disruption: str
) -> None:
    demo = demo_pg
    relay, consumer = demo.relay(), demo.consumer()
    with running(relay, consumer):
        writer_done = threading.Event()

        def write() -> None:
            for start in range(0, N, 50):
                demo.write(50, start=start)
                time.sleep(0.01)
            writer_done.set()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        assert demo.wait_for(lambda: len(demo.effect_counts()) > N // 5)
        if disruption == "close_connections":
            _rabbitmqctl("close_all_connections", "test disruption")
            assert demo.wait_for(lambda: len(demo.effect_counts()) > N // 2, timeout=60)
            _rabbitmqctl("close_all_connections", "test disruption")
        else:
            try:
                _rabbitmqctl("stop_app")
                time.sleep(1.0)  # writes keep committing to the outbox meanwhile
            finally:
                _rabbitmqctl("start_app")
                _rabbitmqctl("await_startup")
        writer.join(60)
        assert writer_done.is_set()
        assert demo.wait_for(lambda: len(demo.effect_counts()) >= N, timeout=120), (
            f"handled {len(demo.effect_counts())} of {N}"
        )
        time.sleep(0.5)  # let any duplicate redelivery arrive before we count
    assert demo.unsent() == 0
    _assert_each_handled_once(demo, N)


def test_sigterm_during_backlog_every_message_handled_exactly_once(demo_pg: Demo) -> None:
    demo = demo_pg
    demo.write(N)
    with running(demo.relay()):
        assert demo.wait_for(lambda: demo.unsent() == 0, timeout=60)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.demo_worker",
            demo.service,
            demo.database_url,
            demo.bus.broker_url,
            demo.bus.exchange,
            "0.002",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert demo.wait_for(lambda: len(demo.effect_counts()) > 100, timeout=60)
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
        assert worker.returncode == 0, stderr.decode()[-2000:]
    finally:
        if worker.poll() is None:
            worker.kill()
    handled_before_restart = len(demo.effect_counts())
    assert 100 < handled_before_restart < N, "SIGTERM should land mid-backlog"
    with running(demo.consumer()):
        assert demo.wait_for(lambda: len(demo.effect_counts()) >= N, timeout=60)
        time.sleep(0.5)
    _assert_each_handled_once(demo, N)
