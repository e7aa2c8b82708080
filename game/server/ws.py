"""The ASGI WebSocket endpoint: a fallback for ASGI servers other than our own protocol.

`game serve` answers `/ws` with `game.server.native` by default (GAME_WEBSOCKET=native);
this route serves it under any ASGI server, or under uvicorn's own WebSocket protocol
with GAME_WEBSOCKET=asgi. The session logic (policy, decoding, rate limits, dispatch)
is shared: `game.server.session`. Only the transport differs: frames go straight to
uvicorn's transport when it is known and writable, otherwise through Starlette's
`send_text` / `send_bytes` from a writer task.

Under `game serve`, the HTTP protocol (`game.server.http_protocol`) has counted the
socket against the connection caps since it was accepted; `CountedSansIOProtocol`
(uvicorn's websockets-sansio protocol) takes that slot over, releases it when its
socket is gone, and marks the scope so that the route does not count it again. Under
another ASGI server the route admits and releases the socket itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import structlog
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from game.protocol.codec import Codec
from game.server.connection import Connection, bound_send_buffer, unframe
from game.server.session import (
    ENDPOINT_KEY,
    Endpoint,
    Gate,
    Session,
    Slot,
    TokenBucket,
    choose_codec,
    origin_allowed,
)

__all__ = ["AsgiConnection", "CountedSansIOProtocol", "Gate", "TokenBucket", "choose_codec",
           "origin_allowed", "serve_socket"]

COUNTED = "game.counted"
"""Scope extension carrying the socket's `Slot` when it is counted from its accept."""

log = structlog.get_logger("game.ws")

try:
    from websockets.protocol import State as _State

    _OPEN: Any = _State.OPEN
except ImportError:  # pragma: no cover - another websockets layout: use the writer only
    _OPEN = None


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


class CountedSansIOProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, holding the slot of the connection caps that
    the HTTP protocol admitted its socket with, until the socket is gone."""

    _slot: Slot | None = None

    def adopt_slot(self, slot: Slot) -> None:
        self._slot = slot

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self._slot is not None and self.response.status_code == 101:
            self.scope["extensions"][COUNTED] = {"slot": self._slot}

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            super().connection_lost(exc)
        finally:
            endpoint: Endpoint | None = self.app_state.get(ENDPOINT_KEY)
            if self._slot is not None and endpoint is not None:
                endpoint.gate.free(self._slot)


async def serve_socket(websocket: WebSocket, endpoint: Endpoint) -> None:
    slot = (websocket.scope.get("extensions") or {}).get(COUNTED, {}).get("slot")
    # the slot's address is the client a trusted proxy named, the peer's otherwise
    address = slot.address if slot is not None else (
        websocket.client.host if websocket.client else "unknown")
    refusal = endpoint.refuse(websocket.headers.get("origin"), websocket.headers.get("host"),
                              address, slot=slot)
    if refusal is not None:
        await websocket.close(refusal)  # before accept: HTTP 403
        return
    conn: AsgiConnection | None = None
    try:
        codec, subprotocol = choose_codec(list(websocket.scope.get("subprotocols", [])))
        await websocket.accept(subprotocol=subprotocol)
        conn = AsgiConnection(websocket, codec, address, endpoint)
        await _serve(conn, Session(conn, endpoint))
    finally:
        if conn is not None:
            endpoint.gate.untrack(conn)
        if slot is None:  # a slot is freed by the protocol, when the socket is gone
            endpoint.gate.release(address)


async def _serve(conn: AsgiConnection, session: Session) -> None:
    loop = conn.loop
    writer = loop.create_task(conn.run_writer())
    reader = loop.create_task(_read_loop(conn, session))

    def wake_reader() -> None:
        # The server decided to close (flood, slow reader, hello timeout, takeover):
        # stop waiting for a frame the peer may never send, and clean up now. Only
        # while the loop waits for a frame, never in the middle of a command.
        if conn.idle and not reader.done():
            reader.cancel()

    conn.on_close = wake_reader
    try:
        await reader
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the endpoint itself is cancelled (server shutdown)
    finally:
        if not reader.done():
            reader.cancel()
        await session.end()
        await conn.finish(writer)


async def _read_loop(conn: AsgiConnection, session: Session) -> None:
    websocket = conn.websocket
    while not conn.closing:
        conn.idle = True
        try:
            message = await websocket.receive()
        finally:
            conn.idle = False
        if message["type"] == "websocket.disconnect":
            return
        text: str | None = message.get("text")
        await session.handle(text if text is not None else message.get("bytes") or b"")
        # Frames that arrived together are all queued already: without this, a peer
        # pipelining thousands of cheap messages would hold the loop for all of them.
        await asyncio.sleep(0)


def find_server_protocol(send: Any, limit: int = 8) -> Any:
    """The ASGI server's per-socket protocol object behind an ASGI `send` callable.

    Starlette hands the endpoint a `send` wrapped in closures; the server's own `send`
    is a bound method of the protocol that owns the transport. Following at most
    `limit` wrappers finds it; None when the server is not one we know (then the
    abort and liveness checks below are no-ops, and ASGI's close is all we have).
    """
    seen: set[int] = set()
    todo = [send]
    while todo and len(seen) < limit:
        func = todo.pop()
        if id(func) in seen:
            continue
        seen.add(id(func))
        owner = getattr(func, "__self__", None)
        if owner is not None and getattr(owner, "transport", None) is not None:
            return owner
        for cell in getattr(func, "__closure__", None) or ():
            with contextlib.suppress(ValueError):
                value = cell.cell_contents
                if callable(value):
                    todo.append(value)
    return None


class AsgiConnection(Connection):
    """Frames go straight to uvicorn's transport (coalesced, built once per codec) when
    nothing waits before them and uvicorn's protocol is open and writable; otherwise
    the writer task sends them one by one through ASGI, which keeps the order."""

    def __init__(self, websocket: WebSocket, codec: Codec, address: str,
                 endpoint: Endpoint) -> None:
        settings = endpoint.settings
        super().__init__(codec, address, settings.send_queue_limit, settings.close_timeout)
        self.websocket = websocket
        self.idle = False
        """True while the read loop only waits for the next frame."""
        self._wakeup = asyncio.Event()
        self._done = asyncio.Event()
        self._protocol = find_server_protocol(getattr(websocket, "_send", None))
        self._direct = _OPEN is not None and hasattr(getattr(self._protocol, "conn", None),
                                                     "state")
        self._writing = False
        self._force_timer: asyncio.TimerHandle | None = None
        if settings.send_buffer_bytes is not None:
            bound_send_buffer(self._transport, settings.send_buffer_bytes)

    # ---- writing -----------------------------------------------------------------------

    def _write(self, pending: list[bytes]) -> None:
        transport = None if self._writing else self._writable_transport()
        if transport is None:
            self._wakeup.set()  # the writer takes them, in order
            return
        transport.write(pending[0] if len(pending) == 1 else b"".join(pending))
        pending.clear()

    def _stalled(self) -> bool:
        return self._writing or self._writable_transport() is None

    def _writable_transport(self) -> Any:
        """uvicorn's transport when a frame written to it now is in order and welcome."""
        protocol = self._protocol
        if protocol is None or not self._direct:
            return None
        transport = protocol.transport
        writable = getattr(protocol, "writable", None)
        if (
            getattr(protocol, "close_sent", True)
            or getattr(protocol, "disconnected", True)
            or transport is None
            or transport.is_closing()
            or writable is None
            or not writable.is_set()
            or protocol.conn.state is not _OPEN
        ):
            return None
        return transport

    def _start_close(self) -> None:
        self._wakeup.set()
        self._force_timer = self.loop.call_later(2 * self.close_timeout, self._force_close)

    def _force_close(self) -> None:
        if not self._done.is_set():
            self.abort()

    async def run_writer(self) -> None:
        ws = self.websocket
        pending = self._pending
        try:
            while True:
                while pending:
                    opcode, payload = unframe(pending.pop(0))
                    self._writing = True
                    if opcode == 0x1:
                        await ws.send_text(payload.decode("utf-8"))
                    else:
                        await ws.send_bytes(payload)
                    self._writing = False
                if self.close_code is not None:
                    break
                self._wakeup.clear()
                await self._wakeup.wait()
            await self._send_close()
        except Exception:  # the peer went away mid-send: nothing more to write
            pass
        finally:
            pending.clear()
            self._done.set()
            if self._force_timer is not None:
                # a pending timer would keep this connection (and its socket's buffers)
                # alive for seconds after it closed: under churn that adds up
                self._force_timer.cancel()
                self._force_timer = None

    async def _send_close(self) -> None:
        assert self.close_code is not None
        if self.gone:
            return
        try:
            await asyncio.wait_for(
                self.websocket.close(self.close_code, self.close_reason), self.close_timeout
            )
        except TimeoutError:  # the peer does not read: it will never see the close frame
            self.abort()
        except (RuntimeError, OSError):  # the server already closed (e.g. the peer did first)
            pass

    # ---- the transport underneath ----------------------------------------------------

    @property
    def _transport(self) -> asyncio.Transport | None:
        transport: asyncio.Transport | None = getattr(self._protocol, "transport", None)
        return transport

    @property
    def gone(self) -> bool:
        """True once the server's protocol has lost its transport (or cannot tell)."""
        if self._protocol is None:
            return True
        return bool(getattr(self._protocol, "disconnected", True))

    def transport_stuck(self, now: float) -> bool:
        transport = self._transport
        closing = transport is not None and not self.gone and transport.is_closing()
        return self._track_stuck(closing, now)

    def abort(self) -> None:
        transport = self._transport
        if transport is not None and not self.gone:
            log.info("transport_aborted", player=self.player, address=self.address,
                     code=self.close_code)
            with contextlib.suppress(Exception):
                transport.abort()

    async def finish(self, writer: asyncio.Task[None]) -> None:
        """After the read loop ended: let the writer flush and close, then make sure the
        transport is really gone, aborting it when the peer takes over `close_timeout`."""
        self.close(1000)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(writer), self.close_timeout)
        if not writer.done():
            self.abort()
        deadline = self.loop.time() + self.close_timeout
        delay = 0.005
        while not self.gone and self.loop.time() < deadline:
            await asyncio.sleep(delay)  # no event marks a transport's end: poll briefly
            delay = min(delay * 2, 0.1)
        if not self.gone:
            self.abort()
        if not writer.done():
            writer.cancel()
            with contextlib.suppress(BaseException):
                await writer
