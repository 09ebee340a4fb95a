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

A proxy made with ``amqp=True`` also reads what each AMQP client sends, frame by frame,
and notes when one gives its connection up (``closing_since``): the first thing a client
does once it noticed a broker gone silent, even while its bytes are held back.
"""

from __future__ import annotations

import fcntl
import socket
import struct
import termios
import threading
import time
from dataclasses import dataclass, field

DIRECTIONS = ("up", "down")
PROTOCOL_HEADER_SIZE = len(b"AMQP\x00\x00\x09\x01")
FRAME_END = 0xCE
CLOSING_METHODS = {(10, 50), (20, 40), (60, 30)}
"""connection.close, channel.close, basic.cancel (class and method ids): a client sends
one of them first when it gives a connection up."""


class ClientFrames:
    """What an AMQP client sent on one connection, split into frames."""

    def __init__(self) -> None:
        self._header = PROTOCOL_HEADER_SIZE  # bytes of the protocol header still to come
        self._rest = b""  # the start of a frame not complete yet
        self.in_sync = True

    def feed(self, data: bytes) -> bool:
        """Take the client's next bytes; whether they complete a closing method."""
        closing, self._header, self._rest, self.in_sync = _scan(self._rest + data, self._header)
        return closing

    def peek(self, data: bytes) -> bool:
        """Whether ``data``, were it the client's next bytes, completes a closing method."""
        return _scan(self._rest + data, self._header)[0]


def _scan(buffer: bytes, header: int) -> tuple[bool, int, bytes, bool]:
    """Whether a closing method is among ``buffer``'s complete frames, the protocol
    header's bytes still to come, the incomplete rest, whether the frames were sound."""
    offset = min(header, len(buffer))
    header -= offset
    closing = False
    while len(buffer) - offset >= 7:
        kind, _channel, size = struct.unpack_from(">BHI", buffer, offset)
        end = offset + 7 + size
        if end >= len(buffer):
            break
        if buffer[end] != FRAME_END:
            return closing, header, b"", False
        if kind == 1 and size >= 4:
            closing |= struct.unpack_from(">HH", buffer, offset + 7) in CLOSING_METHODS
        offset = end + 1
    return closing, header, buffer[offset:], True


@dataclass(eq=False)
class _Pipe:
    client: socket.socket
    server: socket.socket
    closed: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    """The client's own port."""
    frames: ClientFrames | None = None
    """What the client sent, frame by frame (``amqp``)."""
    peeked: int = 0
    """Bytes held back that were looked at last (``amqp``)."""
    closing: bool = False
    """The client sent a closing method (``amqp``)."""

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

    def __init__(self, name: str, upstream: tuple[str, int], *, amqp: bool = False) -> None:
        self.name = name
        self.upstream = upstream
        self.amqp = amqp
        self.closings: list[tuple[int, float]] = []
        """(client port, monotonic time) of each connection's first closing method."""
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

    def closing_since(self, since: float) -> set[int]:
        """The client ports of the connections given up (``amqp``) at ``since`` or later."""
        with self._state:
            return {port for port, at in self.closings if at >= since}

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
            pipe = _Pipe(client, server, port=client.getpeername()[1])
            if self.amqp:
                pipe.frames = ClientFrames()
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

    def _wait_until_open(self, pipe: _Pipe, direction: str, source: socket.socket) -> float:
        """Block while the direction is hung or cut; the delay to apply once it flows."""
        with self._state:
            while (self._hung or direction in self._cut) and not pipe.closed.is_set():
                self._state.wait(0.2)
                if direction == "up":
                    self._peek(pipe, source)
            return self._delay

    def _observe(self, pipe: _Pipe, data: bytes) -> None:
        """Read what a client sends (``amqp``): a closing method is noted."""
        if pipe.frames is None or pipe.closing:
            return
        pipe.peeked = 0
        if pipe.frames.feed(data):
            self._note_closing(pipe)
        elif not pipe.frames.in_sync:
            pipe.frames = None

    def _peek(self, pipe: _Pipe, source: socket.socket) -> None:
        """Look at what a client sent that is held back (not read) for a closing method."""
        if pipe.frames is None or pipe.closing or pipe.closed.is_set():
            return
        try:  # the connection may be closed (reset) meanwhile: its descriptor is gone then
            size = fcntl.ioctl(source.fileno(), termios.FIONREAD, b"\0\0\0\0")
            held = struct.unpack("i", size)[0]
            if held == pipe.peeked:  # nothing new since the last look
                return
            pipe.peeked = held
            data = source.recv(held, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (OSError, ValueError):
            return
        if pipe.frames.peek(data):
            self._note_closing(pipe)

    def _note_closing(self, pipe: _Pipe) -> None:
        with self._state:
            pipe.closing = True
            self.closings.append((pipe.port, time.monotonic()))

    def _pump(
        self, pipe: _Pipe, direction: str, source: socket.socket, target: socket.socket
    ) -> None:
        """Copy one direction. An end of stream is passed on (half-close); an error resets
        the whole connection, as it would be seen through a real network."""
        clean = False
        try:
            while not pipe.closed.is_set():
                self._wait_until_open(pipe, direction, source)  # a cut stops reading, too
                data = source.recv(65536)
                if direction == "up":
                    self._observe(pipe, data)
                delay = self._wait_until_open(pipe, direction, source)
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
