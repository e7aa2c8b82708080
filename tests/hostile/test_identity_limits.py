"""RELIABILITY.md case 27 and issue 15 findings 4, 10 and 11: new players, rooms and
live matches are limited per address and per player (on `join_room` and on pairing
too), a takeover leaves no queue entry behind, and names are cleaned or refused."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.hostile.conftest import serving
from tests.hostile.harness import Bystander, ahealthz, barrier, log_mark
from tests.support import Client, ServerProcess, advance_clock, connect

MAX_MATCHES = 3
MAX_ROOMS = 4


@pytest.fixture(scope="module")
def limits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Small caps, so each is reached in a few commands."""
    yield from serving(tmp_path_factory.mktemp("limits"), max_live_matches_per_player=MAX_MATCHES,
                       max_open_rooms_per_address=MAX_ROOMS, hello_timeout=1.0)


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Default limits on a server whose clock moves only when told (no refill while a
    slow machine runs the flood)."""
    yield from serving(tmp_path_factory.mktemp("frozen"), hello_timeout=1.0, test_clock=True)


@contextlib.asynccontextmanager
async def guests(
    server: ServerProcess, host: str, count: int, name: str = "guest"
) -> AsyncIterator[list[Client]]:
    """`count` new players, all connected from `host`."""
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for index in range(count):
            client = await stack.enter_async_context(connect(server, local_addr=(host, 0)))
            await client.hello(f"{name}{index}")
            clients.append(client)
        yield clients


async def refused(client: Client, message: dict[str, Any], code: str) -> dict[str, Any]:
    answer = await client.request(message)
    assert answer["type"] == "error" and answer["code"] == code, answer
    return answer


async def open_room(client: Client, game: str = "tictactoe") -> dict[str, Any]:
    room = await client.request({"type": "create_room", "game": game})
    assert room["type"] == "room", room
    return room


# ---- new players per address ----------------------------------------------------------


async def test_a_guest_flood_from_one_address_hits_the_new_player_limit(
    frozen: ServerProcess,
) -> None:
    """Default limit: 60 new players at once per address, then one a second. Resuming
    with a token is not a new player; other addresses are not affected; a refused
    connection may still resume, and is closed 1008 at the hello timeout otherwise."""
    hostile = frozen
    host, flood = "127.0.6.1", 90
    mark = log_mark(hostile)
    async with Bystander(hostile) as bystander, contextlib.AsyncExitStack() as stack:
        welcomed: list[Client] = []
        refusals: list[Client] = []
        for index in range(flood):
            client = await stack.enter_async_context(connect(hostile, local_addr=(host, 0)))
            answer = await client.request({"type": "hello", "name": f"flood{index}"})
            if answer["type"] == "welcome":
                client.player, client.token = answer["player"], answer["token"]
                welcomed.append(client)
            else:
                assert answer["code"] == "rate_limited", answer
                assert "token" in answer["message"], answer
                refusals.append(client)
        # the server's clock stood still: nothing refilled
        assert (len(welcomed), len(refusals)) == (60, 30)
        await bystander.wait_moves(2)
        # a token resume from the same address is not a new player: on a connection
        # that was just refused, say
        known = welcomed[0]
        assert known.token is not None
        await known.close()
        late = await stack.enter_async_context(connect(hostile, local_addr=(host, 0)))
        await refused(late, {"type": "hello", "name": "late"}, "rate_limited")
        again = await late.hello(token=known.token)
        assert again["player"] == known.player
        # a second later, one more new player, and only one
        advance_clock(hostile, 1000)
        async with connect(hostile, local_addr=(host, 0)) as refilled:
            await refilled.hello("refilled")
        async with connect(hostile, local_addr=(host, 0)) as over:
            await refused(over, {"type": "hello", "name": "over"}, "rate_limited")
        # another address makes new players as before
        async with connect(hostile, local_addr=("127.0.6.2", 0)) as other:
            await other.hello("elsewhere")
        # a refused connection that stays silent is closed 1008 at the hello timeout
        silent = refusals[0]
        await silent.closed.wait()
        assert silent.close_code == 1008
        assert (await ahealthz(hostile))["players"] <= len(welcomed) + 3
    limited = [event for event in _events(hostile, mark)
               if event.get("event") == "new_players_limited"]
    assert len(limited) == 1 and limited[0]["address"] == host, limited  # logged once


def _events(server: ServerProcess, since: int) -> list[dict[str, Any]]:
    with server.log_path.open("rb") as handle:
        handle.seek(since)
        lines = handle.read().decode("utf-8", "replace").splitlines()
    events = []
    for line in lines:
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    return events


# ---- open rooms per address --------------------------------------------------------


async def test_rooms_waiting_per_address_are_capped(limits: ServerProcess) -> None:
    async with Bystander(limits), guests(limits, "127.0.7.1", 3, "roomy") as (a, b, c), \
            guests(limits, "127.0.7.2", 1, "joiner") as (joiner,):
        rooms = [await open_room(a) for _ in range(MAX_MATCHES)] + [await open_room(b)]
        answer = await refused(c, {"type": "create_room", "game": "connect4"}, "rate_limited")
        assert "rooms waiting" in answer["message"], answer
        # another address is not affected
        other = await open_room(joiner)
        # once a room is joined it no longer waits: the address may open one more
        ack = await joiner.request({"type": "join_room", "code": rooms[-1]["code"]})
        assert ack["type"] == "ack", ack
        await open_room(c)
        await refused(c, {"type": "create_room", "game": "tictactoe"}, "rate_limited")
        # a room cancelled (its owner resigns) frees its place too
        cancelled = await a.request({"type": "resign", "match": rooms[0]["match"]})
        assert cancelled["type"] == "ack", cancelled
        await open_room(c)
        await b.request({"type": "join_room", "code": other["code"]})


# ---- the live-match cap on join_room and on pairing ----------------------------------


async def test_join_room_is_refused_over_the_live_match_cap(limits: ServerProcess) -> None:
    async with Bystander(limits), guests(limits, "127.0.8.1", 1, "full") as (full,), \
            guests(limits, "127.0.8.2", 2, "host") as (host, late):
        mine = [await open_room(full) for _ in range(MAX_MATCHES)]
        theirs = await open_room(host)
        answer = await refused(full, {"type": "join_room", "code": theirs["code"]},
                               "rate_limited")
        assert f"{MAX_MATCHES} live matches" in answer["message"], answer
        # joining a room one already sits in is not a new match: answered as before
        snapshot = await full.request({"type": "join_room", "code": mine[0]["code"]})
        assert snapshot["type"] == "snapshot" and snapshot["match"] == mine[0]["match"]
        # the refused join took no seat: the room still waits for someone else
        ack = await late.request({"type": "join_room", "code": theirs["code"]})
        assert ack["type"] == "ack", ack
        view = await host.until_view(theirs["match"], lambda v: v["status"] == "active")
        assert [p["name"] for p in view["players"]] == ["host0", "host1"]


async def test_pairing_rechecks_the_cap_of_the_player_waiting(limits: ServerProcess) -> None:
    """Queue, then open rooms up to the cap: when someone else queues, the one waiting
    is over the cap. It is taken out of the queue and told so; the newcomer waits for
    the next player instead, and nobody is lost."""
    async with Bystander(limits), guests(limits, "127.0.9.1", 1, "greedy") as (greedy,), \
            guests(limits, "127.0.9.2", 2, "fair") as (fair, third):
        queued = await greedy.request({"type": "queue", "game": "connect4"})
        assert queued["type"] == "queued", queued
        rooms = [await open_room(greedy) for _ in range(MAX_MATCHES)]
        waits = await fair.request({"type": "queue", "game": "connect4"})
        assert waits["type"] == "queued", waits
        told = await greedy.expect(lambda m: m.get("type") == "error")
        assert told["code"] == "rate_limited" and "queue" in told["message"], told
        assert "ref" not in told
        unqueued = await greedy.expect("unqueued")
        assert unqueued["game"] == "connect4"
        # the next player is paired with `fair`, who kept its place
        await third.request({"type": "queue", "game": "connect4"})
        started = await fair.expect("snapshot")
        view = await third.until_view(started["match"], lambda v: v["status"] == "active")
        assert sorted(p["name"] for p in view["players"]) == ["fair0", "fair1"]
        # and `greedy` was given no fourth match
        await barrier(greedy)
        assert set(greedy.views) == {room["match"] for room in rooms}
        unq = await greedy.request({"type": "unqueue"})
        assert unq["game"] is None, unq


# ---- takeover and the queue ----------------------------------------------------------


async def test_a_takeover_leaves_no_queue_entry_behind(hostile: ServerProcess) -> None:
    async with Bystander(hostile), connect(hostile) as old, connect(hostile) as rival:
        await old.hello("taken-over")
        queued = await old.request({"type": "queue", "game": "tictactoe"})
        assert queued["type"] == "queued", queued
        assert old.token is not None
        async with connect(hostile) as new:
            await new.hello("taken-over", token=old.token)
            await old.closed.wait()
            assert old.close_code == 4009
            # the new connection never queued: it may queue, and is paired once
            again = await new.request({"type": "queue", "game": "tictactoe"})
            assert again["type"] == "queued", again
            await rival.hello("rival")
            await rival.request({"type": "queue", "game": "tictactoe"})
            snapshot = await new.expect("snapshot")
            view = await rival.until_view(snapshot["match"], lambda v: v["status"] == "active")
            assert sorted(p["name"] for p in view["players"]) == ["rival", "taken-over"]
            assert (await new.request({"type": "unqueue"}))["game"] is None


# ---- names -------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x00evil", "evil"),
    ("two\nlines", "two lines"),
    ("\u202eevil\u202c name", "evil name"),
    ("zero\u200bwidth\ufeff", "zerowidth"),
    ("  many \t\r spaces  ", "many spaces"),
], ids=["nul", "newline", "bidi-override", "zero-width", "whitespace-runs"])
async def test_names_are_cleaned(hostile: ServerProcess, raw: str, shown: str) -> None:
    async with connect(hostile) as player, connect(hostile) as other:
        welcome = await player.hello(raw)
        assert welcome["name"] == shown
        await other.hello("other")
        room = await open_room(player)
        await other.request({"type": "join_room", "code": room["code"]})
        view = await other.until_view(room["match"], lambda v: v["status"] == "active")
        assert view["players"][0]["name"] == shown  # what the opponent is shown


@pytest.mark.parametrize("raw", [
    "\u200b\u200b\u200b", "\u202e\u2066\u200f", "\x00\n\x00", "Hard bot", "hard bot",
    "Random Bot", "EASY  BOT", "\uff2d\uff45\uff44\uff49\uff55\uff4d bot",
], ids=["zwsp-only", "bidi-only", "controls-only", "Hard-bot", "hard-bot", "Random-Bot",
        "EASY-BOT", "fullwidth-Medium-bot"])
async def test_invisible_or_bot_names_are_refused(hostile: ServerProcess, raw: str) -> None:
    async with connect(hostile) as guest, connect(hostile) as known:
        answer = await refused(guest, {"type": "hello", "name": raw}, "bad_message")
        assert "name" in answer["message"], answer
        welcome = await guest.hello("fine name")  # the connection stays
        assert welcome["name"] == "fine name"
        # renaming with a token is checked the same way
        assert guest.token is not None
        await guest.close()
        await refused(known, {"type": "hello", "name": raw, "token": guest.token},
                      "bad_message")
        again = await known.hello("\u202eright", token=guest.token)
        assert again["player"] == guest.player and again["name"] == "right"
