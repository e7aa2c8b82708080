"""RFC 6455 as the native endpoint (game.server.native) implements it, over real sockets
against a real server: the opening handshake, framing errors and their close codes,
fragmentation, control frames, the closing handshake, keepalive, back-pressure on a
pipelining peer, coalesced writes, and 1012 on shutdown."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.speedups import apply_mask

from tests.hostile.conftest import serving
from tests.hostile.harness import (
    DEADLINE,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Bystander,
    RawPeer,
    frame_header,
    log_mark,
)
from tests.support import ServerProcess, connect, start_server

LIMIT = 8192


def masked(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0,
           mask: bytes | None = None) -> bytes:
    """A client frame with a real (random) mask."""
    key = os.urandom(4) if mask is None else mask
    return frame_header(opcode, len(payload), fin, key, rsv) + apply_mask(payload, key)


def text(message: dict[str, Any], **kwargs: Any) -> bytes:
    return masked(OP_TEXT, json.dumps(message).encode(), **kwargs)


async def hangs_up_with(peer: RawPeer, code: int) -> None:
    """The server's close frame carries `code`, then the server closes the socket."""
    try:
        assert await peer.close_code() == code
        await asyncio.wait_for(peer.eof(), DEADLINE)
    finally:
        peer.close()


async def next_data(peer: RawPeer) -> dict[str, Any]:
    """The next data message, skipping the server's keepalive pings."""
    while True:
        opcode, payload = await peer.read_frame()
        if opcode in (OP_TEXT, OP_BINARY):
            message: dict[str, Any] = json.loads(payload)
            return message
        assert opcode == OP_PING, (opcode, payload)


# ---- the opening handshake ---------------------------------------------------------


async def raw_request(server: ServerProcess, lines: list[str]) -> bytes:
    """Send a request head; the response head the server answers with."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
        return head
    finally:
        writer.close()


def upgrade(path: str = "/ws", version: str = "13", key: str | None = None,
            method: str = "GET", extra: tuple[str, ...] = ()) -> list[str]:
    key = base64.b64encode(os.urandom(16)).decode() if key is None else key
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: keep-alive, Upgrade", f"Sec-WebSocket-Version: {version}"]
    if key:
        lines.append(f"Sec-WebSocket-Key: {key}")
    return lines + list(extra)


@pytest.mark.parametrize(("lines", "status"), [
    (upgrade(path="/other"), 404),
    (upgrade(path="/ws/more"), 404),
    (upgrade(version="8"), 426),
    (upgrade(key=""), 400),
    (upgrade(key="c2hvcnQ="), 400),  # base64, but not 16 bytes
    (upgrade(key="not base64!"), 400),
    (upgrade(method="POST", extra=("Content-Length: 0",)), 400),
])
async def test_bad_upgrade_requests_get_http_errors(
    hostile: ServerProcess, lines: list[str], status: int
) -> None:
    head = await raw_request(hostile, lines)
    assert head.split(b" ")[1] == str(status).encode(), head
    if status == 426:
        assert b"Sec-WebSocket-Version: 13" in head


@pytest.mark.parametrize(("offered", "chosen"), [
    ("x-other, game.v1.msgpack", "game.v1.msgpack"),
    ("game.v1.json", "game.v1.json"),
    ("x-other", None),
    (None, None),
])
async def test_subprotocol_negotiation_and_accept_key(
    hostile: ServerProcess, offered: str | None, chosen: str | None
) -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    extra = (f"Sec-WebSocket-Protocol: {offered}",) if offered else ()
    head = await raw_request(hostile, upgrade(key=key, extra=extra))
    assert head.startswith(b"HTTP/1.1 101 ")
    accept = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    assert b"Sec-WebSocket-Accept: " + accept in head
    if chosen is None:
        assert b"Sec-WebSocket-Protocol" not in head
    else:
        assert f"Sec-WebSocket-Protocol: {chosen}".encode() in head


async def test_the_negotiated_codec_is_the_one_spoken(hostile: ServerProcess) -> None:
    peer = await RawPeer.open(hostile, subprotocol="x-other, game.v1.msgpack")
    try:
        await peer.send_msgpack({"type": "ping", "id": 7})
        opcode, _payload = await peer.read_frame()
        assert opcode == OP_BINARY
    finally:
        peer.close()


# ---- framing errors ----------------------------------------------------------------

PING = b'{"type":"ping"}'
PROTOCOL_ERRORS = {
    "unmasked": struct.pack("!BB", 0x81, len(PING)) + PING,
    "rsv1": masked(OP_TEXT, PING, rsv=0x40),
    "rsv2": masked(OP_TEXT, PING, rsv=0x20),
    "rsv3": masked(OP_TEXT, PING, rsv=0x10),
    "opcode 3": masked(0x3, PING),
    "opcode 7": masked(0x7, PING),
    "opcode 11": masked(0xB, b""),
    "opcode 15": masked(0xF, b""),
    "continuation first": masked(OP_CONT, PING),
    "text inside a fragmented text": masked(OP_TEXT, b"{", fin=False) + masked(OP_TEXT, PING),
    "ping over 125 bytes": masked(OP_PING, b"x" * 126),
    "fragmented ping": masked(OP_PING, b"x", fin=False),
    "close with one byte": masked(OP_CLOSE, b"\x03"),
    **{f"close code {code}": masked(OP_CLOSE, struct.pack("!H", code))
       for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535)},
}


@pytest.mark.parametrize("name", list(PROTOCOL_ERRORS))
async def test_protocol_errors_close_1002(hostile: ServerProcess, name: str) -> None:
    peer = await RawPeer.open(hostile)
    await peer.send(PROTOCOL_ERRORS[name])
    await hangs_up_with(peer, 1002)


@pytest.mark.parametrize("data", [
    masked(OP_TEXT, b'{"type":"ping","id":"\xc3"}'),
    masked(OP_TEXT, b'{"type":"ping",', fin=False) + masked(OP_CONT, b'"id":"\xed\xa0\x80"}'),
    masked(OP_CLOSE, struct.pack("!H", 1000) + b"\xff"),
], ids=["text", "fragmented text", "close reason"])
async def test_invalid_utf8_closes_1007(hostile: ServerProcess, data: bytes) -> None:
    peer = await RawPeer.open(hostile)
    await peer.send(data)
    await hangs_up_with(peer, 1007)


async def test_too_big_is_decided_on_the_header_alone(hostile: ServerProcess) -> None:
    mark = log_mark(hostile)
    for head in (frame_header(OP_TEXT, LIMIT + 1), frame_header(OP_BINARY, 2**63 - 1),
                 masked(OP_TEXT, b"x" * 4000, fin=False) + frame_header(OP_CONT, LIMIT)):
        peer = await RawPeer.open(hostile)
        await peer.send(head)  # no payload follows: the answer cannot wait for it
        await hangs_up_with(peer, 1009)
    assert '"websocket_failed"' in hostile.logs()[mark:]


# ---- messages, fragments, control frames -------------------------------------------


async def test_fragments_with_an_interleaved_ping_make_one_message(
    hostile: ServerProcess,
) -> None:
    body = json.dumps({"type": "ping", "id": "é€😀"}, ensure_ascii=False).encode()
    cut = body.index("€".encode()) + 1  # inside a multibyte character
    peer = await RawPeer.open(hostile)
    try:
        await peer.send(masked(OP_TEXT, body[:cut], fin=False)
                        + masked(OP_PING, b"are you there")
                        + masked(OP_CONT, body[cut:-3], fin=False)
                        + masked(OP_CONT, b"", fin=False)
                        + masked(OP_CONT, body[-3:]))
        assert await peer.read_frame() == (OP_PONG, b"are you there")
        answer = await next_data(peer)
        assert answer["type"] == "pong" and answer["ref"] == "é€😀"
    finally:
        peer.close()


async def test_a_frame_split_into_single_bytes_is_reassembled(hostile: ServerProcess) -> None:
    data = text({"type": "ping", "id": "slow"}) + masked(OP_PING, b"")
    peer = await RawPeer.open(hostile)
    try:
        for index in range(len(data)):
            await peer.send(data[index:index + 1])
        # the pong and the answer to the message, in either order: a control frame is
        # answered as it is read, a message once its handler has run
        frames = [await peer.read_frame(), await peer.read_frame()]
        pongs = [frame for frame in frames if frame[0] == OP_PONG]
        assert pongs == [(OP_PONG, b"")], frames
        [(_, answer)] = [frame for frame in frames if frame[0] == OP_TEXT]
        assert json.loads(answer)["ref"] == "slow"
    finally:
        peer.close()


@pytest.fixture(scope="module")
def unlimited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """No rate limit to speak of: thousands of pipelined pings all get answered."""
    yield from serving(tmp_path_factory.mktemp("unlimited"), rate_per_second=1_000_000,
                       rate_burst=1_000_000)


async def test_pipelined_messages_are_answered_in_order(unlimited: ServerProcess) -> None:
    """A thousand messages in one write: handled one at a time and in order, with
    reading paused and resumed on the way (the backlog goes far over its high mark, 64
    messages), while a bystander match is unaffected. (3,000 took 15-30 s of a loaded
    run, the bystander's moves on top, and proved nothing more.)"""
    count = 1000
    async with Bystander(unlimited) as bystander:
        peer = await RawPeer.open(unlimited)
        try:
            await peer.send(text({"type": "hello", "name": "pipeliner", "id": "h"})
                            + b"".join(text({"type": "ping", "id": i}) for i in range(count)))
            assert (await next_data(peer))["type"] == "welcome"
            refs = [(await next_data(peer))["ref"] for _ in range(count)]
            assert refs == list(range(count))
        finally:
            peer.close()
        await bystander.wait_moves(2)


async def test_closing_handshake_started_by_the_peer(hostile: ServerProcess) -> None:
    for payload in (struct.pack("!H", 1000) + "bye ✓".encode(), struct.pack("!H", 4000), b""):
        peer = await RawPeer.open(hostile)
        try:
            await peer.send(text({"type": "ping", "id": 1}) + masked(OP_CLOSE, payload))
            while True:  # the answer to what came before the close still arrives
                opcode, data = await peer.read_frame()
                if opcode == OP_CLOSE:
                    break
                assert json.loads(data)["ref"] == 1
            assert data == payload[:2]  # the code echoed, without the reason
            await asyncio.wait_for(peer.eof(), DEADLINE)
        finally:
            peer.close()


async def test_a_move_sent_just_before_the_close_still_counts(hostile: ServerProcess) -> None:
    async with connect(hostile) as host:
        await host.hello("host")
        room = await host.request({"type": "create_room", "game": "tictactoe"})
        peer = await RawPeer.open(hostile)
        try:
            await peer.send(text({"type": "hello", "name": "guest"})
                            + text({"type": "join_room", "code": room["code"]})
                            + masked(OP_CLOSE, struct.pack("!H", 1000)))
            await asyncio.wait_for(peer.eof(), DEADLINE)
        finally:
            peer.close()
        view = await host.until_view(room["match"], lambda v: v["status"] == "active")
        assert view["players"][1]["name"] == "guest"


# ---- coalesced writes --------------------------------------------------------------


async def test_the_movers_patch_and_ack_leave_in_one_write(hostile: ServerProcess) -> None:
    async with connect(hostile) as opponent:
        await opponent.hello("opponent")
        peer = await RawPeer.open(hostile)
        try:
            await peer.send(text({"type": "hello", "name": "mover"})
                            + text({"type": "create_room", "game": "tictactoe", "id": "r"}))
            room = await _until(peer, lambda m: m.get("ref") == "r")
            await opponent.request({"type": "join_room", "code": room["code"]})
            snapshot = await _until(peer, lambda m: m.get("type") == "snapshot")
            version = snapshot["version"]
            if snapshot["view"]["turn"] != snapshot["view"]["you"]:  # the opponent starts
                await opponent.request({"type": "move", "match": room["match"], "move": 0,
                                        "version": opponent.versions[room["match"]]})
                version = (await _until(peer, lambda m: m.get("type") == "patch"))["version"]
            await peer.send(text({"type": "ping", "id": "barrier"}))
            await _until(peer, lambda m: m.get("ref") == "barrier")  # nothing else in flight
            assert not peer.buffer
            await peer.send(text({"type": "move", "match": room["match"], "move": 4, "id": "m",
                                  "version": version}))
            peer.buffer = await peer._recv()  # one read: everything the server wrote at once
            kinds = []
            while peer.buffer:
                kinds.append((await next_data(peer))["type"])
            assert kinds == ["patch", "ack"]
        finally:
            peer.close()


async def _until(peer: RawPeer, predicate: Any) -> dict[str, Any]:
    while True:
        message = await next_data(peer)
        if predicate(message):
            return message


# ---- keepalive and shutdown --------------------------------------------------------


@pytest.fixture(scope="module")
def keepalive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serving(tmp_path_factory.mktemp("keepalive"), ping_interval=0.2,
                       ping_timeout=0.4, close_timeout=0.5, hello_timeout=30)


async def test_keepalive_pings_and_a_silent_peer_is_closed_1011(
    keepalive: ServerProcess,
) -> None:
    peer = await RawPeer.open(keepalive)
    try:
        for _ in range(3):  # answered pings keep it open, round after round
            opcode, payload = await peer.read_frame()
            assert opcode == OP_PING and len(payload) == 4
            await peer.send(masked(OP_PONG, payload))
        await peer.send(text({"type": "ping", "id": "alive"}))
        assert (await next_data(peer))["ref"] == "alive"
        # now it stops answering: the next ping times out
        await hangs_up_with(peer, 1011)
    finally:
        peer.close()


async def test_shutdown_closes_with_1012(tmp_path: Any) -> None:
    server = start_server(tmp_path)
    try:
        peer = await RawPeer.open(server)
        await peer.send(text({"type": "hello", "name": "staying", "id": 1}))
        assert (await next_data(peer))["type"] == "welcome"
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert await peer.close_code() == 1012
        await peer.send(masked(OP_CLOSE, struct.pack("!H", 1012)))
        await asyncio.wait_for(peer.eof(), DEADLINE)
        peer.close()
    finally:
        await asyncio.get_running_loop().run_in_executor(None, server.stop)
