"""The three-node RabbitMQ cluster of ``scripts/rabbitmq-cluster``, driven from tests.

The nodes run beside the machine's own broker, on free ports, with their data in a
temporary directory that ``stop`` deletes. Nothing here touches rabbit@localhost.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import tempfile
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.platform import established, in_background

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "rabbitmq-cluster"


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(nodes: int = 3) -> int:
    """A port P with P..P+nodes-1 (AMQP) and P+20000.. (Erlang distribution) free, all
    below Linux's ephemeral range (32768 and up), where clients' ports come and go."""
    for _ in range(200):
        base = random.randrange(10000, 12700, 10)
        if all(_free(base + i) and _free(base + i + 20000) for i in range(nodes)):
            return base
    raise AssertionError("no free ports for the cluster")


@dataclass
class Cluster:
    directory: Path
    port: int
    nodes: int = 3
    _restarts: list[Future[None]] = field(default_factory=list, repr=False)

    def _script(self, *args: str, timeout: float = 180) -> str:
        result = subprocess.run(
            [str(SCRIPT), *args, "--dir", str(self.directory)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"rabbitmq-cluster {args}: {result.stderr[-3000:]}"
        return result.stdout

    @classmethod
    def start(cls, nodes: int = 3) -> Cluster:
        port = free_base_port(nodes)
        directory = Path(tempfile.mkdtemp(prefix="booster-cluster-"))
        directory.rmdir()  # the script creates it (and deletes it on stop)
        cluster = cls(directory, port, nodes)
        cluster._script("start", "--port", str(port), "--nodes", str(nodes), timeout=300)
        return cluster

    def stop(self) -> None:
        self._script("stop")

    def node_name(self, node: int) -> str:
        return f"bt{self.port}n{node}@localhost"

    def amqp_port(self, node: int) -> int:
        return self.port + node - 1

    def node_of_port(self, port: int) -> int | None:
        node = port - self.port + 1
        return node if 1 <= node <= self.nodes else None

    def urls(self, heartbeat: int | None = None) -> list[str]:
        query = f"?heartbeat={heartbeat}" if heartbeat else ""
        return [
            f"amqp://guest:guest@127.0.0.1:{self.amqp_port(n)}//{query}"
            for n in range(1, self.nodes + 1)
        ]

    def stop_node(self, node: int) -> None:
        self._script("stop-node", str(node))

    def start_node(self, node: int) -> None:
        self._script("start-node", str(node), timeout=300)

    def start_node_in_background(self, node: int) -> None:
        """``start_node`` in a thread: a node takes seconds to boot, which the test
        spends draining instead; ``await_restarts`` waits for it."""
        self._restarts.append(in_background(self.start_node, node))

    def await_restarts(self) -> None:
        """Until every node started in the background runs (raises if one did not)."""
        restarts, self._restarts = self._restarts, []
        for restart in restarts:
            restart.result(timeout=330)

    def running(self) -> list[int]:
        return [n for n in range(1, self.nodes + 1) if not _free(self.amqp_port(n))]

    def _ctl(self, *args: str) -> str:
        """rabbitmqctl against a running node of this cluster."""
        for node in self.running():
            result = subprocess.run(
                ["rabbitmqctl", "-q", "-n", self.node_name(node), *args],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if result.returncode == 0:
                return result.stdout
        raise AssertionError(f"no node of the cluster answers rabbitmqctl {args}")

    def queues(self) -> dict[str, dict[str, object]]:
        """Each queue's leader and members (and messages), by name."""
        rows = json.loads(
            self._ctl("list_queues", "name", "leader", "members", "messages", "--formatter", "json")
            or "[]"
        )
        return {row["name"]: row for row in rows}

    def leader(self, queue: str) -> int:
        """The node (1..n) that leads ``queue``."""
        name = str(self.queues()[queue]["leader"])
        return int(name.split("@")[0].rsplit("n", 1)[1])

    def connected_nodes(self, pid: int) -> set[int]:
        """The nodes a process has established AMQP connections to (from /proc)."""
        nodes = {self.node_of_port(remote) for _, remote in established(pid)}
        return {node for node in nodes if node is not None}
