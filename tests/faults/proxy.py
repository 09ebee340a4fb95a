"""A small TCP fault proxy on loopback, between the platform's processes and a server.

Clients connect to ``proxy.port``; each connection is piped to the upstream server by two
threads, one per direction. Faults, each healed by :meth:`FaultProxy.heal`:

- ``refuse()``: new connections are reset as soon as they are accepted (the server looks
  down to a client that connects); open ones are left alone.
- ``hang()``: no byte moves in either direction and nothing is closed, on open and new
  connections alike (a broker that hangs; TCP keeps both ends believing all is well).
- ``cut("up" | "down")``: one direction only stops (``up`` = client to server). Bytes are
  not read any more, so they wait in the kernel's buffers like packets of a partition
  that is healed later; the other direction keeps flowing.
- ``reset_all()``: every open connection is reset (RST) on both sides, at once.
- ``delay(seconds)``: each chunk waits before it is forwarded (a slow link).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field

DIRECTIONS = ("up", "down")


@dataclass(eq=False)
class _Pipe:
    client: socket.socket
    server: socket.socket
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self, *, reset: bool = False) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.server):
            if reset:
                _set_reset_on_close(sock)
            try:
                # a close alone waits for the other pump's recv on this socket to return
                # (which may be never): shutting down wakes it first
                sock.shutdown(socket.SHUT_RD if reset else socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass


def _set_reset_on_close(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream``; faults are switched on and off."""

    def __init__(self, name: str, upstream: tuple[str, int]) -> None:
        self.name = name
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._state = threading.Condition()
        self._refusing = False
        self._hung = False
        self._cut: set[str] = set()
        self._delay = 0.0
        self._pipes: set[_Pipe] = set()
        self._closed = False
        self.accepted = 0
        self.refused = 0
        self.resets = 0
        self._thread = threading.Thread(target=self._accept, name=f"proxy-{name}", daemon=True)
        self._thread.start()

    # -- faults ------------------------------------------------------------------------
    def refuse(self) -> None:
        with self._state:
            self._refusing = True

    def hang(self) -> None:
        with self._state:
            self._hung = True

    def cut(self, direction: str) -> None:
        assert direction in DIRECTIONS, direction
        with self._state:
            self._cut.add(direction)

    def delay(self, seconds: float) -> None:
        with self._state:
            self._delay = seconds

    def reset_all(self) -> int:
        """Reset every open connection; how many there were."""
        with self._state:
            pipes = list(self._pipes)
            self._pipes.clear()
        for pipe in pipes:
            pipe.close(reset=True)
        self.resets += len(pipes)
        return len(pipes)

    def heal(self) -> None:
        with self._state:
            self._refusing = self._hung = False
            self._cut.clear()
            self._delay = 0.0
            self._state.notify_all()

    @property
    def open_connections(self) -> int:
        with self._state:
            return len(self._pipes)

    def close(self) -> None:
        self._closed = True
        self.heal()
        try:
            self._listener.close()
        except OSError:
            pass
        self.reset_all()

    # -- plumbing ----------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._state:
                refusing = self._refusing
            if refusing:
                self.refused += 1
                _set_reset_on_close(client)
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _set_reset_on_close(client)
                client.close()
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pipe = _Pipe(client, server)
            with self._state:
                self._pipes.add(pipe)
            self.accepted += 1
            for direction, source, target in (("up", client, server), ("down", server, client)):
                threading.Thread(
                    target=self._pump,
                    args=(pipe, direction, source, target),
                    name=f"proxy-{self.name}-{direction}",
                    daemon=True,
                ).start()

    def _wait_until_open(self, pipe: _Pipe, direction: str) -> float:
        """Block while the direction is hung or cut; the delay to apply once it flows."""
        with self._state:
            while (self._hung or direction in self._cut) and not pipe.closed.is_set():
                self._state.wait(0.2)
            return self._delay

    def _pump(
        self, pipe: _Pipe, direction: str, source: socket.socket, target: socket.socket
    ) -> None:
        """Copy one direction. An end of stream is passed on (half-close); an error resets
        the whole connection, as it would be seen through a real network."""
        clean = False
        try:
            while not pipe.closed.is_set():
                self._wait_until_open(pipe, direction)  # a cut stops reading, too
                data = source.recv(65536)
                delay = self._wait_until_open(pipe, direction)
                if pipe.closed.is_set():
                    return
                if delay:
                    time.sleep(delay)
                if not data:
                    target.shutdown(socket.SHUT_WR)
                    clean = True
                    return
                target.sendall(data)
        except OSError:
            pass
        finally:
            if not clean or direction == "down":
                with self._state:
                    self._pipes.discard(pipe)
                pipe.close(reset=not clean)
