"""The WebSocket endpoint: handshake policy, the read loop, decoding and rate limits."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import structlog
from starlette.websockets import WebSocket

from game.protocol.codec import SUBPROTOCOLS, Codec, decode_json, decode_msgpack
from game.protocol.errors import CloseCode, ErrorCode, ProtocolError, UndecodableFrame
from game.protocol.messages import parse_client, raw_ref
from game.server.connection import Connection
from game.server.handlers import Handlers, error_message
from game.server.settings import Settings

log = structlog.get_logger("game.ws")


class _PeerFaultFilter(logging.Filter):
    """uvicorn logs a peer's invalid UTF-8 text frame as an error with a traceback;
    it is the peer's fault (answered with 1007), so a one-line warning is enough, and
    a hostile peer cannot fill the log with tracebacks."""

    MESSAGES = frozenset({"Invalid UTF-8 sequence received from client."})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() in self.MESSAGES:
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


logging.getLogger("uvicorn.error").addFilter(_PeerFaultFilter())


class TokenBucket:
    """Per-connection rate limit: `rate` messages a second, bursts of `burst`."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now
        self.strikes = 0

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            if self.tokens >= self.burst - 1:
                self.strikes = 0
            return True
        self.strikes += 1
        return False


def origin_allowed(origin: str | None, host: str | None, settings: Settings) -> bool:
    """Same-origin or listed origins; a client without Origin (a bot) is allowed."""
    if origin is None or settings.allow_any_origin:
        return True
    if origin in settings.allowed_origins:
        return True
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()


def choose_codec(offered: list[str]) -> tuple[Codec, str | None]:
    for name in offered:
        codec = SUBPROTOCOLS.get(name)
        if codec is not None:
            return codec, name
    return Codec.JSON, None


class Gate:
    """Connection caps, in total and per client address, and the reaper of dead sockets.

    A connection counts against the caps from its admission until its transport is
    really gone, not merely until its handler returned. Every `reap_interval` seconds
    the reaper aborts transports that have been closing for longer than the close
    timeout without being able to flush (the peer stopped reading: e.g. a half-open
    peer whose keepalive ping timed out while data was still queued for it).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.total = 0
        self.per_address: dict[str, int] = {}
        self.open: set[Connection] = set()
        self._reaper: asyncio.Task[None] | None = None

    def admit(self, address: str) -> bool:
        if self.total >= self.settings.max_connections:
            return False
        if self.per_address.get(address, 0) >= self.settings.max_connections_per_address:
            return False
        self.total += 1
        self.per_address[address] = self.per_address.get(address, 0) + 1
        return True

    def release(self, address: str) -> None:
        self.total -= 1
        left = self.per_address.get(address, 1) - 1
        if left:
            self.per_address[address] = left
        else:
            self.per_address.pop(address, None)

    def track(self, conn: Connection) -> None:
        self.open.add(conn)
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap())

    def untrack(self, conn: Connection) -> None:
        self.open.discard(conn)

    async def _reap(self) -> None:
        loop = asyncio.get_running_loop()
        while self.open:
            await asyncio.sleep(self.settings.reap_interval)
            now = loop.time()
            for conn in list(self.open):
                if conn.transport_stuck(now):
                    log.warning("transport_stuck", player=conn.player, address=conn.address)
                    conn.abort()


async def serve_socket(
    websocket: WebSocket, settings: Settings, gate: Gate, handlers: Handlers
) -> None:
    address = websocket.client.host if websocket.client else "unknown"
    origin = websocket.headers.get("origin")
    if not origin_allowed(origin, websocket.headers.get("host"), settings):
        log.warning("origin_refused", origin=(origin or "")[:200], address=address)
        await websocket.close(CloseCode.POLICY)  # before accept: HTTP 403
        return
    if handlers.hub.stopping or not gate.admit(address):
        log.warning("connection_refused", address=address, total=gate.total)
        await websocket.close(CloseCode.TRY_AGAIN_LATER)  # before accept: HTTP 403
        return
    loop = asyncio.get_running_loop()
    conn: Connection | None = None
    try:
        codec, subprotocol = choose_codec(list(websocket.scope.get("subprotocols", [])))
        await websocket.accept(subprotocol=subprotocol)
        conn = Connection(websocket, codec, address, settings.send_queue_limit,
                          settings.close_timeout, settings.send_buffer_bytes)
        gate.track(conn)
        writer = loop.create_task(conn.run_writer())
        reader = loop.create_task(_read_loop(websocket, conn, settings, handlers))

        def wake_reader() -> None:
            # The server decided to close (flood, slow reader, hello timeout, takeover):
            # stop waiting for a frame the peer may never send, and clean up now. Only
            # while the loop waits for a frame, never in the middle of a command.
            if conn is not None and conn.idle and not reader.done():
                reader.cancel()

        conn.on_close = wake_reader
        hello_timer = loop.call_later(settings.hello_timeout, _hello_timeout, conn)
        try:
            await reader
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the endpoint itself is cancelled (server shutdown)
        finally:
            hello_timer.cancel()
            if not reader.done():
                reader.cancel()
            with structlog.contextvars.bound_contextvars(player=conn.player):
                await handlers.disconnect(conn)
            await conn.finish(writer)
    finally:
        if conn is not None:
            gate.untrack(conn)
        gate.release(address)


def _hello_timeout(conn: Connection) -> None:
    if conn.player is None:
        log.info("hello_timeout", address=conn.address)
        conn.close(CloseCode.POLICY, "no hello")


async def _read_loop(
    websocket: WebSocket, conn: Connection, settings: Settings, handlers: Handlers
) -> None:
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(settings.rate_per_second, settings.rate_burst, loop.time())
    while not conn.closing:
        conn.idle = True
        try:
            message = await websocket.receive()
        finally:
            conn.idle = False
        if message["type"] == "websocket.disconnect":
            return
        text: str | None = message.get("text")
        data: bytes | None = message.get("bytes")
        try:
            raw = decode_json(text) if text is not None else decode_msgpack(data or b"")
        except UndecodableFrame:
            conn.close(CloseCode.UNDECODABLE, "undecodable frame")
            return
        except ProtocolError as error:
            if not _limited(bucket, conn, loop.time(), settings, None):
                conn.send(error_message(error))
            continue
        if raw.get("type") != "ping" and _limited(
            bucket, conn, loop.time(), settings, raw_ref(raw)
        ):
            continue
        await _handle(conn, raw, handlers)
        # Frames that arrived together are all queued already: without this, a peer
        # pipelining thousands of cheap messages would hold the loop for all of them.
        await asyncio.sleep(0)


def _limited(
    bucket: TokenBucket, conn: Connection, now: float, settings: Settings, ref: Any
) -> bool:
    """Past the soft limit each message is refused with `rate_limited` (and its ref);
    past the hard limit the connection is closed with 1008."""
    if bucket.take(now):
        return False
    if bucket.strikes > settings.rate_hard_strikes:
        log.warning("flood_closed", player=conn.player, address=conn.address)
        conn.close(CloseCode.POLICY, "too many messages")
    else:
        error = ProtocolError(ErrorCode.RATE_LIMITED, "too many messages; slow down")
        conn.send(error_message(error, ref))
    return True


async def _handle(conn: Connection, raw: dict[str, Any], handlers: Handlers) -> None:
    try:
        msg = parse_client(raw)
    except ProtocolError as error:
        conn.send(error_message(error, raw_ref(raw)))
        return
    try:
        await handlers.dispatch(conn, msg)
    except Exception:
        log.exception("handler_failed", player=conn.player, type=raw.get("type"))
        conn.send(error_message(ProtocolError(ErrorCode.UNAVAILABLE, "internal error; retry"),
                                msg.id))
