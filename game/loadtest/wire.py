"""Client WebSocket links for the load generator: a raw one and a `websockets` one.

Both deliver every decoded message to a `Handler` with the monotonic time its bytes
were read, and send with a plain non-blocking call, so the drivers are callbacks
with no task per message. The raw link parses frames itself on an asyncio.Protocol
(RFC 6455, client side: masked sends, unmasked receives, ping/pong and close); it is
several times cheaper per message than the `websockets` client (docs/performance.md),
which matters because the generator must never be the bottleneck.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import socket
import struct
import time
from collections.abc import Callable
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import msgpack
import orjson

_c_apply_mask: Callable[[bytes, bytes], bytes] | None
try:
    from websockets.speedups import apply_mask as _c_apply_mask
except ImportError:  # pragma: no cover - the C speedups ship with websockets wheels
    _c_apply_mask = None

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CODECS = ("json", "msgpack")
ABNORMAL = 1006


class Handler(Protocol):
    def on_message(self, link: Link, message: Any, now: float) -> None: ...

    def on_close(self, link: Link, code: int | None) -> None: ...


class Link(Protocol):
    """One client connection. `tag` is free for the driver (a seat index, a watcher)."""

    tag: int
    frames_in: int
    frames_out: int
    close_code: int | None

    def send(self, message: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


def encoder(codec: str) -> Callable[[Any], bytes]:
    if codec == "json":
        dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        return lambda message: dumps(message).encode()
    packb = msgpack.Packer(use_bin_type=True).pack
    return lambda message: bytes(packb(message))


def apply_mask(data: bytes, mask: bytes) -> bytes:
    if _c_apply_mask is not None:
        result: bytes = _c_apply_mask(data, mask)
        return result
    size = len(data)  # pragma: no cover
    repeated = (mask * (size // 4 + 1))[:size]  # pragma: no cover
    value = int.from_bytes(data, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(size, "little")  # pragma: no cover


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One masked, final frame (clients must mask: RFC 6455 section 5.3)."""
    size = len(payload)
    mask = random.randbytes(4)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return head + mask + apply_mask(payload, mask)


class HandshakeError(ConnectionError):
    pass


class Deferred:
    """Reads of many links, parsed once the loop's current batch of socket events is
    done, each with the time its bytes arrived. When one process plays 1000 watchers,
    parsing one watcher's frame in its own read would delay the arrival time of every
    watcher read after it; only an append is left on that path."""

    def __init__(self) -> None:
        self._reads: list[tuple[RawLink, bytes, float]] = []

    def add(self, link: RawLink, data: bytes, now: float) -> None:
        if not self._reads:
            asyncio.get_running_loop().call_soon(self._run)
        self._reads.append((link, data, now))

    def _run(self) -> None:
        reads, self._reads = self._reads, []
        for link, data, now in reads:  # in arrival order, so each link's bytes stay in order
            link.consume(data, now)


class RawLink(asyncio.Protocol):
    """A minimal RFC 6455 client on an asyncio.Protocol; no extensions, no fragments out."""

    def __init__(self, codec: str, handler: Handler, tag: int) -> None:
        self.tag = tag
        self.frames_in = 0
        self.frames_out = 0
        self.close_code: int | None = None
        self._codec = codec
        self._binary = codec == "msgpack"
        self._opcode = 0x2 if self._binary else 0x1
        self._encode = encoder(codec)
        self._handler = handler
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._fragments: list[bytes] = []
        self._upgraded = False
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._request = b""
        self._handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._closing = False
        self.defer: Deferred | None = None
        """Set: reads are parsed after the loop's current batch of socket events."""

    # ---- handshake ---------------------------------------------------------------------

    def prepare(self, host: str, port: int, path: str, subprotocol: str | None) -> None:
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key}",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocol is not None:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        self._request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._transport.write(self._request)

    async def wait_open(self) -> None:
        await self._handshake

    def _finish_handshake(self) -> None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4 :]
        status, *header_lines = head.split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self._key.encode() + GUID).digest()).decode()
        if not status.startswith("HTTP/1.1 101"):
            hint = " (over the server's connection caps? see GAME_MAX_CONNECTIONS_PER_ADDRESS)"
            self._fail_handshake(f"refused: {status}" + (hint if " 403" in status else ""))
        elif headers.get("sec-websocket-accept") != expected:
            self._fail_handshake("bad Sec-WebSocket-Accept")
        else:
            self._upgraded = True
            if not self._handshake.done():
                self._handshake.set_result(None)

    def _fail_handshake(self, why: str) -> None:
        if not self._handshake.done():
            self._handshake.set_exception(HandshakeError(why))
        if self._transport is not None:
            self._transport.close()

    # ---- frames ------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self.defer is not None and self._upgraded:
            self.defer.add(self, data, now)
        else:
            self.consume(data, now)

    def consume(self, data: bytes, now: float) -> None:
        """Parse `data`, which arrived at `now`, and hand over every complete message."""
        self._buffer = self._buffer + data if self._buffer else data
        if not self._upgraded:
            self._finish_handshake()
            if not self._upgraded:
                return
        buffer = self._buffer
        size = len(buffer)
        pos = 0
        while size - pos >= 2:
            first, second = buffer[pos], buffer[pos + 1]
            length = second & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + length
            if end > size:
                break
            payload = buffer[pos + head : end]
            pos = end
            self._frame(first, payload, now)
        self._buffer = buffer[pos:]

    def _frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode == 0x0 or not first & 0x80:
            self._fragments.append(payload)
            if not first & 0x80:
                return
            payload = b"".join(self._fragments)
            self._fragments.clear()
        if opcode in (0x0, 0x1, 0x2):
            self.frames_in += 1
            message = msgpack.unpackb(payload, raw=False) if self._binary else orjson.loads(payload)
            self._handler.on_message(self, message, now)
        elif opcode == 0x9:
            self._write(client_frame(0xA, payload))
        elif opcode == 0x8:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if not self._closing:
                self._closing = True
                self._write(client_frame(0x8, payload[:2]))
            if self._transport is not None:
                self._transport.close()

    # ---- sending and closing -----------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        if self._closing:
            return
        self.frames_out += 1
        self._write(client_frame(self._opcode, self._encode(message)))

    def _write(self, frame: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame)

    async def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._write(client_frame(0x8, struct.pack("!H", 1000)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._lost), 5)
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._handshake.done():
            self._handshake.set_exception(exc or HandshakeError("closed during handshake"))
        if not self._lost.done():
            self._lost.set_result(None)
        if self.close_code is None:
            self.close_code = ABNORMAL
        self._handler.on_close(self, self.close_code)


async def open_raw(url: str, codec: str, handler: Handler, tag: int, subprotocol: bool) -> RawLink:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    if parts.scheme == "wss":
        raise ValueError("the raw client speaks ws:// only; use --client websockets for wss://")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    link = RawLink(codec, handler, tag)
    link.prepare(host, port, path, f"game.v1.{codec}" if subprotocol else None)
    await asyncio.get_running_loop().create_connection(lambda: link, host, port)
    await link.wait_open()
    return link


class WebsocketsLink:
    """The same Link over the `websockets` asyncio client (a task reads, sends are tasks)."""

    def __init__(self, codec: str, handler: Handler, tag: int) -> None:
        self.tag = tag
        self.frames_in = 0
        self.frames_out = 0
        self.close_code: int | None = None
        self._binary = codec == "msgpack"
        self._encode = encoder(codec)
        self._handler = handler
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

    async def open(self, url: str, subprotocol: str | None) -> None:
        from websockets.asyncio.client import connect

        protocols: Any = [subprotocol] if subprotocol is not None else None
        self._ws = await connect(url, subprotocols=protocols, compression=None,
                                 max_size=2**20, ping_interval=None)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        ws = self._ws
        try:
            async for frame in ws:
                now = time.monotonic()
                self.frames_in += 1
                binary = self._binary
                message = msgpack.unpackb(frame, raw=False) if binary else orjson.loads(frame)
                self._handler.on_message(self, message, now)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code if ws.close_code is not None else ABNORMAL
            self._handler.on_close(self, self.close_code)

    def send(self, message: dict[str, Any]) -> None:
        self.frames_out += 1
        data = self._encode(message)
        payload: str | bytes = data if self._binary else data.decode()
        task = asyncio.get_running_loop().create_task(self._send(payload))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send(self, payload: str | bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(payload)

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


async def open_link(
    url: str, codec: str, handler: Handler, tag: int = 0, *, client: str = "raw",
    subprotocol: bool = True,
) -> Link:
    """Connect and finish the WebSocket handshake; the handler gets every message."""
    if client == "raw":
        return await open_raw(url, codec, handler, tag, subprotocol)
    link = WebsocketsLink(codec, handler, tag)
    await link.open(url, f"game.v1.{codec}" if subprotocol else None)
    return link
