"""examples/subscriber.py, the README's way for another system to listen: its own queue
bound to ``booster.events`` (pika, nothing from this repository), fed by a real worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kombu import Connection

from booster.platform import spec
from shared.config import BusSettings
from shared.events.envelope import CloudEvent
from tests.integration.conftest import running_platform
from tests.platform.deploy import ROOT

EXAMPLE = ROOT / "examples" / "subscriber.py"


def _pika_url(kombu_url: str) -> str:
    """kombu writes the default virtual host as ``//``; pika wants ``/%2F``."""
    parts = urlsplit(kombu_url)
    path = "/%2F" if parts.path in ("", "/", "//") else parts.path
    return urlunsplit(parts._replace(path=path))


def test_another_system_gets_the_platform_events_on_its_own_queue(
    tmp_path: Path, postgres_admin_url: str, bus_settings: BusSettings, unique: str
) -> None:
    queue = f"{unique}.acme-crm"
    command = [
        sys.executable,
        str(EXAMPLE),
        "--url",
        _pika_url(bus_settings.broker_url),
        "--exchange",
        bus_settings.exchange,
        "--queue",
        queue,
        "--bind",
        "registry.cluster.*",
        "--count",
        "1",
    ]
    subscriber = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert subscriber.stderr is not None
        listening = subscriber.stderr.readline()  # declared and bound: safe to publish
        assert listening.startswith(f"listening on {queue}"), listening
        with running_platform(["registry"], postgres_admin_url, bus_settings, tmp_path) as up:
            registry = up["registry"]
            created = registry.client.post(
                "/api/v1/clusters",
                json={"name": "Pôle Tunisien de l'Olive", "country": "TN", "kind": "cluster"},
                headers=registry.headers("registry:write"),
            )
            assert created.status_code == 201, created.get_json()
            out, err = subscriber.communicate(timeout=60)
        assert subscriber.returncode == 0, err
        (line,) = out.splitlines()
        event = CloudEvent.from_json(line)  # a valid CloudEvents 1.0 envelope
        assert event.type == "registry.cluster.registered"
        assert event.source == f"/booster/{spec('registry').name}"
        assert event.subject == created.get_json()["id"]
        assert event.data["name"] == "Pôle Tunisien de l'Olive"
    finally:
        if subscriber.poll() is None:
            subscriber.kill()
            subscriber.wait(10)
        with Connection(bus_settings.broker_url) as connection:
            channel = connection.channel()
            try:
                channel.queue_delete(queue)
            finally:
                channel.close()
