"""The sending side of a native WebSocket connection: coalesced frames straight to the
transport, the closing handshake, keepalive pings.

Frames wait in `_pending` only while the transport's buffer is above its high-water
mark (`pause_writing`), which is where the 1013 limit applies. Closing queues the
close frame behind what is pending; the connection then waits for the peer's close
frame (or hangs up at once after a protocol error), and a peer that has not finished
the handshake within `close_timeout` is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

import structlog

from game.protocol.codec import Codec
from game.server.connection import Connection, bound_send_buffer, frame_bytes
from game.server.settings import Settings

log = structlog.get_logger("game.ws")

OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
KEEPALIVE_TIMEOUT = 1011


class NativeConnection(Connection):
    def __init__(self, transport: asyncio.Transport, codec: Codec, address: str,
                 settings: Settings) -> None:
        super().__init__(codec, address, settings.send_queue_limit, settings.close_timeout)
        self.transport = transport
        self.gone = False
        self._paused = False
        self._close_sent = False
        self._hang_up = False
        """End the TCP connection as soon as our close frame is written."""
        self._linger = False
        """...by sending FIN only: what the peer still sends is discarded unread until it
        closes or the close deadline passes. Closing a socket with unread data would
        reset it, and the reset can destroy our close frame before the peer reads it."""
        self._echo: bytes | None = None
        self._timer: asyncio.TimerHandle | None = None
        """The keepalive timer while open, the close deadline once closing."""
        self._ping: bytes | None = None
        self._ping_interval = settings.ping_interval
        self._ping_timeout = settings.ping_timeout
        if settings.send_buffer_bytes is not None:
            bound_send_buffer(transport, settings.send_buffer_bytes)

    # ---- writing -----------------------------------------------------------------------

    def _write(self, pending: list[bytes]) -> None:
        if self.gone or self.transport.is_closing():
            pending.clear()  # hung up already: nothing more reaches the peer
            return
        if self._paused:
            return  # resume_writing flushes them
        self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))
        pending.clear()
        if self.close_code is not None:
            self._close_sent = True  # the close frame is always the last one queued
            if self._hang_up:
                self._hang_up_now()

    def _stalled(self) -> bool:
        return self._paused

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self.flush()

    def control(self, opcode: int, payload: bytes) -> None:
        """A ping or pong, in order with the data frames (never once closing). It counts
        against the send queue like any frame: a peer that pings but never reads would
        otherwise make us hold a pong for each of its pings."""
        if self.close_code is not None:
            return
        if len(self._pending) >= self._limit and self._stalled():
            self._overflow()
            return
        self._push(frame_bytes(0x80 | opcode, payload))

    # ---- closing -----------------------------------------------------------------------

    def _start_close(self) -> None:
        assert self.close_code is not None
        if self.gone:
            return  # nothing to say to a socket that is gone, and no deadline to keep
        if self._echo is not None:
            payload = self._echo
        else:
            reason = self.close_reason.encode("utf-8")[:123]
            payload = self.close_code.to_bytes(2, "big") + reason
        self._push(frame_bytes(0x80 | OP_CLOSE, payload))
        self._set_timer(self.close_timeout, self._close_deadline)

    def peer_closed(self, payload: bytes) -> None:
        """The peer's close frame (already validated): answer it, or it answers ours."""
        self._hang_up = True
        if self.close_code is None:
            self.closed_by_peer = True
            self._echo = payload[:2]
            code = int.from_bytes(payload[:2], "big") if payload else 1005
            self.close(code, "closed by the peer")
        elif self._close_sent:
            self.transport.close()

    def fail(self, code: int, reason: str) -> None:
        """A protocol error: send the close frame, then hang up without waiting."""
        log.info("websocket_failed", code=code, reason=reason, player=self.player,
                 address=self.address)
        self._hang_up = self._linger = True
        if self.close_code is None:
            self.close(code, reason)
        elif self._close_sent:
            self._hang_up_now()

    def _hang_up_now(self) -> None:
        if self._linger and self.transport.can_write_eof():
            self.transport.write_eof()  # the close deadline still ends it
        else:
            self.transport.close()

    def _close_deadline(self) -> None:
        self._timer = None
        if self.gone:
            return
        if not self._pending and not self.transport.get_write_buffer_size():
            self.transport.close()  # all was sent; the peer never answered our close
        else:
            self.abort()  # the peer does not read: it will never see the close frame

    def lost(self) -> None:
        """The transport is gone (connection_lost)."""
        self.gone = True
        self._pending.clear()
        self._set_timer(None)

    def transport_stuck(self, now: float) -> bool:
        return self._track_stuck(not self.gone and self.transport.is_closing(), now)

    def abort(self) -> None:
        if not self.gone:
            log.info("transport_aborted", player=self.player, address=self.address,
                     code=self.close_code)
            with contextlib.suppress(Exception):
                self.transport.abort()

    # ---- keepalive ---------------------------------------------------------------------

    def start_keepalive(self) -> None:
        self._set_timer(self._ping_interval, self._send_ping)

    def _send_ping(self) -> None:
        self._timer = None
        if self.close_code is not None or self.gone:
            return
        self._ping = os.urandom(4)
        self.control(OP_PING, self._ping)
        self._set_timer(self._ping_timeout, self._ping_timed_out)

    def pong(self, payload: bytes) -> None:
        if self._ping is not None and payload == self._ping and self.close_code is None:
            self._ping = None
            self.start_keepalive()

    def _ping_timed_out(self) -> None:
        self._timer = None
        self.fail(KEEPALIVE_TIMEOUT, "keepalive ping timeout")

    def _set_timer(
        self, delay: float | None, callback: Callable[[], None] | None = None
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if delay is not None and callback is not None:
            self._timer = self.loop.call_later(delay, callback)
