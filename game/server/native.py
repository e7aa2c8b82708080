"""The native WebSocket endpoint: our own RFC 6455 protocol, below ASGI, inside uvicorn.

uvicorn (`Config(ws=WebSocketProtocol)`) hands every HTTP upgrade request to this
protocol: it parses the request (`handshake`), applies the session's admission policy,
answers 101 (or the HTTP error), and from then on parses frames itself and feeds
whole messages to the shared `Session` through an `Inbox`. Nothing of ASGI, Starlette
or the `websockets` library is on the path of a frame: one `data_received` parses
every frame it holds (unmasking with websockets' C `apply_mask`), and outgoing frames
are written by `NativeConnection`, coalesced once per loop iteration.

What the peer gets for breaking RFC 6455: 1002 for an unmasked frame, RSV bits, an
unknown opcode, a bad fragment sequence, a bad control frame or close code; 1007 for
text that is not UTF-8; 1009 for a frame or message over `max_frame_bytes`, decided
on the frame header before its payload is buffered; 1008 for a message in more than
`max_frames_per_message` frames (its size may be tiny: it is the count of pieces, a
policy, that is exceeded, so 1009 would tell the peer the wrong thing to fix).

Every frame costs the peer a token of the session's rate limit, not only whole
messages: a ping, a pong and each fragment but the last (the last is charged as the
message). A ping refused by the limit gets no pong; past the hard limit the session
closes with 1008, as for a message flood. Pongs we owe count against the send queue
(`NativeConnection.control`), so a peer that pings but does not read gets 1013.

When uvicorn's HTTP protocol (`game.server.http_protocol`) has counted the socket
against the connection caps since its accept, it hands its slot over (`adopt_slot`):
the handshake converts that slot instead of counting the socket a second time.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import structlog

try:
    from websockets.speedups import apply_mask  # C: ~0.1 us for a small frame
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

from game.server.handshake import MAX_HEAD, Refused, accept_response, http_response, read_request
from game.server.inbox import Inbox
from game.server.native_conn import OP_CLOSE, OP_PING, OP_PONG, NativeConnection
from game.server.session import ENDPOINT_KEY, Endpoint, Session, Slot, choose_codec

log = structlog.get_logger("game.ws")

_HANDSHAKE, _OPEN, _DONE = 0, 1, 2
PROTOCOL_ERROR, INVALID_DATA, POLICY, TOO_BIG = 1002, 1007, 1008, 1009


def valid_close_code(code: int) -> bool:
    """Codes a peer may send (RFC 6455 7.4, IANA registry); 1005/1006/1015 never."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class WebSocketProtocol(asyncio.Protocol):
    """One socket after uvicorn saw an upgrade request; see the module docstring."""

    __slots__ = ("_address", "_admitted", "_buffer", "_conn", "_connections", "_endpoint",
                 "_fragment_count", "_fragment_size", "_fragment_text", "_fragments", "_inbox",
                 "_limit", "_max_fragments", "_reading", "_session", "_slot", "_state",
                 "_transport")

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._endpoint: Endpoint | None = app_state.get(ENDPOINT_KEY)
        self._connections: set[Any] = server_state.connections
        self._transport: asyncio.Transport | None = None
        self._state = _HANDSHAKE
        self._buffer = b""
        self._address = "unknown"
        self._admitted = False
        self._slot: Slot | None = None
        self._conn: NativeConnection | None = None
        self._inbox: Inbox | None = None
        self._session: Session | None = None
        self._fragments: list[bytes] | None = None
        self._fragment_text = False
        self._fragment_size = 0
        self._fragment_count = 0
        settings = self._endpoint.settings if self._endpoint else None
        self._limit = settings.max_frame_bytes if settings else 0
        self._max_fragments = settings.max_frames_per_message if settings else 0
        self._reading = True

    def adopt_slot(self, slot: Slot) -> None:
        """The HTTP protocol counted this socket from its accept: the slot is ours now
        (the handshake converts it, `connection_lost` frees it). Its address is the
        client's, which a trusted proxy's request named in place of the peer's."""
        self._slot = slot
        self._address = slot.address

    # ---- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._connections.add(self)
        peer = transport.get_extra_info("peername")
        if self._slot is None and isinstance(peer, tuple) and peer:
            self._address = str(peer[0])

    def data_received(self, data: bytes) -> None:
        if self._state == _OPEN:
            self._read_frames(data)
        elif self._state == _HANDSHAKE:
            self._handshake(data)

    def eof_received(self) -> bool | None:
        return None  # the peer is done sending: the transport closes itself

    def pause_writing(self) -> None:
        if self._conn is not None:
            self._conn.pause_writing()

    def resume_writing(self) -> None:
        if self._conn is not None:
            self._conn.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._state = _DONE
        self._buffer = b""
        endpoint, conn, inbox = self._endpoint, self._conn, self._inbox
        if conn is not None and inbox is not None and endpoint is not None:
            conn.lost()
            inbox.end()
            endpoint.gate.untrack(conn)
        if self._admitted and endpoint is not None:
            self._admitted = False
            endpoint.gate.release(self._address)
        if self._slot is not None and endpoint is not None:
            endpoint.gate.free(self._slot)

    def shutdown(self) -> None:
        """uvicorn is stopping: 1012 (reconnect and resume) once the queue is sent."""
        if self._conn is not None:
            self._conn.close(1012, "server restarting")
        elif self._transport is not None:
            self._transport.close()

    # ---- the opening handshake -----------------------------------------------------------

    def _handshake(self, data: bytes) -> None:
        self._buffer += data
        head, found, rest = self._buffer.partition(b"\r\n\r\n")
        if not found:
            if len(self._buffer) > MAX_HEAD:
                self._reply(http_response(400, "request head too large"))
            return
        self._buffer = b""
        endpoint = self._endpoint
        if endpoint is None:
            log.error("native_endpoint_unconfigured")  # the app's lifespan did not run
            self._reply(http_response(500, "server not ready"))
            return
        try:
            upgrade = read_request(head)
        except Refused as refused:
            self._reply(refused.response())
            return
        if endpoint.refuse(upgrade.origin, upgrade.host, self._address,
                           slot=self._slot) is not None:
            self._reply(http_response(403, "forbidden"))
            return
        self._admitted = self._slot is None
        self._open(endpoint, upgrade.key, upgrade.subprotocols)
        if rest:
            self._read_frames(rest)

    def _open(self, endpoint: Endpoint, key: bytes, offered: list[str]) -> None:
        transport = self._transport
        assert transport is not None
        codec, subprotocol = choose_codec(offered)
        transport.write(accept_response(key, subprotocol))
        conn = NativeConnection(transport, codec, self._address, endpoint.settings)
        session = Session(conn, endpoint)
        inbox = Inbox(session, self._pause_reading)
        conn.on_close = inbox.end
        conn.start_keepalive()
        self._conn, self._inbox, self._session = conn, inbox, session
        self._state = _OPEN

    def _reply(self, response: bytes) -> None:
        self._state = _DONE
        if self._transport is not None:
            self._transport.write(response)
            self._transport.close()

    # ---- frames --------------------------------------------------------------------------

    def _read_frames(self, data: bytes) -> None:
        """Parse and act on every complete frame in the buffer plus `data`; keep the rest.

        The header is checked as soon as it is complete, so a frame announcing too much
        is refused before its payload is waited for. Parsing stops while the inbox has
        paused reading: what is left stays raw bytes until it resumes.
        """
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        inbox = self._inbox
        assert inbox is not None
        pos, end = 0, len(data)
        while end - pos >= 2 and self._reading:
            first, second = data[pos], data[pos + 1]
            size = second & 0x7F
            start = pos + 6
            if size > 125:
                start += 2 if size == 126 else 8
                if end < start:
                    break
                size = int.from_bytes(data[pos + 2:start - 4], "big")
            error = self._check_header(first, second, size)
            if error:
                self._fail(error, "bad frame header" if error != TOO_BIG else "frame too big")
                return
            if end - start < size:
                break
            payload = apply_mask(data[start:start + size], data[start - 4:start])
            pos = start + size
            if first == 0x81 and self._fragments is None:  # the common case: one text frame
                try:
                    inbox.put(payload.decode("utf-8"))
                except UnicodeDecodeError:
                    self._fail(INVALID_DATA, "text frame is not UTF-8")
                    return
            elif first == 0x82 and self._fragments is None:
                inbox.put(payload)
            elif not self._frame(first, payload):
                return
        if pos < end:
            self._buffer = data[pos:]

    def _check_header(self, first: int, second: int, size: int) -> int:
        """0 if a frame with this header may follow, else the close code refusing it."""
        opcode = first & 0x0F
        if first & 0x70 or not second & 0x80:
            return PROTOCOL_ERROR  # RSV bits without an extension, or an unmasked frame
        if opcode >= 0x8:
            if opcode > OP_PONG or size > 125 or not first & 0x80:
                return PROTOCOL_ERROR
            return 0
        if opcode > 0x2:
            return PROTOCOL_ERROR
        if size > self._limit - self._fragment_size:
            return TOO_BIG
        return 0

    def _frame(self, first: int, payload: bytes) -> bool:
        """Any frame but an unfragmented data frame; False once the connection ends."""
        opcode, fin = first & 0x0F, bool(first & 0x80)
        conn, session = self._conn, self._session
        assert conn is not None and session is not None
        if opcode == OP_PING:
            if session.take_frame():  # refused: no pong, which is what costs us
                conn.control(OP_PONG, payload)
            return self._not_flooded(session)
        if opcode == OP_PONG:
            session.take_frame()
            conn.pong(payload)
            return self._not_flooded(session)
        if opcode == OP_CLOSE:
            return self._close_frame(conn, payload)
        if opcode == 0x0:
            return self._continuation(session, payload, fin)
        if self._fragments is not None:
            return self._fail(PROTOCOL_ERROR, "new message inside a fragmented one")
        if fin:
            return self._message(payload, opcode == 0x1)
        session.take_frame()  # a fragment cannot be dropped: it only costs a token
        self._fragments, self._fragment_text = [payload], opcode == 0x1
        self._fragment_size, self._fragment_count = len(payload), 1
        return self._not_flooded(session)

    def _not_flooded(self, session: Session) -> bool:
        """After a frame flood the session has closed with 1008: stop parsing and hang
        up once the close frame is out, rather than read the flood on for as long as
        the closing handshake may take."""
        if session.flooded:
            return self._fail(POLICY, "too many frames")
        return True

    def _continuation(self, session: Session, payload: bytes, fin: bool) -> bool:
        fragments = self._fragments
        if fragments is None:
            return self._fail(PROTOCOL_ERROR, "continuation without a message")
        self._fragment_count += 1
        if self._fragment_count > self._max_fragments:
            return self._fail(POLICY, "too many fragments in one message")
        fragments.append(payload)
        self._fragment_size += len(payload)
        if not fin:
            session.take_frame()
            return self._not_flooded(session)
        message, text = b"".join(fragments), self._fragment_text
        self._fragments, self._fragment_size, self._fragment_count = None, 0, 0
        return self._message(message, text)

    def _message(self, payload: bytes, text: bool) -> bool:
        assert self._inbox is not None
        if not text:
            self._inbox.put(payload)
            return True
        try:
            self._inbox.put(payload.decode("utf-8"))
        except UnicodeDecodeError:
            return self._fail(INVALID_DATA, "text frame is not UTF-8")
        return True

    def _close_frame(self, conn: NativeConnection, payload: bytes) -> bool:
        if len(payload) == 1:
            return self._fail(PROTOCOL_ERROR, "close frame with a one-byte payload")
        if payload and not valid_close_code(int.from_bytes(payload[:2], "big")):
            return self._fail(PROTOCOL_ERROR, "invalid close code")
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            return self._fail(INVALID_DATA, "close reason is not UTF-8")
        self._state = _DONE
        conn.peer_closed(payload)
        return False

    def _fail(self, code: int, reason: str) -> bool:
        self._state = _DONE
        self._buffer = b""
        if self._conn is not None:
            self._conn.fail(code, reason)
        return False

    def _pause_reading(self, paused: bool) -> None:
        """Back-pressure from the inbox: stop (or go on) reading from the socket."""
        transport = self._transport
        self._reading = not paused
        if transport is None or transport.is_closing():
            return
        if paused:
            transport.pause_reading()
        else:
            transport.resume_reading()
            if self._buffer and self._state == _OPEN:
                self._read_frames(b"")
