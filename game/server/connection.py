"""One client's socket: the codec it chose, and a bounded send queue drained by a writer.

Whatever is broadcast is encoded once per codec (`Outgoing` caches its frames), and
each connection only queues references. A reader that falls behind by more than
the queue limit is closed with 1013 instead of slowing anyone else down.

A peer that will not read cannot receive a close frame either: whenever closing
takes longer than `close_timeout`, the transport is aborted, so no socket, buffer or
task outlives its peer's usefulness (see `finish`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from starlette.websockets import WebSocket

from game.protocol.codec import Codec, encode_json, encode_msgpack
from game.protocol.errors import CloseCode

log = structlog.get_logger("game.connection")

try:
    from websockets.protocol import State as _State

    _OPEN: Any = _State.OPEN
except ImportError:  # pragma: no cover - another websockets layout: queue everything
    _OPEN = None


class Outgoing:
    """A server message, encoded at most once per codec and shared by every receiver.

    `wire(codec)` is the whole WebSocket frame: server frames are never masked, so one
    frame's bytes serve every connection that chose the same codec.
    """

    __slots__ = ("_json", "_msgpack", "_wire", "message")

    def __init__(self, message: dict[str, Any]) -> None:
        if _validator is not None:
            _check_outgoing(message)
        self.message = message
        self._json: str | None = None
        self._msgpack: bytes | None = None
        self._wire: dict[Codec, bytes] = {}

    def frame(self, codec: Codec) -> str | bytes:
        if codec is Codec.JSON:
            if self._json is None:
                self._json = encode_json(self.message)
            return self._json
        if self._msgpack is None:
            self._msgpack = encode_msgpack(self.message)
        return self._msgpack

    def wire(self, codec: Codec) -> bytes:
        cached = self._wire.get(codec)
        if cached is None:
            payload = self.frame(codec)
            if isinstance(payload, str):
                cached = _frame(0x81, payload.encode("utf-8"))
            else:
                cached = _frame(0x82, payload)
            self._wire[codec] = cached
        return cached


_validator: Any = None


def enable_outgoing_validation() -> None:
    """Check every message against the published JSON Schema before it is sent, and
    log `invalid_outgoing_message` for any that does not fit (tests turn this on with
    GAME_VALIDATE_OUTGOING, so the whole suite proves the schema; it costs time, so
    production leaves it off, and jsonschema is only needed then)."""
    global _validator
    import jsonschema

    from game.protocol.schema import protocol_schema

    _validator = jsonschema.Draft202012Validator(protocol_schema()["server"])


def _check_outgoing(message: dict[str, Any]) -> None:
    error = next(iter(_validator.iter_errors(message)), None)
    if error is not None:
        log.error("invalid_outgoing_message", type=message.get("type"),
                  error=str(error.message)[:300])


def _frame(first: int, payload: bytes) -> bytes:
    """An unmasked, unfragmented WebSocket frame (RFC 6455, section 5.2)."""
    size = len(payload)
    if size < 126:
        header = bytes((first, size))
    elif size < 1 << 16:
        header = bytes((first, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((first, 127)) + size.to_bytes(8, "big")
    return header + payload


class _Transport(Protocol):
    def abort(self) -> None: ...
    def is_closing(self) -> bool: ...
    def get_write_buffer_size(self) -> int: ...
    def get_extra_info(self, name: str) -> Any: ...
    def set_write_buffer_limits(self, high: int | None = None) -> None: ...


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


class Connection:
    CLOSE_TIMEOUT = 5.0

    def __init__(
        self,
        websocket: WebSocket,
        codec: Codec,
        address: str,
        limit: int,
        close_timeout: float = CLOSE_TIMEOUT,
        send_buffer: int | None = None,
    ) -> None:
        self.websocket = websocket
        self.codec = codec
        self.address = address
        self.player: str | None = None
        self.name: str | None = None
        self.watching: set[str] = set()
        self.close_code: int | None = None
        self.close_timeout = close_timeout
        self.on_close: Callable[[], None] | None = None
        """Called once when the server decides to close (e.g. to wake the read loop)."""
        self.idle = False
        """True while the read loop only waits for the next frame."""
        self.stuck_since: float | None = None
        """Loop time since which the transport has been closing without going away."""
        self._limit = limit
        self._queue: deque[Outgoing] = deque()
        self._wakeup = asyncio.Event()
        self._done = asyncio.Event()
        self._close_reason = ""
        self._protocol = find_server_protocol(getattr(websocket, "_send", None))
        self._direct = _OPEN is not None and hasattr(getattr(self._protocol, "conn", None),
                                                     "state")
        self._writing = False
        self._force_timer: asyncio.TimerHandle | None = None
        if send_buffer is not None:
            self._bound_send_buffer(send_buffer)

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    @property
    def queued(self) -> int:
        return len(self._queue)

    def send(self, message: Outgoing | dict[str, Any]) -> None:
        """Queue a message; never blocks. Overflow closes the connection with 1013."""
        if self.close_code is not None:
            return
        if len(self._queue) >= self._limit:
            log.warning("send_queue_full", player=self.player, address=self.address,
                        limit=self._limit)
            self._queue.clear()
            self.close(CloseCode.TRY_AGAIN_LATER, "too slow to read")
            return
        outgoing = message if isinstance(message, Outgoing) else Outgoing(message)
        if not self._queue and not self._writing and self._write_now(outgoing):
            return
        self._queue.append(outgoing)
        self._wakeup.set()

    def _write_now(self, outgoing: Outgoing) -> bool:
        """Hand the frame straight to the transport when nothing is queued before it and
        the socket takes data: no task switch, no per-receiver framing. Anything else
        (a peer that stopped reading, a closing socket, an unknown server) goes through
        the queue and its writer, which keep the 1013 policy."""
        protocol = self._protocol
        if protocol is None or not self._direct:
            return False
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
            return False
        transport.write(outgoing.wire(self.codec))
        return True

    def close(self, code: int, reason: str = "") -> None:
        """Close after what is queued has been sent (unless the queue overflowed)."""
        if self.close_code is None:
            self.close_code = code
            self._close_reason = reason
            self._wakeup.set()
            self._force_timer = asyncio.get_running_loop().call_later(
                2 * self.close_timeout, self._force_close
            )
            if self.on_close is not None:
                self.on_close()

    def _force_close(self) -> None:
        if not self._done.is_set():
            self.abort()

    async def wait_closed(self) -> None:
        await self._done.wait()

    async def run_writer(self) -> None:
        ws = self.websocket
        try:
            while True:
                while self._queue:
                    frame = self._queue.popleft().frame(self.codec)
                    self._writing = True
                    if isinstance(frame, str):
                        await ws.send_text(frame)
                    else:
                        await ws.send_bytes(frame)
                    self._writing = False
                if self.close_code is not None:
                    break
                self._wakeup.clear()
                await self._wakeup.wait()
            await self._send_close()
        except Exception:  # the peer went away mid-send: nothing more to write
            pass
        finally:
            self._queue.clear()
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
                self.websocket.close(self.close_code, self._close_reason), self.close_timeout
            )
        except TimeoutError:  # the peer does not read: it will never see the close frame
            self.abort()
        except (RuntimeError, OSError):  # the server already closed (e.g. the peer did first)
            pass

    # ---- the transport underneath ----------------------------------------------------

    @property
    def _transport(self) -> _Transport | None:
        transport: _Transport | None = getattr(self._protocol, "transport", None)
        return transport

    @property
    def gone(self) -> bool:
        """True once the server's protocol has lost its transport (or cannot tell)."""
        if self._protocol is None:
            return True
        return bool(getattr(self._protocol, "disconnected", True))

    def transport_stuck(self, now: float) -> bool:
        """The transport is closing but cannot flush (the peer does not read), for longer
        than `close_timeout`: `now` is the loop time. Tracks `stuck_since`."""
        transport = self._transport
        if transport is None or self.gone or not transport.is_closing():
            self.stuck_since = None
            return False
        if self.stuck_since is None:
            self.stuck_since = now
        return now - self.stuck_since >= self.close_timeout

    def _bound_send_buffer(self, size: int) -> None:
        """Keep at most about `size` bytes in the kernel and `size` in the transport for
        a peer that does not read; past that the writer waits and the queue fills."""
        transport = self._transport
        if transport is None:
            return
        with contextlib.suppress(Exception):
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        with contextlib.suppress(Exception):
            transport.set_write_buffer_limits(high=size)

    def abort(self) -> None:
        """Drop the transport of a peer that will not read our close frame."""
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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.close_timeout
        delay = 0.005
        while not self.gone and loop.time() < deadline:
            await asyncio.sleep(delay)  # no event marks a transport's end: poll briefly
            delay = min(delay * 2, 0.1)
        if not self.gone:
            self.abort()
        if not writer.done():
            writer.cancel()
            with contextlib.suppress(BaseException):
                await writer
