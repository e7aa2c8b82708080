"""One WebSocket session, whichever endpoint carries it: admission policy, decoding,
rate limits, dispatch to the handlers, and the end of the session.

Both endpoints use exactly this: `game.server.native` (our RFC 6455 protocol under
uvicorn, the default) feeds it messages from its frame parser, `game.server.ws` (the
ASGI route, a fallback for other servers) from `websocket.receive()`. Each endpoint
guarantees that `Session.handle` runs for one message at a time, in arrival order.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog

from game.core.quotas import AddressQuota, Refusal, address_key
from game.protocol.codec import SUBPROTOCOLS, Codec, decode_json, decode_msgpack
from game.protocol.errors import CloseCode, ErrorCode, ProtocolError, UndecodableFrame
from game.protocol.messages import parse_client, raw_ref
from game.server.connection import Connection
from game.server.forwarded import TrustedProxies
from game.server.handlers import Handlers, error_message
from game.server.metrics import Metrics
from game.server.settings import Settings

log = structlog.get_logger("game.ws")

ENDPOINT_KEY = "game_endpoint"
"""Key of the `Endpoint` in the ASGI lifespan state (how uvicorn hands it to the
native protocol)."""


class TokenBucket:
    """Per-connection rate limit: `rate` frames a second, bursts of `burst` (a whole
    message, a ping, a pong, a fragment: each costs one token)."""

    __slots__ = ("burst", "rate", "stamp", "strikes", "tokens")

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


@dataclass(eq=False)
class Slot:
    """One socket's place under the caps, from its accept until it is really gone: a
    pending HTTP request first (`websocket` False), converted in place by the WebSocket
    handshake, so an upgraded socket is never counted twice."""

    address: str
    websocket: bool = False
    held: bool = True
    counted: bool = True
    """Counted under `address`'s cap: not yet for a trusted proxy's socket whose request
    head has not named the client (`Gate.move`)."""


class Gate:
    """Connection caps, in total and per client address, and the reaper of dead sockets.

    Under `game serve` every socket counts from its accept (`admit_socket`): against
    the per-address cap, and against `max_http_connections` until its WebSocket
    handshake moves it under `max_connections` (`upgrade`); so a server full of
    players still answers /healthz, and half-sent requests cannot exhaust file
    descriptors. Sockets an ASGI server hands to the route without a slot are
    admitted at the handshake (`admit`). A connection counts until its transport is
    really gone, not merely until its handler returned. Every `reap_interval` seconds
    the reaper aborts transports that have been closing for longer than the close
    timeout without being able to flush (the peer stopped reading: e.g. a half-open
    peer whose keepalive ping timed out while data was still queued for it).
    """

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.total = 0
        """WebSocket connections."""
        self.http = 0
        """Sockets counted from their accept that are not (yet) WebSockets."""
        self.per_address: dict[str, int] = {}
        self.open: set[Connection] = set()
        self.draining = False
        """The server is draining (game.server.drain): every new socket is answered 503."""
        self._reaper: asyncio.Task[None] | None = None
        self._refusing: set[str] = set()
        """Addresses (and `*` and `http` for the total caps) refused since their last
        release: a refusal is logged once per such spell, not once per socket. At most
        one entry per address at its cap, so the set stays small."""
        self.requests = AddressQuota(settings.http_requests_per_second * 60,
                                     settings.tracked_addresses, settings.http_request_burst)
        self.proxies = TrustedProxies(settings.trusted_proxies)

    def take_request(self, address: str) -> Refusal | None:
        """One HTTP request from `address` (a handshake included): None if its rate
        allows it, else how long until it would."""
        refusal = self.requests.take(address_key(address), time.monotonic())
        if refusal is not None:
            self.metrics.refused("http")
        if refusal is not None and refusal.first:
            log.warning("http_rate_limited", address=address,
                        retry_after=round(refusal.retry_after, 2))
        return refusal

    def admit(self, address: str) -> bool:
        """A WebSocket that holds no slot yet (the ASGI route under another server)."""
        if self.total >= self.settings.max_connections:
            return self._refused("*", address)
        if not self._address_admits(address):
            return False
        self.total += 1
        return True

    def release(self, address: str) -> None:
        """The end of a socket admitted by `admit`."""
        self.total -= 1
        self._address_left(address, "*")

    def admit_socket(self, address: str, *, proxy: bool = False) -> Slot | None:
        """A socket just accepted, or None if a cap refuses it. A trusted proxy's socket
        (`proxy`) counts under no address until its request names the client (`move`):
        the proxy's own address would otherwise cap all its clients together."""
        if self.http >= self.settings.max_http_connections:
            self._refused("http", address)
            return None
        if not proxy and not self._address_admits(address):
            return None
        self.http += 1
        return Slot(address, counted=not proxy)

    def move(self, slot: Slot, address: str) -> bool:
        """Count a trusted proxy's socket under the client `address` its request head
        names; again at each request, as a kept-alive proxy socket may carry several
        clients' requests. False if that address is at its cap (the slot stays put)."""
        if not slot.held or slot.websocket:
            return slot.held
        if slot.counted and slot.address == address:
            return True
        if not self._address_admits(address):
            return False
        if slot.counted:
            self._address_left(slot.address, "http")
        slot.address, slot.counted = address, True
        return True

    def upgrade(self, slot: Slot) -> bool:
        """Move a socket's slot under `max_connections` at its WebSocket handshake."""
        if slot.websocket or not slot.held:
            return slot.held
        if self.total >= self.settings.max_connections:
            return self._refused("*", slot.address)
        self.http -= 1
        self.total += 1
        slot.websocket = True
        return True

    def free(self, slot: Slot) -> None:
        """The socket is gone (idempotent)."""
        if not slot.held:
            return
        slot.held = False
        if slot.websocket:
            self.total -= 1
        else:
            self.http -= 1
        cap = "*" if slot.websocket else "http"
        if slot.counted:
            self._address_left(slot.address, cap)
        else:
            self._refusing.discard(cap)

    def _address_admits(self, address: str) -> bool:
        count = self.per_address.get(address, 0)
        if count >= self.settings.max_connections_per_address:
            return self._refused(address, address)
        self.per_address[address] = count + 1
        return True

    def _address_left(self, address: str, cap: str) -> None:
        left = self.per_address.get(address, 1) - 1
        if left:
            self.per_address[address] = left
        else:
            self.per_address.pop(address, None)
        if self._refusing:
            self._refusing.discard(address)
            self._refusing.discard(cap)

    def _refused(self, key: str, address: str) -> bool:
        self.metrics.refused("connections")
        if key not in self._refusing:
            self._refusing.add(key)
            cap = {"*": "max_connections", "http": "max_http_connections"}.get(
                key, "max_connections_per_address")
            log.warning("connection_refused", address=address, cap=cap,
                        websockets=self.total, http=self.http)
        return False

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


@dataclass(frozen=True)
class Endpoint:
    """What a socket needs from the app: handed to the native protocol through the
    lifespan state, to the ASGI route by closure."""

    settings: Settings
    gate: Gate
    handlers: Handlers

    def refuse(self, origin: str | None, host: str | None, address: str, *,
               slot: Slot | None = None) -> int | None:
        """Admit a new WebSocket (moving its `slot` under `max_connections`, or counting
        it afresh if it has none), or the close code that refuses it before the
        handshake completes (the client sees HTTP 403). Whoever holds the slot frees it
        when the socket is gone, admitted or not."""
        if not origin_allowed(origin, host, self.settings):
            log.warning("origin_refused", origin=(origin or "")[:200], address=address)
            return CloseCode.POLICY
        if self.handlers.hub.stopping:
            return CloseCode.TRY_AGAIN_LATER
        admitted = self.gate.upgrade(slot) if slot is not None else self.gate.admit(address)
        return None if admitted else CloseCode.TRY_AGAIN_LATER


class Session:
    """The server side of one accepted socket, from the handshake to the disconnect."""

    __slots__ = ("_bucket", "_ended", "_hello_timer", "conn", "endpoint", "flooded")

    def __init__(self, conn: Connection, endpoint: Endpoint) -> None:
        self.conn = conn
        self.endpoint = endpoint
        settings = endpoint.settings
        loop = conn.loop
        self._bucket = TokenBucket(settings.rate_per_second, settings.rate_burst, loop.time())
        self._hello_timer: asyncio.TimerHandle | None = loop.call_later(
            settings.hello_timeout, self._hello_timeout)
        self._ended = False
        self.flooded = False
        """Closed with 1008 for too many messages or frames."""
        endpoint.gate.track(conn)

    def _hello_timeout(self) -> None:
        self._hello_timer = None
        if self.conn.player is None:
            log.info("hello_timeout", address=self.conn.address)
            self.conn.close(CloseCode.POLICY, "no hello")

    async def handle(self, frame: str | bytes) -> None:
        """One complete message: a text frame's text (JSON) or a binary frame's bytes
        (msgpack). Nothing is done once the server has decided to close."""
        conn = self.conn
        if not conn.reading:
            return
        try:
            raw = decode_json(frame) if isinstance(frame, str) else decode_msgpack(frame)
        except UndecodableFrame:
            conn.close(CloseCode.UNDECODABLE, "undecodable frame")
            return
        except ProtocolError as error:
            if not self._limited(None):
                self.endpoint.gate.metrics.error(error.code)
                conn.send(error_message(error))
            return
        if self._limited(raw):
            return
        try:
            msg = parse_client(raw)
        except ProtocolError as error:
            self.endpoint.gate.metrics.error(error.code)
            conn.send(error_message(error, raw_ref(raw)))
            return
        try:
            await self.endpoint.handlers.dispatch(conn, msg)
        except Exception:
            log.exception("handler_failed", player=conn.player, type=raw.get("type"))
            failed = ProtocolError(ErrorCode.UNAVAILABLE, "internal error; retry")
            self.endpoint.gate.metrics.error(failed.code)
            conn.send(error_message(failed, msg.id))

    def take_frame(self) -> bool:
        """A frame that is not a whole message (a ping, a pong, a fragment) costs a
        token too, so empty frames are no free CPU sink. False if refused (the caller
        drops the frame if it can); past the hard limit the connection is closed with
        1008, exactly like a message flood."""
        bucket = self._bucket
        if bucket.take(self.conn.loop.time()):
            return True
        if bucket.strikes > self.endpoint.settings.rate_hard_strikes:
            self._flood_closed()
        return False

    def _flood_closed(self) -> None:
        conn = self.conn
        self.flooded = True
        if not conn.closing:
            self.endpoint.gate.metrics.refused("flood")
            log.warning("flood_closed", player=conn.player, address=conn.address)
            conn.close(CloseCode.POLICY, "too many messages")

    def _limited(self, raw: dict[str, Any] | None) -> bool:
        """Past the soft limit each message is refused with `rate_limited` (and the
        ref of `raw`); past the hard limit the connection is closed with 1008."""
        bucket = self._bucket
        if bucket.take(self.conn.loop.time()):
            return False
        conn = self.conn
        if bucket.strikes > self.endpoint.settings.rate_hard_strikes:
            self._flood_closed()
        else:
            error = ProtocolError(ErrorCode.RATE_LIMITED, "too many messages; slow down")
            self.endpoint.gate.metrics.refused("messages")
            self.endpoint.gate.metrics.error(error.code)
            conn.send(error_message(error, None if raw is None else raw_ref(raw)))
        return True

    async def end(self) -> None:
        """After the last message: the player is gone (presence, queues, watching)."""
        if self._ended:
            return
        self._ended = True
        self.endpoint.gate.metrics.closed(self.conn)
        if self._hello_timer is not None:
            self._hello_timer.cancel()
            self._hello_timer = None
        conn = self.conn
        with structlog.contextvars.bound_contextvars(player=conn.player):
            await self.endpoint.handlers.disconnect(conn)
