"""RELIABILITY.md cases 1-6: handshake and identity, each beside a bystander match."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.hostile.harness import (
    Bystander,
    HandshakeRefused,
    RawPeer,
    ahealthz,
    answer_to,
    barrier,
    command,
    player_pair,
)
from tests.support import Client, ServerProcess, connect


async def refused(client: Client, message: dict[str, Any], code: str) -> dict[str, Any]:
    answer = await client.request(message)
    assert answer["type"] == "error" and answer["code"] == code, answer
    return answer


# ---- 1. foreign Origin -> HTTP 403 at the handshake ---------------------------------


@pytest.mark.parametrize("origin", [
    "https://evil.example",
    "null",
    "http://127.0.0.1.evil.example",
    "http://evil.example:{port}",
    "https://friend.example.evil",
])
async def test_foreign_origin_is_refused_with_403(hostile: ServerProcess, origin: str) -> None:
    origin = origin.format(port=hostile.port)
    async with Bystander(hostile):
        before = await ahealthz(hostile)
        with pytest.raises(InvalidStatus) as info:
            async with websockets.connect(hostile.ws, origin=origin,  # type: ignore[arg-type]
                                          subprotocols=["game.v1.json"]):  # type: ignore[list-item]
                pass
        assert info.value.response.status_code == 403
        # the same over a raw socket: a 403 response, then the server hangs up
        with pytest.raises(HandshakeRefused) as raw:
            await RawPeer.open(hostile, origin=origin)
        assert raw.value.status == 403
        assert (await ahealthz(hostile))["connections"] == before["connections"]


@pytest.mark.parametrize("origin", [None, "http://127.0.0.1:{port}", "https://friend.example"])
async def test_same_listed_or_no_origin_is_accepted(
    hostile: ServerProcess, origin: str | None
) -> None:
    origin = None if origin is None else origin.format(port=hostile.port)
    async with websockets.connect(hostile.ws, origin=origin,  # type: ignore[arg-type]
                                  subprotocols=["game.v1.json"]) as ws:  # type: ignore[list-item]
        await ws.send('{"type":"ping","id":1}')
        assert "pong" in str(await asyncio.wait_for(ws.recv(), 10))


# ---- 2. same token twice -> takeover, 4009, nothing duplicated ----------------------


async def test_newer_connection_takes_over_with_4009(hostile: ServerProcess, codec: str) -> None:
    async with Bystander(hostile, codec=codec), \
            player_pair(hostile, "connect4", codec) as (match, seats):
        old, other = seats[0], seats[1]
        assert old.token is not None
        ack = await command(old, {"type": "move", "match": match, "move": 3, "id": "m1",
                                  "version": old.versions[match]})
        assert ack["type"] == "ack"
        async with connect(hostile, codec) as new:
            welcome = await new.hello(token=old.token)
            assert welcome["player"] == old.player and welcome["matches"] == [match]
            await old.closed.wait()
            assert old.close_code == 4009
            snap = await new.expect("snapshot")
            assert snap["view"]["moves"] == [3] and snap["view"]["you"] == 0
            # the command resent on the new connection is acknowledged, not replayed
            again = await command(new, {"type": "move", "match": match, "move": 3, "id": "m1",
                                        "version": snap["version"] - 1})
            assert again["type"] == "ack" and again["version"] == ack["version"]
            await barrier(other)
            assert other.views[match]["moves"] == [3]
            # presence never flickered: no patch ever showed seat 0 offline
            for message in other.inbox:
                for op in message.get("ops", ()):
                    assert not (op["path"] == "/players/0/online" and op["value"] is False), op
            assert other.views[match]["players"][0]["online"] is True
            # and the new connection plays on
            reply = await other.request({"type": "move", "match": match, "move": 2,
                                         "version": other.versions[match]})
            assert reply["type"] == "ack"
            await new.until_view(match, lambda v: v["moves"] == [3, 2])
            mine = await new.request({"type": "move", "match": match, "move": 3,
                                      "version": new.versions[match]})
            assert mine["type"] == "ack"
            await other.until_view(match, lambda v: v["moves"] == [3, 2, 3])
            assert (await ahealthz(hostile))["ok"]


# ---- 3. a token acts only where its player holds a seat ------------------------------


async def test_a_player_without_a_seat_cannot_act(hostile: ServerProcess) -> None:
    async with Bystander(hostile), player_pair(hostile) as (match, seats), \
            connect(hostile) as stranger:
        await stranger.hello("stranger")
        version = seats[0].versions[match]
        await refused(stranger, {"type": "move", "match": match, "move": 4}, "not_a_player")
        await refused(stranger, {"type": "move", "match": match, "move": 4,
                                 "version": version}, "not_a_player")
        await refused(stranger, {"type": "resign", "match": match}, "not_a_player")
        await refused(stranger, {"type": "rematch", "match": match}, "not_a_player")
        # the seat comes from the token: naming a seat or a player is not even accepted
        for extra in ({"seat": 0}, {"player": seats[0].player}, {"token": seats[0].token},
                      {"you": 0}):
            await refused(stranger, {"type": "move", "match": match, "move": 4, **extra},
                          "bad_message")
            await refused(seats[1], {"type": "move", "match": match, "move": 4, **extra},
                          "bad_message")
        # the seat not to move cannot move for the other one
        await refused(seats[1], {"type": "move", "match": match, "move": 4}, "not_your_turn")
        for client in seats.values():
            await barrier(client)
            assert client.versions[match] == version
            assert client.views[match]["moves"] == []
        ack = await seats[0].request({"type": "move", "match": match, "move": 4,
                                      "version": version})
        assert ack["type"] == "ack" and ack["version"] == version + 1


# ---- 4. spectators' commands -> not_a_player, connection kept -----------------------


async def test_spectator_commands_are_refused_and_it_keeps_watching(
    hostile: ServerProcess, codec: str
) -> None:
    async with Bystander(hostile, codec=codec), \
            player_pair(hostile, "tictactoe", codec) as (match, seats), \
            connect(hostile, codec) as fan:
        await fan.hello("fan")
        snap = await fan.request({"type": "watch", "match": match})
        assert snap["type"] == "snapshot" and snap["view"]["you"] is None
        for kind in ("move", "resign", "rematch"):
            message: dict[str, Any] = {"type": kind, "match": match}
            if kind == "move":
                message["move"] = 4
            await refused(fan, message, "not_a_player")
        await barrier(fan)
        for move, seat in ((4, 0), (0, 1)):
            ack = await seats[seat].request({"type": "move", "match": match, "move": move,
                                             "version": seats[seat].versions[match]})
            assert ack["type"] == "ack"
        await fan.until_view(match, lambda v: v["moves"] == [4, 0])
        ack = await seats[0].request({"type": "resign", "match": match})
        assert ack["type"] == "ack"
        await fan.until_view(match, lambda v: v["status"] == "finished")
        await refused(fan, {"type": "rematch", "match": match}, "not_a_player")
        await refused(fan, {"type": "move", "match": match, "move": 1}, "not_a_player")
        assert fan.views[match]["result"]["reason"] == "resign"


# ---- 5. twenty clients race for one free seat -> exactly one gets it ----------------


async def test_twenty_clients_race_for_one_seat(hostile: ServerProcess) -> None:
    async with Bystander(hostile), connect(hostile) as host:
        await host.hello("host")
        room = await host.request({"type": "create_room", "game": "connect4"})
        match = room["match"]
        racers: list[Client] = []
        async with contextlib.AsyncExitStack() as stack:
            for index in range(20):
                client = await stack.enter_async_context(
                    connect(hostile, local_addr=("127.0.0.3", 0)))
                await client.hello(f"racer{index}")
                racers.append(client)
            frames = [{"type": "join_room", "code": room["code"], "id": f"j{i}"}
                      for i in range(20)]
            await asyncio.gather(*(c.send(f) for c, f in zip(racers, frames, strict=True)))
            answers = [await c.expect(answer_to(f"j{i}")) for i, c in enumerate(racers)]
            winners = [c for c, a in zip(racers, answers, strict=True) if a["type"] == "ack"]
            assert len(winners) == 1, answers
            losers = [a for a in answers if a["type"] != "ack"]
            assert all(a["type"] == "error" and a["code"] == "unknown_room" for a in losers)
            view = await host.until_view(match, lambda v: v["status"] == "active")
            assert view["players"][1]["name"] == winners[0].views[match]["players"][1]["name"]
            assert winners[0].views[match]["you"] == 1
            for client in racers:
                if client is not winners[0]:
                    await barrier(client)
                    assert match not in client.views


# ---- 6. no hello within the timeout -> close 1008 -----------------------------------


async def test_no_hello_closes_with_1008(hostile: ServerProcess) -> None:
    async with Bystander(hostile):
        async with connect(hostile) as silent, connect(hostile) as pinger:
            await pinger.send({"type": "ping"})  # pings are answered but are not a hello
            assert (await pinger.expect("pong"))["type"] == "pong"
            early = await pinger.request({"type": "queue", "game": "tictactoe"})
            assert early["code"] == "hello_first"
            await asyncio.wait_for(silent.closed.wait(), 10)
            await asyncio.wait_for(pinger.closed.wait(), 10)
            assert silent.close_code == pinger.close_code == 1008
        raw = await RawPeer.open(hostile)  # a peer that never says anything at all
        try:
            assert await raw.close_code() == 1008
        finally:
            raw.close()
        async with connect(hostile) as polite:  # saying hello in time keeps the socket
            await polite.hello()
            await barrier(polite)
            assert not polite.closed.is_set()
