"""Outgoing frames: built once per codec, framed as RFC 6455 says, checked in tests;
coalesced once per loop iteration, in order, with the slow-reader policy."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgpack
import orjson
import pytest
from structlog.testing import capture_logs

from game.protocol.codec import Codec
from game.server import connection
from game.server.connection import Outgoing, enable_outgoing_validation, unframe
from game.server.native_conn import NativeConnection
from game.server.settings import Settings


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_wire_frames_follow_rfc6455(size: int) -> None:
    out = Outgoing({"type": "pong", "ref": "x" * size, "at": 1})
    payload = orjson.dumps(out.message)
    frame = out.wire(Codec.JSON)
    assert frame[0] == 0x81  # FIN + text
    length = frame[1]
    assert length & 0x80 == 0  # server frames are never masked
    if length < 126:
        header = 2
        assert length == len(payload)
    elif length == 126:
        header = 4
        assert int.from_bytes(frame[2:4], "big") == len(payload)
    else:
        header = 10
        assert int.from_bytes(frame[2:10], "big") == len(payload)
    assert frame[header:] == payload
    assert out.wire(Codec.JSON) is frame  # built once, shared by every receiver
    binary = out.wire(Codec.MSGPACK)
    assert binary[0] == 0x82 and msgpack.unpackb(binary[-len(out.frame(Codec.MSGPACK)):]) \
        == out.message


def test_outgoing_validation_reports_messages_outside_the_schema() -> None:
    enable_outgoing_validation()
    try:
        with capture_logs() as logs:
            Outgoing({"type": "ack", "ref": 1, "match": "m", "version": 3})
            Outgoing({"type": "ack", "ref": 1, "match": "m"})  # no version
            Outgoing({"type": "snapshot", "match": "m"})
        bad = [entry for entry in logs if entry["event"] == "invalid_outgoing_message"]
        assert [entry["type"] for entry in bad] == ["ack", "snapshot"]
    finally:
        connection._validator = None


# ---- coalescing, order and the slow-reader policy (NativeConnection, a recording transport)


class RecordingTransport:
    """Just enough of an asyncio transport to see what a connection writes, and when."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.aborted = self.closing = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> None:
        return None

    def set_write_buffer_limits(self, high: int | None = None) -> None:
        pass


def native(limit: int = 4) -> tuple[NativeConnection, RecordingTransport]:
    transport = RecordingTransport()
    settings = Settings(send_queue_limit=limit, close_timeout=0.05)
    conn = NativeConnection(transport, Codec.JSON, "127.0.0.1", settings)  # type: ignore[arg-type]
    return conn, transport


async def next_iteration() -> None:
    """Let the flusher (scheduled with call_soon) run."""
    future = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(future.set_result, None)
    await future
    await asyncio.sleep(0)


def frames_in(data: bytes) -> list[dict[str, Any]]:
    out = []
    while data:
        _opcode, payload = unframe(data)
        size = data[1] if data[1] < 126 else int.from_bytes(data[2:4], "big")
        out.append(json.loads(payload[:size]))
        data = payload[size:]
    return out


async def test_frames_of_one_iteration_leave_in_one_write() -> None:
    conn, transport = native()
    for index in range(3):
        conn.send({"type": "pong", "ref": index, "at": 1})
    assert transport.writes == []  # nothing before the end of the iteration
    await next_iteration()
    assert len(transport.writes) == 1
    assert [m["ref"] for m in frames_in(transport.writes[0])] == [0, 1, 2]


async def test_sockets_are_written_in_the_order_of_their_last_frame() -> None:
    (mover, first), (opponent, second) = native(), native()
    order: list[str] = []
    first.write = lambda data: order.append("mover")  # type: ignore[method-assign]
    second.write = lambda data: order.append("opponent")  # type: ignore[method-assign]
    mover.send({"type": "pong", "ref": "patch", "at": 1})
    opponent.send({"type": "pong", "ref": "patch", "at": 1})
    mover.send({"type": "pong", "ref": "ack", "at": 1})  # the ack comes last
    await next_iteration()
    assert order == ["opponent", "mover"]


async def test_a_reader_that_stalls_is_closed_1013_and_only_then() -> None:
    conn, transport = native(limit=4)
    for index in range(10):  # a burst to a writable socket is not a backlog
        conn.send({"type": "pong", "ref": index, "at": 1})
    await next_iteration()
    assert conn.close_code is None and len(frames_in(transport.writes[0])) == 10
    conn.pause_writing()
    for index in range(4):
        conn.send({"type": "pong", "ref": index, "at": 1})
    await next_iteration()
    assert conn.queued == 4 and len(transport.writes) == 1
    conn.send({"type": "pong", "ref": "one too many", "at": 1})
    assert conn.close_code == 1013
    conn.resume_writing()  # the queue was dropped: only the close frame is left
    close = transport.writes[-1]
    assert close[0] == 0x88 and int.from_bytes(close[2:4], "big") == 1013


async def test_close_waits_for_the_frames_before_it() -> None:
    conn, transport = native()
    conn.send({"type": "pong", "ref": 1, "at": 1})
    conn.close(1008, "no hello")
    conn.send({"type": "pong", "ref": 2, "at": 1})  # after close: dropped
    await next_iteration()
    (data,) = transport.writes
    first = frames_in(data[:-12])  # the pong, then the close frame (2 + 2 + 8 bytes)
    assert [m["ref"] for m in first] == [1]
    assert data[-12:] == b"\x88\x0a" + (1008).to_bytes(2, "big") + b"no hello"
    conn.peer_closed((1008).to_bytes(2, "big"))  # the peer answers: hang up
    assert transport.closing


async def test_an_unanswered_close_is_aborted_after_the_timeout() -> None:
    conn, transport = native()
    conn.pause_writing()  # the peer does not read
    conn.close(1001)
    done = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.2, done.set_result, None)  # beyond 0.05 s
    await done
    assert transport.aborted
