"""RELIABILITY.md cases 7-10: frames and payloads, each beside a bystander match."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import msgpack
import pytest

from tests.hostile.harness import (
    OP_BINARY,
    OP_CONT,
    OP_TEXT,
    Bystander,
    RawPeer,
    ahealthz,
    assert_clean_logs,
    barrier,
    frame,
    frame_header,
    log_mark,
    player_pair,
    server_rss,
)
from tests.support import Client, ServerProcess, connect

LIMIT = 8192  # the default GAME_MAX_FRAME_BYTES


async def closes_with(server: ServerProcess, payload: str | bytes, code: int) -> None:
    codec = "json" if isinstance(payload, str) else "msgpack"
    async with connect(server, codec) as client:
        await client.hello()
        await client.ws.send(payload)
        await asyncio.wait_for(client.closed.wait(), 10)
        assert client.close_code == code, (payload[:60], client.close_code, client.inbox)


async def answered_with(client: Client, payload: str | bytes, codes: set[str]) -> None:
    """The frame gets an error of one of `codes`, and the connection stays usable."""
    await client.ws.send(payload)
    answer = await client.expect(lambda m: m.get("type") in ("error", "ack", "pong"))
    assert answer["type"] == "error" and answer["code"] in codes, (payload[:80], answer)
    await barrier(client)


# ---- 7. not msgpack / not JSON -> 1007 ----------------------------------------------

NOT_MSGPACK = [b"\xc1", b"\xc1\xc1garbage", b"\x92\x01", b"\x81\xa4type", b"\xff\xff",
               b"\x80\x80", b"\xa5ab"]
NOT_JSON = ["{not json", "", "[1,", '{"type":"ping"} trailing', "\x00", "{'type':'ping'}",
            '{"type":"ping",}', "nul", '"unterminated', "[" * 40, '{"type":"ping"' + "{" * 40]


async def test_undecodable_frames_close_1007_without_a_traceback(
    hostile: ServerProcess,
) -> None:
    mark = log_mark(hostile)
    async with Bystander(hostile):
        payloads: list[str | bytes] = [*NOT_MSGPACK, *NOT_JSON]
        for payload in payloads:
            await closes_with(hostile, payload, 1007)
        peer = await RawPeer.open(hostile)  # a text frame that is not UTF-8 at all
        try:
            await peer.send(frame(OP_TEXT, b'{"type":"ping","id":"\xff\xfe"}'))
            assert await peer.close_code() == 1007
        finally:
            peer.close()
    assert_clean_logs(hostile, mark)


# ---- 8. unknown type and wrong shapes -> error, kept, state unchanged ---------------


def json_variants(match: str) -> list[tuple[str, str]]:
    m = json.dumps(match)

    def move(fields: str) -> str:
        return '{"type":"move","match":' + m + "," + fields + "}"

    return [
        ('{"type":"dance"}', "unknown_type"),
        ('{"type":"Move","match":' + m + ',"move":4}', "unknown_type"),
        (move('"move":"4"'), "bad_message"),
        (move('"move":true'), "bad_message"),
        (move('"move":4.0'), "bad_message"),
        (move('"move":NaN'), "bad_message"),
        (move('"move":Infinity'), "bad_message"),
        (move('"move":-Infinity'), "bad_message"),
        (move('"move":1e999'), "bad_message"),
        (move('"move":' + "9" * 5000), "bad_message"),
        (move('"move":18446744073709551616'), "bad_message"),
        (move('"move":9223372036854775808'), "bad_message"),
        (move('"move":-9223372036854775809'), "bad_message"),
        (move('"move":null'), "bad_message"),
        (move('"move":[4]'), "bad_message"),
        ('{"type":"move","match":' + m + "}", "bad_message"),
        ('{"type":"move","move":4}', "bad_message"),
        (move('"move":4,"extra":1'), "bad_message"),
        (move('"move":4,"version":"1"'), "bad_message"),
        (move('"move":4,"version":-1'), "bad_message"),
        (move('"move":4,"version":true'), "bad_message"),
        ('{"type":"move","match":123,"move":4}', "bad_message"),
        (move('"move":4,"id":{}'), "bad_message"),
        (move('"move":4,"id":1.5'), "bad_message"),
        (move('"move":4,"id":"' + "x" * 65 + '"'), "bad_message"),
        ('{"type":4}', "bad_message"),
        ('{"move":4}', "bad_message"),
        ("[]", "bad_message"),
        ("4", "bad_message"),
        ('"move"', "bad_message"),
        ("null", "bad_message"),
        ('{"type":"hello","name":""}', "bad_message"),
        ('{"type":"play_bot","game":"tictactoe","level":"random","seat":2}', "bad_message"),
        ('{"type":"resign","match":' + m + ',"seat":1}', "bad_message"),
    ]


def msgpack_variants(match: str) -> list[tuple[bytes, str]]:
    def pack(message: Any) -> bytes:
        data: bytes = msgpack.packb(message, use_bin_type=True)
        return data

    return [
        (pack({"type": "dance"}), "unknown_type"),
        (pack({"type": "move", "match": match, "move": "4"}), "bad_message"),
        (pack({"type": "move", "match": match, "move": True}), "bad_message"),
        (pack({"type": "move", "match": match, "move": 4.0}), "bad_message"),
        (pack({"type": "move", "match": match, "move": float("nan")}), "bad_message"),
        (pack({"type": "move", "match": match, "move": float("inf")}), "bad_message"),
        (pack({"type": "move", "match": match, "move": 2**64 - 1}), "bad_message"),
        (pack({"type": "move", "match": match, "move": 2**63}), "bad_message"),
        (pack({"type": "move", "match": match, "move": b"\x04"}), "bad_message"),
        (pack({"type": "move", "match": match.encode(), "move": 4}), "bad_message"),
        (pack({"type": "move", "match": match}), "bad_message"),
        (pack({"type": "move", "match": match, "move": 4, "extra": None}), "bad_message"),
        (pack({"type": "move", "match": match, "move": 4, "version": -1}), "bad_message"),
        (pack({b"type": "move", "match": match, "move": 4}), "bad_message"),
        (pack([{"type": "move"}]), "bad_message"),
        (pack(None), "bad_message"),
    ]


@pytest.mark.parametrize("codec_name", ["json", "msgpack"])
async def test_wrong_shapes_get_errors_and_change_nothing(
    hostile: ServerProcess, codec_name: str
) -> None:
    mark = log_mark(hostile)
    async with Bystander(hostile), \
            player_pair(hostile, "tictactoe", codec_name) as (match, seats):
        mover, other = seats[0], seats[1]
        version = mover.versions[match]
        variants: list[tuple[Any, str]] = list(
            json_variants(match) if codec_name == "json" else msgpack_variants(match))
        for payload, code in variants:
            await answered_with(mover, payload, {code})
        await barrier(other)
        for client in (mover, other):
            assert client.versions[match] == version
            assert client.views[match]["moves"] == []
            assert not [m for m in client.inbox if m.get("type") == "patch"]
        ack = await mover.request({"type": "move", "match": match, "move": 4,
                                   "version": version})
        assert ack["type"] == "ack" and ack["version"] == version + 1
        await other.until_view(match, lambda v: v["moves"] == [4])
    assert_clean_logs(hostile, mark)


# ---- 9. a frame over the limit -> 1009 before decoding, memory flat -----------------


async def test_frames_over_the_limit_close_1009(hostile: ServerProcess) -> None:
    mark = log_mark(hostile)
    async with Bystander(hostile):
        # exactly at the limit is a frame like any other
        padded = '{"type":"ping","id":1}'.ljust(LIMIT)
        async with connect(hostile) as client:
            await client.ws.send(padded)
            assert (await client.expect("pong"))["ref"] == 1
        await closes_with(hostile, padded + " ", 1009)
        await closes_with(hostile, b"\xc4" + b"x" * LIMIT, 1009)
        await closes_with(hostile, '{"type":"hello","name":"%s"}' % ("a" * 100_000), 1009)

        # a header announcing 1 TiB is refused on the header: no payload is awaited
        peer = await RawPeer.open(hostile)
        try:
            await peer.send(frame_header(OP_BINARY, 2**40) + b"\x81")
            assert await peer.close_code() == 1009
        finally:
            peer.close()
        # fragments each under the limit, over it together
        peer = await RawPeer.open(hostile)
        try:
            part = b" " * (LIMIT // 2)
            await peer.send(frame(OP_TEXT, part, fin=False) + frame(OP_CONT, part, fin=False)
                            + frame(OP_CONT, part, fin=True))
            assert await peer.close_code() == 1009
        finally:
            peer.close()
    assert_clean_logs(hostile, mark)


async def test_oversized_frames_leave_memory_flat(hostile: ServerProcess) -> None:
    async with Bystander(hostile) as bystander:
        connections = (await ahealthz(hostile))["connections"]
        before = server_rss(hostile)
        for _round in range(10):
            peers = await asyncio.gather(*(RawPeer.open(hostile, host="127.0.0.6")
                                           for _ in range(20)))
            try:
                # each announces 16 MiB and sends 64 KiB of it
                chunk = frame_header(OP_BINARY, 16 * 2**20) + b"\0" * 65536
                await asyncio.gather(*(peer.send(chunk) for peer in peers))
                codes = await asyncio.gather(*(peer.close_code() for peer in peers))
                assert set(codes) == {1009}, codes
            finally:
                for peer in peers:
                    peer.close()
        after = server_rss(hostile)
        assert after - before < 50 * 2**20, (before, after)
        await bystander.wait_moves(2)
        assert (await ahealthz(hostile))["connections"] == connections


# ---- 10. hostile payloads -> rejected cleanly, no RecursionError anywhere -----------

HOSTILE_MSGPACK = [
    b"\xdb\xff\xff\xff\xff" + b"x" * 16,  # a str claiming 4 GiB
    b"\xdd\xff\xff\xff\xff\x90",  # an array claiming 4 Gi items
    b"\xdf\xff\xff\xff\xff",  # a map claiming 4 Gi pairs
    b"\xc6\xff\xff\xff\xff",  # bin claiming 4 GiB
    b"\xc9\xff\xff\xff\xff\x01",  # ext claiming 4 GiB
    b"\x90" * 8000,  # a frame full of empty arrays
    b"\xdc\x1f\x40" + b"\x90" * 8000,  # one array of 8000 empty arrays
    b"\xdc\x0f\xa0" + b"\x90" * 4000,  # one array of 4000 empty arrays
    msgpack.packb({"type": "ping", "pad": [[]] * 4000}),
    b"\x91" * 1000 + b"\xc0",  # 1000-deep arrays
    b"\x81\xa4type" + b"\x91" * 1000 + b"\xc0",
    b"\x81\xa1a" * 1000 + b"\xc0",  # 1000-deep maps
    b"\xd4\x01\x00",  # fixext 1
    b"\xc7\x01\x05x",  # ext 8
    b"\xd6\xff\x00\x00\x00\x00",  # a timestamp (ext -1)
    msgpack.packb({"type": "ping", "id": msgpack.ExtType(1, b"x")}),
    b"\x81\x01\x02",  # an int map key
    b"\x82\xa4type\xa4ping\xc0\x01",  # a nil map key
    msgpack.packb({"type": "ping", (1, 2): 3}, use_bin_type=True),
    b"\x81\xa4type\xa2\xff\xfe",  # invalid UTF-8
    b"\x81\xa4type\xa3\xed\xa0\x80",  # a lone surrogate, UTF-8 encoded
    b"\x81\xa4type\xcb" + struct.pack("!d", float("nan")),
]
HOSTILE_JSON = [
    "[" * 1000 + "]" * 1000,
    '{"a":' * 1000 + "1" + "}" * 1000,
    '{"type":"ping","x":' + "[" * 1000 + "]" * 1000 + "}",
    "[" * 4000,
    "[]" * 4000,
    '{"type":"ping","pad":[' + ",".join(["[]"] * 2500) + "]}",
    '{"type":"hello","name":"\\ud800"}',
    '{"type":"ping","id":"\\udfff"}',
    '{"\\ud800":1,"type":"ping"}',
    '{"type":"ping","id":1e400}',
    '{"type":"ping","type":"ping"}',
    '{"type":"ping","id":' + "1" * 4000 + "}",
]


async def test_hostile_payloads_are_rejected_cleanly(hostile: ServerProcess) -> None:
    mark = log_mark(hostile)
    async with Bystander(hostile) as bystander:
        outcomes = []
        hostile_payloads: list[str | bytes] = [*HOSTILE_MSGPACK, *HOSTILE_JSON]
        for payload in hostile_payloads:
            codec = "json" if isinstance(payload, str) else "msgpack"
            async with connect(hostile, codec) as client:
                await client.hello()
                await client.ws.send(payload)
                answer = await _answer_or_close(client)
                outcomes.append(answer)
                assert answer in (1007, "bad_message", "unknown_type", "pong"), (
                    payload[:40], answer)
                if answer != 1007:
                    await barrier(client)  # still open and answering
            await bystander.wait_moves(1)
        assert 1007 in outcomes and "bad_message" in outcomes
    assert_clean_logs(hostile, mark)


async def _answer_or_close(client: Client) -> str | int | None:
    async def wait() -> str | int | None:
        while True:
            for message in client.inbox:
                if message.get("type") == "error":
                    return str(message["code"])
                if message.get("type") == "pong":
                    return "pong"
            if client.closed.is_set():
                return client.close_code
            client._arrived.clear()
            await client._arrived.wait()

    return await asyncio.wait_for(wait(), 10)
