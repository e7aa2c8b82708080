"""Issue 4: matches survive drops, takeovers, clocks, rematches and restarts."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.test_play import C4_WIN, TTT_WIN, quick_match
from tests.support import (
    Client,
    ServerProcess,
    advance_clock,
    connect,
    play_out,
    seated,
    start_server,
)

GRACE_MS, TURN_MS, FIRST_MS = 20_000, 60_000, 30_000
CODECS = ("json", "msgpack")


@pytest.fixture(scope="module")
def clocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose clock only moves when the test advances it."""
    proc = start_server(tmp_path_factory.mktemp("clocked"), test_clock=True,
                        grace_seconds=GRACE_MS / 1000, turn_seconds=TURN_MS / 1000,
                        first_move_seconds=FIRST_MS / 1000)
    yield proc
    proc.stop()


async def _resume(server: ServerProcess, match: str, tokens: dict[int, str | None],
                  moves: list[int], stack: contextlib.AsyncExitStack) -> dict[int, Client]:
    """Both players back on `server` (seat 0 speaking JSON, seat 1 MessagePack): each is
    told of the match, sees exactly `moves` in it, still active, in its own seat."""
    resumed = {}
    for seat, codec in enumerate(CODECS):
        client = resumed[seat] = await stack.enter_async_context(connect(server, codec))
        welcome = await client.hello(token=tokens[seat])
        assert welcome["matches"] == [match]
        snap = await client.expect("snapshot")
        assert snap["view"]["moves"] == moves
        assert snap["view"]["status"] == "active" and snap["view"]["you"] == seat
    await resumed[0].until_view(match, lambda v: all(p["online"] for p in v["players"]))
    return resumed


async def test_restart_keeps_every_acknowledged_move(tmp_path: Path) -> None:
    """One match, one player on each codec, through two restarts on the same database:
    SIGTERM (the players are told the server is going: 1001 or 1012), then SIGKILL
    (nothing is told, nothing is flushed on the way out). Each time the move acknowledged
    just before the signal is there after it, and the match then plays on to its end.

    (One chain rather than a server pair per codec and signal: a restart does not
    depend on the codecs of the connections, and each signal still follows an
    acknowledged move.)"""
    db = str(tmp_path / "game.sqlite3")
    servers = [start_server(tmp_path, db=db)]
    try:
        async with connect(servers[0], CODECS[0]) as a, connect(servers[0], CODECS[1]) as b:
            await a.hello("a")
            await b.hello("b")
            match, seats = await quick_match(a, b, "connect4")
            await play_out(seats, match, C4_WIN[:4])
            tokens = {seat: client.token for seat, client in seats.items()}
            ack = await seats[0].request({"type": "move", "match": match, "move": C4_WIN[4],
                                          "version": seats[0].versions[match]})
            assert ack["type"] == "ack"
            # in a thread: the clients answer the server's closing handshake meanwhile
            await asyncio.to_thread(servers[0].stop, signal.SIGTERM)
            await a.closed.wait()
            await b.closed.wait()
            assert {a.close_code, b.close_code} <= {1001, 1012}
        servers.append(start_server(tmp_path, db=db))
        async with contextlib.AsyncExitStack() as stack:
            resumed = await _resume(servers[1], match, tokens, C4_WIN[:5], stack)
            ack = await resumed[1].request({"type": "move", "match": match, "move": C4_WIN[5],
                                            "version": resumed[1].versions[match]})
            assert ack["type"] == "ack"
            servers[1].stop(signal.SIGKILL)
            for client in resumed.values():
                await client.closed.wait()
        servers.append(start_server(tmp_path, db=db))
        async with contextlib.AsyncExitStack() as stack:
            resumed = await _resume(servers[2], match, tokens, C4_WIN[:6], stack)
            await play_out(resumed, match, C4_WIN[6:])
            final = await resumed[1].until_view(match, lambda v: v["status"] == "finished")
            assert final["result"] == {"winner": 0, "reason": "line",
                                       "line": final["result"]["line"]}
            assert final["moves"] == C4_WIN
    finally:
        for server in servers:
            server.stop()


async def test_drop_shows_offline_with_grace_then_online(clocked: ServerProcess,
                                                          codec: str) -> None:
    async with connect(clocked, codec) as a, connect(clocked, codec) as b:
        await a.hello("stays")
        await b.hello("drops")
        match, seats = await quick_match(a, b, "tictactoe")
        await play_out(seats, match, [4])
        b_seat = b.views[match]["you"]
        token = b.token
        version_before_drop = b.versions[match]
        await b.close()
        view = await a.until_view(match, lambda v: not v["players"][b_seat]["online"])
        assert view["players"][b_seat]["grace"] is not None
        async with connect(clocked, codec) as back:
            await back.hello(token=token)
            snap = await back.expect("snapshot")
            assert snap["version"] > version_before_drop
            view = await a.until_view(match, lambda v: v["players"][b_seat]["online"])
            assert view["players"][b_seat]["grace"] is None


async def test_grace_expiry_abandons_and_later_rejoin_is_read_only(
    clocked: ServerProcess, codec: str
) -> None:
    async with connect(clocked, codec) as a, connect(clocked, codec) as b:
        await a.hello("winner")
        await b.hello("quitter")
        match, seats = await quick_match(a, b, "tictactoe")
        await play_out(seats, match, [4, 0])
        b_seat = b.views[match]["you"]
        token = b.token
        await b.close()
        await a.until_view(match, lambda v: not v["players"][b_seat]["online"])
        advance_clock(clocked, GRACE_MS - 1)
        assert a.views[match]["status"] == "active"
        advance_clock(clocked, 1)
        final = await a.until_view(match, lambda v: v["status"] == "finished")
        assert final["result"]["reason"] == "abandoned"
        assert final["result"]["winner"] == 1 - b_seat
        async with connect(clocked, codec) as late:
            welcome = await late.hello(token=token)
            assert match not in welcome["matches"]
            snap = await late.request({"type": "sync", "match": match})
            assert snap["view"]["status"] == "finished" and snap["view"]["you"] == b_seat
            refused = await late.request({"type": "move", "match": match, "move": 8})
            assert refused["code"] == "match_over"


async def test_rejoin_just_before_grace_ends(clocked: ServerProcess, codec: str) -> None:
    async with connect(clocked, codec) as a, connect(clocked, codec) as b:
        await a.hello()
        await b.hello()
        match, seats = await quick_match(a, b, "tictactoe")
        await play_out(seats, match, [4, 0])
        token, b_seat = b.token, b.views[match]["you"]
        await b.close()
        await a.until_view(match, lambda v: not v["players"][b_seat]["online"])
        advance_clock(clocked, GRACE_MS - 1)
        async with connect(clocked, codec) as back:
            welcome = await back.hello(token=token)
            assert welcome["matches"] == [match]
            await a.until_view(match, lambda v: v["players"][b_seat]["online"])
            advance_clock(clocked, 5_000)
            snap = await back.expect("snapshot")
            assert snap["view"]["status"] == "active"
            assert a.views[match]["status"] == "active"


async def test_turn_timeout_and_abort(clocked: ServerProcess, codec: str) -> None:
    async with connect(clocked, codec) as a, connect(clocked, codec) as b:
        await a.hello()
        await b.hello()
        match, seats = await quick_match(a, b, "connect4")
        assert a.views[match]["deadline"] is not None
        advance_clock(clocked, FIRST_MS)
        aborted = await a.until_view(match, lambda v: v["status"] == "finished")
        assert aborted["result"] == {"winner": None, "reason": "aborted", "line": []}

        match, seats = await quick_match(a, b, "connect4")
        await play_out(seats, match, [3, 3])
        deadline = seats[0].views[match]["deadline"]
        advance_clock(clocked, TURN_MS)
        timed_out = await a.until_view(match, lambda v: v["status"] == "finished")
        assert timed_out["result"]["reason"] == "timeout"
        assert timed_out["result"]["winner"] == 1
        assert deadline is not None


async def test_newer_connection_takes_over(server: ServerProcess, codec: str) -> None:
    async with connect(server, codec) as a, connect(server, codec) as b:
        await a.hello()
        await b.hello()
        match, seats = await quick_match(a, b, "tictactoe")
        async with connect(server, codec) as a2:
            welcome = await a2.hello(token=a.token)
            assert welcome["player"] == a.player and welcome["matches"] == [match]
            await a.closed.wait()
            assert a.close_code == 4009
            await a2.expect("snapshot")
            seats = {a2.views[match]["you"]: a2, b.views[match]["you"]: b}
            await play_out(seats, match, TTT_WIN)
            final = await b.until_view(match, lambda v: v["status"] == "finished")
            assert final["moves"] == TTT_WIN
            assert all(p["online"] for p in final["players"])


async def test_a_token_never_acts_in_another_seat(server: ServerProcess, codec: str) -> None:
    async with connect(server, codec) as a, connect(server, codec) as b, \
            connect(server, codec) as c:
        await a.hello()
        await b.hello()
        await c.hello()
        match, seats = await quick_match(a, b, "tictactoe")
        waiting = seats[1]
        answer = await waiting.request({"type": "move", "match": match, "move": 4})
        assert answer["code"] == "not_your_turn"
        answer = await waiting.request({"type": "move", "match": match, "move": 4, "seat": 0})
        assert answer["code"] == "bad_message"
        answer = await c.request({"type": "move", "match": match, "move": 4})
        assert answer["code"] == "not_a_player"
        assert seats[0].views[match]["moves"] == []


async def test_rematch_swaps_seats(server: ServerProcess, codec: str) -> None:
    async with connect(server, codec) as a, connect(server, codec) as b:
        await a.hello()
        await b.hello()
        match, seats = await quick_match(a, b, "tictactoe")
        await play_out(seats, match, TTT_WIN)
        offer = await seats[1].request({"type": "rematch", "match": match})
        assert offer["type"] == "ack"
        shown = await seats[0].until_view(match, lambda v: v["rematch"] == [False, True])
        assert shown["status"] == "finished"
        accept = await seats[0].request({"type": "rematch", "match": match})
        assert accept["type"] == "ack"
        fresh = {}
        for seat, client in seats.items():
            snap = await client.expect(
                lambda m: m.get("type") == "snapshot" and m["match"] != match)
            assert snap["view"]["you"] == 1 - seat and snap["view"]["status"] == "active"
            fresh[1 - seat] = client
        new_match = snap["match"]
        await play_out(fresh, new_match, TTT_WIN)
        final = await fresh[0].until_view(new_match, lambda v: v["status"] == "finished")
        assert final["result"]["winner"] == 0


async def test_room_clocks_and_sync_since_gives_exactly_the_missed_patches(
    clocked: ServerProcess, codec: str
) -> None:
    async with connect(clocked, codec) as a, connect(clocked, codec) as b:
        match, seats = await seated(a, b, "connect4", turn_seconds=7, grace_seconds=9)
        await play_out(seats, match, [3, 3])
        now = advance_clock(clocked, 0)
        assert seats[0].views[match]["deadline"] == now + 7_000
        since = seats[1].versions[match]
        token, seat1 = seats[1].token, seats[1].views[match]["you"]
        await seats[1].close()
        dropped = await seats[0].until_view(match, lambda v: not v["players"][seat1]["online"])
        assert dropped["players"][seat1]["grace"] == now + 9_000
        await play_out({0: seats[0], 1: seats[0]}, match, [4])
        async with connect(clocked, codec) as back:
            await back.hello(token=token)
            await back.expect("snapshot")
            await back.until_view(match, lambda v: v["players"][seat1]["online"])
            current = back.versions[match]
            back.views.pop(match)
            back.inbox.clear()
            await back.send({"type": "sync", "match": match, "since": since})
            patches = [await back.expect("patch") for _ in range(current - since)]
            assert [p["version"] for p in patches] == list(range(since + 1, current + 1))


async def test_sync_after_the_end_resends_the_last_versions_or_a_snapshot(
    server: ServerProcess, codec: str
) -> None:
    async with connect(server, codec) as a, connect(server, codec) as b:
        match, seats = await seated(a, b, "tictactoe")
        await play_out(seats, match, TTT_WIN)
        await a.until_view(match, lambda v: v["status"] == "finished")
        final = a.versions[match]
        assert final > 5  # enough versions that the early ones are gone
        a.views.pop(match)  # this client would refuse patches it already has
        a.inbox.clear()
        await a.send({"type": "sync", "match": match, "since": final - 2})
        patches = [await a.expect("patch") for _ in range(2)]
        assert [p["version"] for p in patches] == [final - 1, final]
        assert (await a.expect("ack"))["version"] == final
        await a.send({"type": "sync", "match": match, "since": 1})
        snapshot = await a.expect("snapshot")
        assert snapshot["version"] == final and snapshot["view"]["status"] == "finished"
