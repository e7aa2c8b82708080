"""RELIABILITY.md cases 11-13: game rules and concurrency, each beside a bystander."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.hostile.harness import (
    Bystander,
    answer_to,
    barrier,
    command,
    moves_at_least,
    player_pair,
)
from tests.support import Client, ServerProcess, connect

TTT_WIN = [0, 3, 1, 4, 2]


async def no_patch_reached(clients: list[Client], match: str, version: int) -> None:
    """Nothing was broadcast: after a round trip, nobody saw a patch or a new version."""
    for client in clients:
        await barrier(client)
        assert client.versions[match] == version
        assert not [m for m in client.inbox if m.get("type") == "patch"], client.inbox


async def refused(client: Client, message: dict[str, Any], code: str) -> None:
    answer = await client.request(message)
    assert answer["type"] == "error" and answer["code"] == code, answer
    assert answer.get("match") == message.get("match")


# ---- 11. out of turn / illegal / after the end: refused, not broadcast --------------


async def test_refused_moves_are_not_broadcast(hostile: ServerProcess, codec: str) -> None:
    async with Bystander(hostile, codec=codec), \
            player_pair(hostile, "connect4", codec) as (match, seats), \
            connect(hostile, codec) as fan:
        await fan.hello("fan")
        await fan.request({"type": "watch", "match": match})
        await seats[0].until_view(match, lambda v: v["watchers"] == 1)
        for client in (*seats.values(), fan):
            await barrier(client)
            client.inbox.clear()
        everyone = [seats[0], seats[1], fan]
        version = seats[0].versions[match]
        await refused(seats[1], {"type": "move", "match": match, "move": 3,
                                 "version": version}, "not_your_turn")
        for bad in (7, -1, 100, 2**63 - 1, -(2**63)):
            await refused(seats[0], {"type": "move", "match": match, "move": bad,
                                     "version": version}, "illegal_move")
        await no_patch_reached(everyone, match, version)
        for _ in range(6):  # fill column 0, then it is full
            mover = seats[seats[0].views[match]["turn"]]
            ack = await mover.request({"type": "move", "match": match, "move": 0,
                                       "version": mover.versions[match]})
            assert ack["type"] == "ack"
        await seats[0].until_view(match, lambda v: len(v["moves"]) == 6)
        await fan.until_view(match, lambda v: len(v["moves"]) == 6)
        for client in everyone:
            await barrier(client)
            client.inbox.clear()
        version = seats[0].versions[match]
        await refused(seats[0], {"type": "move", "match": match, "move": 0,
                                 "version": version}, "illegal_move")
        await refused(seats[1], {"type": "move", "match": match, "move": 1,
                                 "version": version}, "not_your_turn")
        await no_patch_reached(everyone, match, version)
        ack = await seats[1].request({"type": "resign", "match": match})
        assert ack["type"] == "ack"
        for client in everyone:
            await client.until_view(match, lambda v: v["status"] == "finished")
            await barrier(client)
            client.inbox.clear()
        version = seats[0].versions[match]
        for seat, move in ((0, 1), (1, 1), (0, 0)):
            await refused(seats[seat], {"type": "move", "match": match, "move": move,
                                        "version": version}, "match_over")
            await refused(seats[seat], {"type": "move", "match": match, "move": move},
                          "match_over")
        await refused(seats[0], {"type": "resign", "match": match}, "match_over")
        await no_patch_reached(everyone, match, version)


# ---- 12. stale version; the same command resent -> acknowledged once ----------------


async def test_stale_versions_and_resent_commands(hostile: ServerProcess, codec: str) -> None:
    async with Bystander(hostile, codec=codec), \
            player_pair(hostile, "tictactoe", codec) as (match, seats):
        x, o = seats[0], seats[1]
        v0 = x.versions[match]
        first = await command(x, {"type": "move", "match": match, "move": 0, "version": v0,
                                  "id": "x-1"})
        assert first["type"] == "ack" and first["version"] == v0 + 1
        # the ack was "lost": the same command again, any number of times, even after the
        # opponent has moved on, is acknowledged with the same version and applied once
        await o.until_view(match, lambda v: v["moves"] == [0])
        reply = await command(o, {"type": "move", "match": match, "move": 4,
                                  "version": o.versions[match], "id": "o-1"})
        assert reply["type"] == "ack"
        for _ in range(3):
            again = await command(x, {"type": "move", "match": match, "move": 0,
                                      "version": v0, "id": "x-1"})
            assert again == {**first, "ref": "x-1"}
        # ... also from a new connection of the same player (the first one lost)
        assert x.token is not None
        async with connect(hostile, codec) as x2:
            await x2.hello(token=x.token)
            await x2.expect("snapshot")
            again = await command(x2, {"type": "move", "match": match, "move": 0,
                                       "version": v0, "id": "x-1"})
            assert again["type"] == "ack" and again["version"] == first["version"]
            # a different command on an old version is stale, never applied
            stale = await command(x2, {"type": "move", "match": match, "move": 8,
                                       "version": v0, "id": "x-2"})
            assert stale["type"] == "error" and stale["code"] == "stale_version", stale
            stale = await command(x2, {"type": "move", "match": match, "move": 8,
                                       "version": x2.versions[match] + 1, "id": "x-3"})
            assert stale["code"] == "stale_version", stale
            await barrier(o)
            assert o.views[match]["moves"] == [0, 4]
            assert x2.views[match]["moves"] == [0, 4]
            assert o.views[match]["board"].count(0) == 1
            ok = await command(x2, {"type": "move", "match": match, "move": 8,
                                    "version": x2.versions[match], "id": "x-4"})
            assert ok["type"] == "ack"
            await o.until_view(match, lambda v: v["moves"] == [0, 4, 8])


# ---- 13. two moves for one seat at the same moment -> exactly one commits -----------


async def test_back_to_back_moves_for_one_seat_commit_once(
    hostile: ServerProcess, codec: str
) -> None:
    async with Bystander(hostile, codec=codec), \
            player_pair(hostile, "connect4", codec) as (match, seats):
        for round_ in range(3):
            view = seats[0].views[match]
            mover, other = seats[view["turn"]], seats[1 - view["turn"]]
            version = mover.versions[match]
            ids = [f"r{round_}-{column}" for column in range(7)]
            # seven different moves, one write: they reach the server back to back
            frames = [{"type": "move", "match": match, "move": column, "version": version,
                       "id": ids[column]} for column in range(7)]
            await asyncio.gather(*(mover.send(f) for f in frames))
            answers = [await mover.expect(answer_to(ref)) for ref in ids]
            acks = [a for a in answers if a["type"] == "ack"]
            assert len(acks) == 1, answers
            assert {a["code"] for a in answers if a["type"] == "error"} <= {
                "stale_version", "not_your_turn"}
            moved = int(acks[0]["ref"].split("-")[1])
            await other.until_view(match, moves_at_least(len(view["moves"]) + 1))
            await barrier(other)
            assert other.views[match]["moves"][-1] == moved
            assert other.versions[match] == version + 1


async def test_moves_raced_through_a_takeover_commit_once(
    hostile: ServerProcess, codec: str
) -> None:
    async with Bystander(hostile, codec=codec), \
            player_pair(hostile, "connect4", codec) as (match, seats), \
            contextlib.AsyncExitStack() as stack:
        for round_ in range(3):  # three stones at most in columns 2 and 4: no line
            turn = seats[0].views[match]["turn"]
            old, other = seats[turn], seats[1 - turn]
            before = list(other.views[match]["moves"])
            version = old.versions[match]
            assert old.token is not None
            new = await stack.enter_async_context(connect(hostile, codec))
            # the newer connection says hello and moves while the older one moves: two
            # frames for the same seat and version in flight on two connections
            await new.send({"type": "hello", "token": old.token, "id": "h"})
            old_id, new_id = f"old-{round_}", f"new-{round_}"
            await asyncio.gather(
                old.send({"type": "move", "match": match, "move": 2, "version": version,
                          "id": old_id}),
                new.send({"type": "move", "match": match, "move": 4, "version": version,
                          "id": new_id}),
            )
            assert (await new.expect(answer_to("h")))["type"] == "welcome"
            new.player, new.token = old.player, old.token
            answer_new = await new.expect(answer_to(new_id))
            await old.closed.wait()
            assert old.close_code == 4009
            answer_old = next((m for m in old.inbox if m.get("ref") == old_id), None)
            await barrier(other)
            moves = other.views[match]["moves"]
            assert moves[:-1] == before and len(moves) == len(before) + 1, moves
            assert other.versions[match] == version + 1
            if answer_new["type"] == "ack":
                assert moves[-1] == 4
                assert answer_old is None or answer_old["type"] == "error", answer_old
            else:
                assert moves[-1] == 2, (moves, answer_new)
                assert answer_new["code"] in ("stale_version", "not_your_turn"), answer_new
                assert answer_old is not None and answer_old["type"] == "ack", answer_old
            await new.until_view(match, moves_at_least(len(moves)))
            assert new.views[match]["moves"] == moves
            seats[turn] = new
            # the other seat plays a move so that the same seat is raced again
            mover = seats[seats[0].views[match]["turn"]]
            ack = await mover.request({"type": "move", "match": match,
                                       "move": (0, 6, 5)[round_],
                                       "version": mover.versions[match]})
            assert ack["type"] == "ack", ack
            for client in seats.values():
                await client.until_view(match, moves_at_least(len(moves) + 1))
