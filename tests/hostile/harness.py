"""Tools for hostile-input tests: a bystander match, raw WebSocket peers, server probes.

* `Bystander` keeps a match between two well-behaved clients going in the background
  while a test abuses the same server, records each move's latency (send -> the
  opponent has the patch), and asserts at exit that it never missed a patch, never got
  an error, was never disconnected and is still playing.
* `RawPeer` speaks just enough RFC 6455 over a plain socket to do what no library
  client will: never read (with a tiny receive buffer), never answer pings, send
  frames whose header lies about their length, invalid UTF-8 text, fragments.
* `healthz`, `server_rss`, `wait_until` and `assert_clean_logs` probe the server
  process from outside, by its effects only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
import msgpack
import psutil  # type: ignore[import-untyped,unused-ignore]

from tests.support import Client, ServerProcess, connect

DEADLINE = 20.0
"""Seconds any wait in these tests may take before it counts as a failure."""

BYSTANDER_HOST = "127.0.0.2"
"""The bystander connects from its own loopback address, so per-address caps that a
test fills up from 127.0.0.1 (or another 127.x address) never count its sockets."""


# ---- probes ------------------------------------------------------------------------


def healthz(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(f"{server.http}/healthz", timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


async def ahealthz(server: ServerProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{server.http}/healthz")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def server_rss(server: ServerProcess) -> int:
    """Resident memory of the server process (not its bot workers), in bytes."""
    assert server.process is not None
    return int(psutil.Process(server.process.pid).memory_info().rss)


async def wait_until(
    probe: Callable[[], Awaitable[bool]], deadline: float = DEADLINE, what: str = "condition"
) -> float:
    """Poll `probe` until it is true; the seconds it took. Fails after `deadline`.

    For server-side effects that send no message to anyone (a socket reaped, a cap
    freed): the wait ends as soon as the effect is observable, never after a fixed sleep.
    """
    start = time.monotonic()
    delay = 0.01
    while True:
        if await probe():
            return time.monotonic() - start
        if time.monotonic() - start > deadline:
            raise AssertionError(f"timed out after {deadline}s waiting for {what}")
        await asyncio.sleep(delay)  # polling an external effect that has no event
        delay = min(delay * 2, 0.2)


def log_mark(server: ServerProcess) -> int:
    """The current length of the server log, to check only what follows."""
    return server.log_path.stat().st_size


def assert_clean_logs(server: ServerProcess, since: int = 0) -> list[dict[str, Any]]:
    """No traceback, no RecursionError and no unexpected error event in the server log."""
    with server.log_path.open("rb") as handle:
        handle.seek(since)
        text = handle.read().decode("utf-8", "replace")
    assert "RecursionError" not in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    events = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:  # e.g. multiprocessing's resource_tracker warning at exit
            continue
        events.append(event)
        assert event.get("event") not in ("handler_failed", "task_failed"), event
        assert "Exception in ASGI application" not in str(event.get("event")), event
    return events


# ---- bystander ---------------------------------------------------------------------


@dataclass
class Bystander:
    """Two clients playing matches back to back on `server` while a test runs.

    Use as `async with Bystander(server) as bystander:`. Pairing goes through a private
    room, so it never takes part in the quick-match queue a test may use.
    """

    server: ServerProcess
    codec: str = "json"
    game: str = "tictactoe"
    host: str = BYSTANDER_HOST
    pace: float = 0.01
    """Seconds between two moves: a steady, light load rather than a busy loop."""
    min_moves_after: int = 4
    """Moves it must still make after the test's case ran (it is `still playing`)."""
    seed: int = 0
    latencies: list[float] = field(default_factory=list)
    moves: int = 0
    matches: int = 0
    clients: list[Client] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _stack: contextlib.AsyncExitStack | None = None
    _moved: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: bool = False
    _paused: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> Bystander:
        self._paused.set()
        self._stack = contextlib.AsyncExitStack()
        for name in ("bystander-a", "bystander-b"):
            client = await self._stack.enter_async_context(
                connect(self.server, self.codec, local_addr=(self.host, 0))
            )
            await client.hello(name)
            self.clients.append(client)
        self._task = asyncio.get_running_loop().create_task(self._play())
        await self.wait_moves(2)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self._paused.set()
                await self.wait_moves(self.min_moves_after)
                self._stop = True
                assert self._task is not None
                await asyncio.wait_for(self._task, DEADLINE)
                await self.check()
        finally:
            if self._task is not None and not self._task.done():
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
            assert self._stack is not None
            await self._stack.aclose()

    async def wait_moves(self, count: int) -> None:
        """Wait until the bystander has made `count` more moves."""
        target = self.moves + count

        async def wait() -> None:
            while self.moves < target:
                self._raise_if_failed()
                self._moved.clear()
                await self._moved.wait()

        await asyncio.wait_for(wait(), DEADLINE)

    def pause(self) -> None:
        """Stop moving (e.g. to measure memory without its traffic); `resume()` goes on."""
        self._paused.clear()

    def resume(self) -> None:
        self._paused.set()

    def _raise_if_failed(self) -> None:
        if self._task is not None and self._task.done():
            self._task.result()
            if not self._stop:
                raise AssertionError("the bystander stopped playing")

    async def check(self) -> None:
        """Every message it got was schema-valid and hash-checked (Client._track), no
        patch went missing, nothing was refused, neither client was disconnected."""
        assert not self.errors, self.errors
        for client in self.clients:
            assert client._reader is not None
            if client._reader.done():
                raise AssertionError(
                    f"bystander disconnected with {client.close_code}: "
                    f"{client._reader.exception() if not client._reader.cancelled() else ''}"
                )
            refused = [m for m in client.inbox if m.get("type") == "error"]
            assert not refused, refused
        assert self.moves >= self.min_moves_after

    async def _play(self) -> None:
        rng = random.Random(self.seed)
        a, b = self.clients
        while not self._stop:
            match, seats = await self._new_match(a, b)
            self.matches += 1
            while not self._stop:
                await self._paused.wait()
                view = seats[0].views[match]
                if view["status"] != "active":
                    break
                mover = seats[view["turn"]]
                other = seats[1 - view["turn"]]
                legal = mover.views[match]["legal"]
                count = len(view["moves"]) + 1
                started = time.perf_counter()
                answer = await mover.request({"type": "move", "match": match,
                                              "move": rng.choice(legal),
                                              "version": mover.versions[match]})
                if answer.get("type") != "ack":
                    self.errors.append(f"move refused: {answer}")
                    raise AssertionError(f"bystander move refused: {answer}")
                reached = moves_at_least(count)
                await other.until_view(match, reached, timeout=DEADLINE)
                self.latencies.append(time.perf_counter() - started)
                await mover.until_view(match, reached, timeout=DEADLINE)
                self.moves += 1
                self._moved.set()
                if self.pace:
                    await asyncio.sleep(self.pace)  # pacing the load, not waiting for anything
            self._check_agree(match, seats)

    def _check_agree(self, match: str, seats: dict[int, Client]) -> None:
        first, second = seats[0].views[match], seats[1].views[match]
        for key in ("board", "moves", "status", "result", "players", "turn"):
            if first[key] != second[key]:
                self.errors.append(f"players disagree on {key}: {first[key]} / {second[key]}")

    async def _new_match(self, a: Client, b: Client) -> tuple[str, dict[int, Client]]:
        room = await a.request({"type": "create_room", "game": self.game})
        if room.get("type") != "room":
            raise AssertionError(f"bystander could not open a room: {room}")
        match = room["match"]
        joined = await b.request({"type": "join_room", "code": room["code"]})
        if joined.get("type") != "ack":
            raise AssertionError(f"bystander could not join its room: {joined}")
        for client in (a, b):
            await client.until_view(match, lambda v: v["status"] == "active", timeout=DEADLINE)
        seats = {client.views[match]["you"]: client for client in (a, b)}
        assert set(seats) == {0, 1}
        return match, seats

    def latency_summary(self) -> dict[str, float]:
        data = sorted(self.latencies)
        if not data:
            return {"moves": 0}

        def pct(p: float) -> float:
            return data[min(len(data) - 1, int(p * len(data)))] * 1000

        return {"moves": len(data), "p50_ms": pct(0.5), "p95_ms": pct(0.95),
                "p99_ms": pct(0.99), "max_ms": data[-1] * 1000}


def moves_at_least(count: int) -> Callable[[dict[str, Any]], bool]:
    def reached(view: dict[str, Any]) -> bool:
        return len(view["moves"]) >= count

    return reached


def answer_to(ref: object) -> Callable[[dict[str, Any]], bool]:
    def matches(message: dict[str, Any]) -> bool:
        return bool(message.get("ref") == ref)

    return matches


@contextlib.asynccontextmanager
async def player_pair(
    server: ServerProcess, game: str = "tictactoe", codec: str = "json",
    host: str = "127.0.0.1", names: tuple[str, str] = ("p0", "p1"),
) -> AsyncIterator[tuple[str, dict[int, Client]]]:
    """Two connected players in a fresh active match (through a private room)."""
    async with connect(server, codec, local_addr=(host, 0)) as a, \
            connect(server, codec, local_addr=(host, 0)) as b:
        await a.hello(names[0])
        await b.hello(names[1])
        room = await a.request({"type": "create_room", "game": game})
        assert room["type"] == "room", room
        joined = await b.request({"type": "join_room", "code": room["code"]})
        assert joined["type"] == "ack", joined
        match = room["match"]
        for client in (a, b):
            await client.until_view(match, lambda v: v["status"] == "active")
            await barrier(client)
            client.inbox.clear()  # the set-up's messages; tests look at what follows
        yield match, {a.views[match]["you"]: a, b.views[match]["you"]: b}


async def command(client: Client, message: dict[str, Any]) -> dict[str, Any]:
    """Send `message` with its own `id` (unlike Client.request) and wait for the answer."""
    await client.send(message)
    return await client.expect(lambda m: m.get("ref") == message["id"])


async def barrier(client: Client) -> None:
    """A ping round trip: whatever the server queued for `client` before it has arrived."""
    pong = await client.request({"type": "ping"})
    assert pong["type"] == "pong", pong


# ---- raw WebSocket peer ------------------------------------------------------------


class HandshakeRefused(Exception):
    def __init__(self, status: int, head: bytes) -> None:
        super().__init__(f"handshake refused with HTTP {status}")
        self.status = status
        self.head = head


OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame_header(opcode: int, length: int, fin: bool = True, mask: bytes = b"\0\0\0\0",
                 rsv: int = 0) -> bytes:
    """A masked client frame header announcing `length` payload bytes."""
    first = (0x80 if fin else 0) | rsv | opcode
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 2**16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + mask


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A complete masked client frame (the zero mask keeps the payload as is)."""
    return frame_header(opcode, len(payload), fin) + payload


@dataclass
class RawPeer:
    """A WebSocket client that does only and exactly what the test tells it to."""

    sock: socket.socket
    buffer: bytes = b""

    @classmethod
    async def open(
        cls,
        server: ServerProcess,
        *,
        host: str = "127.0.0.1",
        rcvbuf: int | None = None,
        origin: str | None = None,
        subprotocol: str | None = "game.v1.json",
    ) -> RawPeer:
        """Connect from `host` and complete the opening handshake (HandshakeRefused if not)."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        try:
            sock.bind((host, 0))
            await loop.sock_connect(sock, ("127.0.0.1", server.port))
            key = base64.b64encode(os.urandom(16)).decode()
            lines = [
                "GET /ws HTTP/1.1",
                f"Host: 127.0.0.1:{server.port}",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Key: {key}",
                "Sec-WebSocket-Version: 13",
            ]
            if origin is not None:
                lines.append(f"Origin: {origin}")
            if subprotocol is not None:
                lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
            await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode())
            peer = cls(sock)
            head = await peer._read_until(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status != 101:
                raise HandshakeRefused(status, head)
            return peer
        except BaseException:
            sock.close()
            raise

    async def _recv(self) -> bytes:
        loop = asyncio.get_running_loop()
        data = await asyncio.wait_for(loop.sock_recv(self.sock, 65536), DEADLINE)
        return data

    async def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            data = await self._recv()
            if not data:
                raise ConnectionError("closed during the handshake")
            self.buffer += data
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    async def _read_exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            data = await self._recv()
            if not data:
                raise EOFError
            self.buffer += data
        out, self.buffer = self.buffer[:count], self.buffer[count:]
        return out

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def send_text(self, text: str | bytes) -> None:
        await self.send(frame(OP_TEXT, text.encode() if isinstance(text, str) else text))

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send_text(json.dumps(message))

    async def send_msgpack(self, message: Any) -> None:
        await self.send(frame(OP_BINARY, msgpack.packb(message)))

    async def read_frame(self) -> tuple[int, bytes]:
        first, second = await self._read_exact(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._read_exact(8))
        return first & 0x0F, await self._read_exact(length)

    async def read_message(self) -> dict[str, Any]:
        """The next data message (answering no pings: this peer is rude)."""
        while True:
            opcode, payload = await self.read_frame()
            if opcode == OP_TEXT:
                message: dict[str, Any] = json.loads(payload)
                return message
            if opcode == OP_BINARY:
                decoded: dict[str, Any] = msgpack.unpackb(payload)
                return decoded
            if opcode == OP_CLOSE:
                raise ConnectionError(f"closed with {close_code_of(payload)}")

    async def close_code(self) -> int | None:
        """Read until the server's close frame (its code) or EOF without one (None)."""
        while True:
            try:
                opcode, payload = await self.read_frame()
            except (EOFError, ConnectionError):
                return None
            if opcode == OP_CLOSE:
                return close_code_of(payload)

    async def eof(self) -> None:
        """Discard everything until the server drops the TCP connection."""
        while True:
            try:
                data = await self._recv()
            except ConnectionError:
                return
            if not data:
                return

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def close_code_of(payload: bytes) -> int | None:
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


# ---- raw HTTP (request heads and bodies the way no HTTP client sends them) -----------


async def ahealthz_from(server: ServerProcess, host: str) -> dict[str, Any]:
    """`/healthz`, asked from the loopback address `host` (not 127.0.0.1's caps)."""
    transport = httpx.AsyncHTTPTransport(local_address=host)
    async with httpx.AsyncClient(timeout=10, transport=transport) as http:
        response = await http.get(f"{server.http}/healthz")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


async def http_socket(server: ServerProcess, host: str = "127.0.0.1") -> socket.socket:
    """A plain TCP socket to the server from `host`, connected, non-blocking."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        sock.bind((host, 0))
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    except BaseException:
        sock.close()
        raise
    return sock


async def read_to_end(sock: socket.socket, deadline: float = DEADLINE) -> bytes:
    """Everything the server sends until it closes the connection (EOF or reset);
    fails if it is still open after `deadline` seconds."""
    loop = asyncio.get_running_loop()
    received = b""

    async def read() -> None:
        nonlocal received
        while True:
            try:
                data = await loop.sock_recv(sock, 65536)
            except ConnectionError:
                return
            if not data:
                return
            received += data

    await asyncio.wait_for(read(), deadline)
    return received


def http_status(response: bytes) -> int | None:
    """The status code of a raw HTTP response (None if nothing was answered)."""
    if not response.startswith(b"HTTP/1."):
        return None
    return int(response.split(b" ", 2)[1])
