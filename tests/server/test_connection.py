"""Outgoing frames: built once per codec, framed as RFC 6455 says, checked in tests."""

from __future__ import annotations

import msgpack
import orjson
import pytest
from structlog.testing import capture_logs

from game.protocol.codec import Codec
from game.server import connection
from game.server.connection import Outgoing, enable_outgoing_validation


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
