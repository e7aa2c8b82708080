"""One client's socket: the codec it chose, and a bounded send queue drained by a writer.

Whatever is broadcast is encoded once per codec (`Outgoing` caches its frames), and
each connection only queues references. A reader that falls behind by more than
the queue limit is closed with 1013 instead of slowing anyone else down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

import structlog
from starlette.websockets import WebSocket

from game.protocol.codec import Codec, encode_json, encode_msgpack
from game.protocol.errors import CloseCode

log = structlog.get_logger("game.connection")


class Outgoing:
    """A server message, encoded at most once per codec and shared by every receiver."""

    __slots__ = ("_json", "_msgpack", "message")

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message
        self._json: str | None = None
        self._msgpack: bytes | None = None

    def frame(self, codec: Codec) -> str | bytes:
        if codec is Codec.JSON:
            if self._json is None:
                self._json = encode_json(self.message)
            return self._json
        if self._msgpack is None:
            self._msgpack = encode_msgpack(self.message)
        return self._msgpack


class Connection:
    CLOSE_TIMEOUT = 5.0

    def __init__(self, websocket: WebSocket, codec: Codec, address: str, limit: int) -> None:
        self.websocket = websocket
        self.codec = codec
        self.address = address
        self.player: str | None = None
        self.name: str | None = None
        self.watching: set[str] = set()
        self.close_code: int | None = None
        self._limit = limit
        self._queue: deque[Outgoing] = deque()
        self._wakeup = asyncio.Event()
        self._done = asyncio.Event()
        self._close_reason = ""

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def send(self, message: Outgoing | dict[str, Any]) -> None:
        """Queue a message; never blocks. Overflow closes the connection with 1013."""
        if self.close_code is not None:
            return
        if len(self._queue) >= self._limit:
            log.warning("send_queue_full", player=self.player, limit=self._limit)
            self._queue.clear()
            self.close(CloseCode.TRY_AGAIN_LATER, "too slow to read")
            return
        self._queue.append(message if isinstance(message, Outgoing) else Outgoing(message))
        self._wakeup.set()

    def close(self, code: int, reason: str = "") -> None:
        """Close after what is queued has been sent (unless the queue overflowed)."""
        if self.close_code is None:
            self.close_code = code
            self._close_reason = reason
            self._wakeup.set()
            asyncio.get_running_loop().call_later(2 * self.CLOSE_TIMEOUT, self._force_close)

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
                    if isinstance(frame, str):
                        await ws.send_text(frame)
                    else:
                        await ws.send_bytes(frame)
                if self.close_code is not None:
                    break
                self._wakeup.clear()
                await self._wakeup.wait()
            await self._send_close()
        except Exception:  # the peer went away mid-send: nothing more to write
            pass
        finally:
            self._done.set()

    async def _send_close(self) -> None:
        assert self.close_code is not None
        try:
            await asyncio.wait_for(
                self.websocket.close(self.close_code, self._close_reason), self.CLOSE_TIMEOUT
            )
        except (TimeoutError, RuntimeError, OSError):
            self.abort()

    def abort(self) -> None:
        """Drop the transport of a peer that will not read our close frame."""
        protocol = getattr(self.websocket._send, "__self__", None)
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            with contextlib.suppress(Exception):
                transport.abort()
