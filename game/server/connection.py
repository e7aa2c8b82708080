"""One client's socket as the hub sees it: the codec it chose, and its outgoing frames.

Whatever is broadcast is encoded once per codec (`Outgoing` caches whole WebSocket
frames), and each connection only keeps references to those bytes.

Writes are coalesced: `send` appends the frame to the connection's pending list and
marks the connection dirty; once per event-loop iteration the flusher hands each
dirty connection's frames to its transport in one write (the mover's `ack` and
`patch` become one syscall). Frames wait longer only while the transport does not
take data (the peer stopped reading): a reader that falls `send_queue_limit` frames
behind is closed with 1013 instead of slowing anyone else down.

A peer that will not read cannot receive a close frame either: whenever closing
takes longer than `close_timeout`, the transport is aborted, so no socket, buffer or
task outlives its peer's usefulness. How frames reach the socket is up to the
endpoint: `game.server.native` (our own RFC 6455 protocol under uvicorn) or
`game.server.ws` (the ASGI fallback).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any

import structlog

from game.protocol.codec import Codec, encode_json, encode_json_bytes, encode_msgpack
from game.protocol.errors import CloseCode

log = structlog.get_logger("game.connection")


class Outgoing:
    """A server message, encoded at most once per codec and shared by every receiver.

    `wire(codec)` is the whole WebSocket frame: server frames are never masked, so one
    frame's bytes serve every connection that chose the same codec.
    """

    __slots__ = ("_json", "_msgpack", "_wire_json", "_wire_msgpack", "message")

    def __init__(self, message: dict[str, Any]) -> None:
        if message.get("ref", 0) is None:
            del message["ref"]  # a command sent without `id` is answered without `ref`
        if _validator is not None:
            _check_outgoing(message)
        self.message = message
        self._json: str | None = None
        self._msgpack: bytes | None = None
        self._wire_json: bytes | None = None
        self._wire_msgpack: bytes | None = None

    def frame(self, codec: Codec) -> str | bytes:
        if codec is Codec.JSON:
            if self._json is None:
                self._json = encode_json(self.message)
            return self._json
        if self._msgpack is None:
            self._msgpack = encode_msgpack(self.message)
        return self._msgpack

    def wire(self, codec: Codec) -> bytes:
        if codec is Codec.JSON:
            if self._wire_json is None:
                payload = (encode_json_bytes(self.message) if self._json is None
                           else self._json.encode("utf-8"))
                self._wire_json = frame_bytes(0x81, payload)
            return self._wire_json
        if self._wire_msgpack is None:
            data = self.frame(codec)
            assert isinstance(data, bytes)
            self._wire_msgpack = frame_bytes(0x82, data)
        return self._wire_msgpack


_validator: Any = None


def enable_outgoing_validation() -> None:
    """Check every message against the published JSON Schema before it is sent, and
    log `invalid_outgoing_message` for any that does not fit (tests turn this on with
    GAME_VALIDATE_OUTGOING, so the whole suite proves the schema; it costs time, so
    production leaves it off, and jsonschema is only needed then)."""
    global _validator
    import jsonschema

    from game.protocol.schema import strict_server_schema

    _validator = jsonschema.Draft202012Validator(strict_server_schema())


def _check_outgoing(message: dict[str, Any]) -> None:
    error = next(iter(_validator.iter_errors(message)), None)
    if error is not None:
        log.error("invalid_outgoing_message", type=message.get("type"),
                  error=str(error.message)[:300])


def frame_bytes(first: int, payload: bytes) -> bytes:
    """An unmasked, unfragmented WebSocket frame (RFC 6455, section 5.2); `first` is
    the first byte (FIN and opcode)."""
    size = len(payload)
    if size < 126:
        headers = _SHORT_HEADERS.get(first)  # text and binary; control frames are rare
        return (bytes((first, size)) if headers is None else headers[size]) + payload
    if size < 1 << 16:
        return bytes((first, 126)) + size.to_bytes(2, "big") + payload
    return bytes((first, 127)) + size.to_bytes(8, "big") + payload


_SHORT_HEADERS = {first: [bytes((first, size)) for size in range(126)]
                  for first in (0x81, 0x82)}


def unframe(frame: bytes) -> tuple[int, bytes]:
    """The opcode and payload of a frame built by `frame_bytes`."""
    size = frame[1] & 0x7F
    start = 2 if size < 126 else 4 if size == 126 else 10
    return frame[0] & 0x0F, frame[start:]


def bound_send_buffer(transport: asyncio.BaseTransport | None, size: int) -> None:
    """Keep at most about `size` bytes in the kernel and `size` in the transport for
    a peer that does not read; past that the transport pauses writing and frames wait
    in the connection (where the 1013 limit applies)."""
    if transport is None:
        return
    with contextlib.suppress(Exception):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
    with contextlib.suppress(Exception):
        transport.set_write_buffer_limits(high=size)  # type: ignore[attr-defined]


class _Flusher:
    """Writes every dirty connection's frames once per loop iteration.

    One `call_soon` per iteration however many connections sent something: frames
    produced while handling one batch of socket events leave in one write each.
    Connections are written in the order of their *last* frame, so the sends of one
    step keep their order across sockets: the mover's `ack`, sent after the
    opponent's and the spectators' patches, is written after them.
    """

    def __init__(self) -> None:
        self._dirty: list[Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, conn: Connection) -> None:
        dirty = self._dirty
        if not dirty or self._loop is not conn.loop:
            if dirty:  # a test's loop went away with connections still marked dirty
                dirty.clear()
            self._loop = conn.loop
            conn.loop.call_soon(self._run)
        conn._flush_at = len(dirty)
        dirty.append(conn)

    def _run(self) -> None:
        dirty, self._dirty = self._dirty, []
        for index, conn in enumerate(dirty):
            if conn._flush_at == index:
                conn.flush()


_flusher = _Flusher()


class Connection:
    """What the hub and the handlers use: identity, `send`, `close`.

    Subclasses put frames on the wire (`_write`), say whether the transport is
    currently refusing data (`_stalled`), and start the closing handshake
    (`_start_close`).
    """

    CLOSE_TIMEOUT = 5.0

    def __init__(
        self, codec: Codec, address: str, limit: int, close_timeout: float = CLOSE_TIMEOUT
    ) -> None:
        self.codec = codec
        self.address = address
        self.player: str | None = None
        self.name: str | None = None
        self.bot = False
        """The player's `hello` said `bot: true`: its seats are shown as a program's."""
        self.watching: set[str] = set()
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed_by_peer = False
        """The peer started the closing handshake: what it sent before still counts."""
        self.close_timeout = close_timeout
        self.on_close: Callable[[], None] | None = None
        """Called once when the server decides to close (e.g. to end the session)."""
        self.stuck_since: float | None = None
        """Loop time since which the transport has been closing without going away."""
        self.loop = asyncio.get_running_loop()
        self._limit = limit
        self._pending: list[bytes] = []
        self._flush_at = -1
        """This connection's last place in the flusher's list (-1: not in it)."""

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    @property
    def reading(self) -> bool:
        """Messages from the peer are still handled: not once the server decided to close
        (flood, takeover, hello timeout...), but the peer's own close does not undo what
        it sent before it."""
        return self.close_code is None or self.closed_by_peer

    @property
    def queued(self) -> int:
        """Frames not yet handed to the transport."""
        return len(self._pending)

    def send(self, message: Outgoing | dict[str, Any]) -> None:
        """Queue a message; never blocks. Overflow closes the connection with 1013."""
        if self.close_code is not None:
            return
        if len(self._pending) >= self._limit and self._stalled():
            self._overflow()
            return
        outgoing = message if isinstance(message, Outgoing) else Outgoing(message)
        self._push(outgoing.wire(self.codec))

    def _push(self, frame: bytes) -> None:
        self._pending.append(frame)
        _flusher.add(self)

    def _overflow(self) -> None:
        log.warning("send_queue_full", player=self.player, address=self.address,
                    limit=self._limit)
        self._pending.clear()
        self.close(CloseCode.TRY_AGAIN_LATER, "too slow to read")

    def flush(self) -> None:
        """Hand the pending frames to the transport (the flusher calls this)."""
        self._flush_at = -1
        if self._pending:
            self._write(self._pending)

    def close(self, code: int, reason: str = "") -> None:
        """Close after what is pending has been sent (unless the queue overflowed)."""
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
            self._start_close()
            if self.on_close is not None:
                self.on_close()

    # ---- for subclasses ---------------------------------------------------------------

    def _write(self, pending: list[bytes]) -> None:
        """Take the frames out of `pending` (in order) towards the socket."""
        raise NotImplementedError

    def _stalled(self) -> bool:
        """True while the transport takes no data, so pending frames are a backlog."""
        raise NotImplementedError

    def _start_close(self) -> None:
        raise NotImplementedError

    def transport_stuck(self, now: float) -> bool:
        """The transport is closing but cannot flush (the peer does not read) for longer
        than `close_timeout`: the Gate's reaper aborts it then."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop the transport of a peer that will not read our close frame."""
        raise NotImplementedError

    def _track_stuck(self, closing: bool, now: float) -> bool:
        if not closing:
            self.stuck_since = None
            return False
        if self.stuck_since is None:
            self.stuck_since = now
        return now - self.stuck_since >= self.close_timeout
