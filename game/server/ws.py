"""The WebSocket endpoint: handshake policy, the read loop, decoding and rate limits."""

from __future__ import annotations

import asyncio
import contextlib
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
    """Connection caps, in total and per client address."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.total = 0
        self.per_address: dict[str, int] = {}

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


async def serve_socket(
    websocket: WebSocket, settings: Settings, gate: Gate, handlers: Handlers
) -> None:
    address = websocket.client.host if websocket.client else "unknown"
    if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings):
        log.warning("origin_refused", origin=websocket.headers.get("origin"), address=address)
        await websocket.close(CloseCode.POLICY)
        return
    if handlers.hub.stopping or not gate.admit(address):
        log.warning("connection_refused", address=address, total=gate.total)
        await websocket.close(CloseCode.TRY_AGAIN_LATER)
        return
    try:
        codec, subprotocol = choose_codec(list(websocket.scope.get("subprotocols", [])))
        await websocket.accept(subprotocol=subprotocol)
        conn = Connection(websocket, codec, address, settings.send_queue_limit)
        writer = asyncio.get_running_loop().create_task(conn.run_writer())
        hello_timer = asyncio.get_running_loop().call_later(
            settings.hello_timeout,
            lambda: conn.close(CloseCode.POLICY, "no hello") if conn.player is None else None,
        )
        try:
            await _read_loop(websocket, conn, settings, handlers)
        finally:
            hello_timer.cancel()
            with structlog.contextvars.bound_contextvars(player=conn.player):
                await handlers.disconnect(conn)
            conn.close(1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), Connection.CLOSE_TIMEOUT * 2)
    finally:
        gate.release(address)


async def _read_loop(
    websocket: WebSocket, conn: Connection, settings: Settings, handlers: Handlers
) -> None:
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(settings.rate_per_second, settings.rate_burst, loop.time())
    while not conn.closing:
        message = await websocket.receive()
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
