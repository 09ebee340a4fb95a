"""The probes that only a real server shows: the ``Server`` header, chunked bodies,
request lines and headers too long for the server, and the admin listener, on the
development server of ``booster run`` and on gunicorn under ``booster serve``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from booster.testing import ServiceHarness
from shared.auth import mint_token
from shared.http import PROBLEM_JSON
from tests.conftest import TEST_SECRET

BOOSTER = str(Path(sys.executable).with_name("booster"))
MB = 1024 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict:
        assert self.headers.get("content-type", "").startswith(PROBLEM_JSON), self.headers
        body = json.loads(self.body)
        assert body["status"] == self.status
        return body


def send(port: int, raw: bytes, *, chunks: Iterator[bytes] | None = None) -> Answer:
    """Send a raw HTTP/1.1 request (and a chunked body) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            connection.sendall(raw)
            for chunk in chunks or ():
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if chunks is not None:
                connection.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading everything
        received = b""
        while not _complete(received):
            try:
                data = connection.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    if not received.startswith(b"HTTP/"):  # an HTTP/0.9 answer: the body alone
        return Answer(0, {}, received)
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(lines[0].split()[1]), headers, body)


def _complete(received: bytes) -> bool:
    """The whole answer is in: headers and Content-Length bytes of body (a server may
    keep the connection open while it drains a body it refused)."""
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator or not head.startswith(b"HTTP/"):
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def request(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def token(scope: str = "registry:write") -> str:
    return f"Bearer {mint_token(TEST_SECRET, 'tester', scope)}"


def big_chunks(total: int) -> Iterator[bytes]:
    """A JSON array of ``total`` bytes and more, in 64 KiB chunks."""
    yield b"["
    sent = 1
    while sent < total:
        yield b"1," * 32768
        sent += 65536
    yield b"1]"


CHUNKED = {
    "Transfer-Encoding": "chunked",
    "Content-Type": "application/json",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the development server of ``booster run`` ----------------------------------------


@pytest.fixture
def dev_server(registry: ServiceHarness) -> Iterator[int]:
    from shared.http.server import DevRequestHandler

    server = make_server(
        "127.0.0.1", 0, registry.app, threaded=True, request_handler=DevRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_dev_server_names_no_version(dev_server: int) -> None:
    for raw in (
        request("GET", "/healthz"),
        request("GET", "/nowhere"),
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
    ):
        answer = send(dev_server, raw)
        assert answer.headers["server"] == "booster"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n", 431),
        (b"this is not http\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\n\r\n", 505),
    ],
    ids=["long-request-line", "long-header", "too-many-headers", "garbage", "bad-version"],
)
def test_dev_server_errors_are_problems(dev_server: int, raw: bytes, status: int) -> None:
    answer = send(dev_server, raw)
    if answer.status == 0:
        # a request line it cannot read gets an HTTP/0.9 answer (no status line): the
        # body is still the problem document
        problem = json.loads(answer.body)
    else:
        problem = answer.problem()
    assert problem["status"] == status and problem["title"]
    assert b"aaaa" not in answer.body and b"this is" not in answer.body  # nothing echoed


def test_dev_server_refuses_oversized_bodies_with_413(dev_server: int) -> None:
    auth = {"Authorization": token()}
    chunked = send(
        dev_server,
        request("POST", "/api/v1/clusters", {**auth, **CHUNKED}),
        chunks=big_chunks(MB + 1),
    )
    assert chunked.status == 413, chunked.body[:300]
    chunked.problem()
    sized = send(
        dev_server,
        request(
            "POST",
            "/api/v1/clusters",
            {**auth, "Content-Type": "application/json"},
            b"[" + b"1," * MB + b"1]",
        ),
    )
    assert sized.status == 413
    sized.problem()
    small = send(
        dev_server,
        request("POST", "/api/v1/clusters", {**auth, **CHUNKED}),
        chunks=iter([b'{"name": "Cluster Marbre", ', b'"country": "TN", "kind": "cluster"}']),
    )
    assert small.status == 201, small.body


# --- gunicorn under ``booster serve`` ----------------------------------------------------


@dataclass
class Served:
    port: int
    admin: int
    var: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    var = tmp_path / "var"
    port, admin = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BOOSTER_")},
        "BOOSTER_VAR_DIR": str(var),
        "BOOSTER_JWT_SECRET": TEST_SECRET,
        "BOOSTER_WEB_CONCURRENCY": "1",
        "BOOSTER_ADMIN_BIND": f"127.0.0.1:{admin}",
    }
    migrate = subprocess.run(
        [BOOSTER, "db", "upgrade", "registry"], env=env, capture_output=True, timeout=60
    )
    assert migrate.returncode == 0, migrate.stderr.decode()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [BOOSTER, "serve", "registry", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if send(port, request("GET", "/healthz")).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield Served(port, admin, var)
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def test_gunicorn(served: Served) -> None:
    """One gunicorn for every check (it takes a second or two to start)."""
    port = served.port
    # Server names no version
    assert send(port, request("GET", "/healthz")).headers["server"] == "gunicorn"
    # a chunked body over 1 MB: 413, a problem (the app sees it)
    auth = {"Authorization": token()}
    chunked = send(
        port, request("POST", "/api/v1/clusters", {**auth, **CHUNKED}), chunks=big_chunks(MB + 1)
    )
    assert chunked.status == 413, chunked.body[:300]
    chunked.problem()
    small = send(
        port,
        request("POST", "/api/v1/clusters", {**auth, **CHUNKED}),
        chunks=iter([b'{"name": "Cluster Marbre", ', b'"country": "TN", "kind": "cluster"}']),
    )
    assert small.status == 201, small.body
    # what gunicorn answers itself, before the app (documented in docs/security.md)
    assert send(port, request("GET", "/" + "a" * 5000)).status == 414
    many = {f"X-{i}": "1" for i in range(101)}
    assert send(port, request("GET", "/healthz", many)).status == 431
    assert send(port, request("GET", "/healthz", {"X-Big": "a" * 9000})).status == 431
    # /metrics: a token on the public listener, none on the admin listener
    assert send(port, request("GET", "/metrics")).status == 401
    metrics = send(served.admin, request("GET", "/metrics"))
    assert metrics.status == 200 and b"booster_http_requests_total" in metrics.body
    assert send(served.admin, request("GET", "/api/v1/clusters", auth)).status == 404
    # the SQLite files and the secret file are the owner's only
    for path in served.var.iterdir():
        if path.name.startswith("registry.db"):
            assert path.stat().st_mode & 0o777 == 0o600, path
