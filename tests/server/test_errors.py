"""Every error code of DESIGN.md, produced by the offending message; the match goes on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.server.test_play import TTT_WIN, quick_match
from tests.support import ServerProcess, connect, play_out, seated, start_server


async def test_error_codes_leave_the_match_unharmed(server: ServerProcess, codec: str) -> None:
    async with connect(server, codec) as a, connect(server, codec) as b, \
            connect(server, codec) as stranger:
        early = await a.request({"type": "queue", "game": "tictactoe"})
        assert early["code"] == "hello_first"
        await a.hello("a")
        await b.hello("b")
        await stranger.hello("stranger")
        match, seats = await quick_match(a, b, "tictactoe")
        version = a.versions[match]
        first, second = seats[0], seats[1]

        async def refused(client: object, message: dict[str, object], code: str) -> None:
            answer = await client.request(message)  # type: ignore[attr-defined]
            assert answer["type"] == "error", answer
            assert answer["code"] == code, answer
            assert isinstance(answer["message"], str) and answer["message"]

        await refused(first, {"type": "dance"}, "unknown_type")
        await refused(first, {"type": "move", "match": match, "move": "4"}, "bad_message")
        await refused(first, {"type": "move", "match": match, "move": True}, "bad_message")
        await refused(first, {"type": "move", "match": match, "move": 1, "extra": 1},
                      "bad_message")
        await refused(first, {"type": "move", "match": match}, "bad_message")
        await refused(first, {"type": "queue", "game": "chess"}, "unknown_game")
        await refused(first, {"type": "move", "match": "nope", "move": 1}, "unknown_match")
        await refused(first, {"type": "join_room", "code": "ZZZZZZ"}, "unknown_room")
        await refused(stranger, {"type": "move", "match": match, "move": 4}, "not_a_player")
        await refused(stranger, {"type": "resign", "match": match}, "not_a_player")
        await refused(second, {"type": "move", "match": match, "move": 4}, "not_your_turn")
        await refused(first, {"type": "move", "match": match, "move": 9}, "illegal_move")
        await refused(first, {"type": "move", "match": match, "move": -1}, "illegal_move")
        await refused(first, {"type": "move", "match": match, "move": 4, "version": version + 5},
                      "stale_version")
        assert (await first.request({"type": "queue", "game": "connect4"}))["type"] == "queued"
        await refused(first, {"type": "queue", "game": "connect4"}, "already_queued")
        assert (await first.request({"type": "unqueue"}))["type"] == "unqueued"
        assert a.versions[match] == version and b.versions[match] == version
        assert not [m for m in a.inbox + b.inbox if m.get("type") == "patch"]

        # a move chosen before the opponent's reply is stale
        ack = await first.request({"type": "move", "match": match, "move": 0,
                                   "version": version})
        assert ack["type"] == "ack"
        await second.until_view(match, lambda v: v["moves"] == [0])
        reply = await second.request({"type": "move", "match": match, "move": 3,
                                      "version": second.versions[match]})
        assert reply["type"] == "ack"
        await refused(first, {"type": "move", "match": match, "move": 1, "version": version},
                      "stale_version")
        await first.until_view(match, lambda v: v["moves"] == [0, 3])
        await play_out(seats, match, TTT_WIN[2:])
        await refused(first, {"type": "move", "match": match, "move": 8}, "match_over")
        final = await stranger.request({"type": "watch", "match": match})
        assert final["view"]["moves"] == TTT_WIN
        assert final["view"]["result"]["winner"] == 0


async def test_bad_token_then_fresh_hello(server: ServerProcess, codec: str) -> None:
    async with connect(server, codec) as client:
        answer = await client.request({"type": "hello", "token": "not-a-token"})
        assert answer["code"] == "bad_token"
        welcome = await client.hello("fresh")
        assert welcome["matches"] == [] and welcome["token"]


async def test_resent_move_is_acknowledged_once(server: ServerProcess, codec: str) -> None:
    async with connect(server, codec) as a, connect(server, codec) as b:
        await a.hello()
        await b.hello()
        match, seats = await quick_match(a, b, "connect4")
        command = {"type": "move", "match": match, "move": 3, "id": "same"}
        await seats[0].send(command)
        first = await seats[0].expect(lambda m: m.get("ref") == "same")
        await seats[0].send(command)
        again = await seats[0].expect(lambda m: m.get("ref") == "same")
        assert first["type"] == again["type"] == "ack"
        assert first["version"] == again["version"]
        view = await seats[1].until_view(match, lambda v: v["moves"] == [3])
        assert view["board"].count(0) == 1


@pytest.mark.parametrize("frame", [b"\xc1\xc1garbage", "{not json"])
async def test_undecodable_frame_closes_1007(server: ServerProcess, frame: bytes | str) -> None:
    codec = "msgpack" if isinstance(frame, bytes) else "json"
    async with connect(server, codec) as client:
        await client.hello()
        await client.ws.send(frame)
        await client.closed.wait()
        assert client.close_code == 1007


async def test_flood_gets_rate_limited_then_closed(tmp_path: Path) -> None:
    proc = start_server(tmp_path, rate_per_second=5, rate_burst=5, rate_hard_strikes=20)
    try:
        async with connect(proc) as client:
            await client.hello()
            try:
                for _ in range(200):
                    await client.send({"type": "unqueue"})
            except ConnectionClosed:
                pass
            limited = await client.expect(lambda m: m.get("code") == "rate_limited")
            assert limited["type"] == "error"
            await client.closed.wait()
            assert client.close_code == 1008
    finally:
        proc.stop()


async def test_live_matches_per_player_are_capped(tmp_path: Path) -> None:
    proc = start_server(tmp_path, max_live_matches_per_player=2)
    try:
        async with connect(proc) as client:
            await client.hello()
            rooms = [await client.request({"type": "create_room", "game": "tictactoe"})
                     for _ in range(2)]
            assert [r["type"] for r in rooms] == ["room", "room"]
            refused = await client.request({"type": "play_bot", "game": "connect4",
                                             "level": "random"})
            assert refused["code"] == "rate_limited"
            refused = await client.request({"type": "create_room", "game": "tictactoe"})
            assert refused["code"] == "rate_limited"
            closed = await client.request({"type": "resign", "match": rooms[0]["match"]})
            assert closed["type"] == "ack"
            again = await client.request({"type": "create_room", "game": "connect4"})
            assert again["type"] == "room"
    finally:
        proc.stop()


async def test_a_locked_store_answers_unavailable_and_the_resent_move_applies_once(
    tmp_path: Path,
) -> None:
    """Another process holds the SQLite file's write lock: the move is answered
    `unavailable` (with its ref), nothing is broadcast, the match keeps its version;
    once the lock is gone the same move, resent with the same id, commits once."""
    db = tmp_path / "locked.sqlite3"
    proc = start_server(tmp_path, db=str(db), db_busy_timeout=0.2)
    try:
        async with connect(proc) as a, connect(proc) as b:
            match, seats = await seated(a, b, "tictactoe")
            x, o = seats[0], seats[1]
            first = await x.request({"type": "move", "match": match, "move": 4,
                                     "version": x.versions[match]})
            assert first["type"] == "ack"
            await o.until_view(match, lambda v: v["moves"] == [4])
            version = o.versions[match]
            move = {"type": "move", "match": match, "move": 0, "version": version,
                    "id": "locked"}
            lock = sqlite3.connect(db, isolation_level=None)
            try:
                lock.execute("BEGIN IMMEDIATE")
                await o.send(move)
                answer = await o.expect(lambda m: m.get("ref") == "locked")
            finally:
                lock.close()  # rolls the open transaction back, releasing the lock
            assert answer["type"] == "error" and answer["code"] == "unavailable", answer
            pong = await x.request({"type": "ping"})  # after any patch sent before it
            assert pong["type"] == "pong"
            assert x.versions[match] == version and x.views[match]["moves"] == [4]
            await o.send(move)
            ack = await o.expect(lambda m: m.get("ref") == "locked")
            assert ack["type"] == "ack" and ack["version"] == version + 1, ack
            view = await x.until_view(match, lambda v: v["moves"] == [4, 0])
            assert x.versions[match] == version + 1 and view["turn"] == 0
    finally:
        proc.stop()
