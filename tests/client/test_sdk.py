"""The Python SDK against real servers: bots play to the end in both codecs, local views
stay in step (and are repaired after a gap or a hash mismatch), matches survive a
server restart, and a replaced connection steps aside."""

from __future__ import annotations

import asyncio
import copy
import random
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from game.client import (
    Backoff,
    Bot,
    Client,
    ClientClosed,
    CodecName,
    Disconnected,
    Event,
    GameResult,
    Patch,
    RoomCode,
    Score,
    ServerError,
    Snapshot,
    View,
    VsBot,
    Welcome,
    run_games,
)
from tests.support import ServerProcess, connect, start_server

TIMEOUT = 20.0
FAST = Backoff(initial=0.05, maximum=0.5, give_up_after=30.0)


class RandomBot(Bot):
    name = "sdk-random"

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []
        self.rng = random.Random(5)

    def choose(self, view: View) -> int:
        assert view["turn"] == view["you"] and view["legal"]
        return int(self.rng.choice(view["legal"]))

    def on_start(self, match: str, view: View) -> None:
        self.started.append(match)

    def on_end(self, match: str, view: View) -> None:
        assert view["status"] == "finished"
        self.ended.append(match)


@pytest.mark.parametrize(("game", "level"), [("connect4", "medium"), ("tictactoe", "hard")])
async def test_sdk_bot_plays_builtin_bots_to_the_end(
    server: ServerProcess, codec: CodecName, game: str, level: str
) -> None:
    bot = RandomBot()
    results: list[GameResult] = []
    async with Client(server.ws, name="sdk", codec=codec) as client:
        score = await asyncio.wait_for(run_games(
            bot, server.ws, games=2, game=game, mode=VsBot(level), client=client,
            on_result=lambda i, r, s: results.append(r)), TIMEOUT)
        assert score.played == 2 and len(results) == 2
        assert bot.started == bot.ended == [r.match for r in results]
        assert [r.seat for r in results] == [0, 1]  # seats alternate
        for result in results:
            assert result.reason in ("line", "draw")
            server_view = httpx.get(f"{server.http}/api/matches/{result.match}").json()["view"]
            mine = client.view(result.match)
            for key in ("board", "moves", "result", "status"):
                assert mine[key] == server_view[key]
        if level == "hard":
            assert score.wins == 0  # nobody beats perfect tic-tac-toe
        assert client.stats.hash_mismatches == 0 and client.stats.gaps == 0
        assert client.stats.patches > 0


async def test_events_requests_and_errors(server: ServerProcess, codec: CodecName) -> None:
    async with Client(server.ws, name="eventful", codec=codec) as client:
        assert await client.ping() >= 0
        with pytest.raises(ServerError) as refused:
            await client.play_bot("chess", "random")
        assert refused.value.code == "unknown_game"
        with pytest.raises(ServerError) as refused:
            await client.move("no-such-match", 3)
        assert refused.value.code == "unknown_match"
        match = await client.play_bot("tictactoe", "random", seat=1)
        await client.wait_view(match, lambda v: len(v["moves"]) == 1, TIMEOUT)
        with pytest.raises(ServerError) as refused:
            await client.move(match, client.view(match)["moves"][0])
        assert refused.value.code == "illegal_move"
        await client.resign(match)
        assert client.view(match)["result"]["reason"] == "resign"
        new = await client.rematch(match, timeout=TIMEOUT)  # the bot accepts at once
        assert new is not None and new != match and client.view(new)["you"] == 0
        await client.resign(new)
        queued = await client.queue("connect4")
        assert queued.game == "connect4"
        assert (await client.unqueue()).game == "connect4"
        await client.close()
        seen: list[Event] = [event async for event in client.events()]
    kinds = [type(event).__name__ for event in seen]
    assert kinds[0] == "Welcome" and isinstance(seen[0], Welcome)
    assert {"Pong", "ErrorEvent", "Snapshot", "Patch", "Ack", "Queued", "Unqueued"} <= set(kinds)
    snaps = [e for e in seen if isinstance(e, Snapshot)]
    assert {s.match for s in snaps} >= {match, new}
    patches = [e for e in seen if isinstance(e, Patch) and e.match == match]
    assert [p.version for p in patches] == sorted(p.version for p in patches)


async def _room_pair(server: ServerProcess, codec: CodecName) -> tuple[Client, Client, str]:
    host = Client(server.ws, name="host", codec=codec)
    guest = Client(server.ws, name="guest", codec=codec)
    await host.connect()
    await guest.connect()
    room = await host.create_room("connect4")
    match = await guest.join_room(room.code)
    assert match == room.match
    await host.wait_view(match, lambda v: v["status"] == "active", TIMEOUT)
    return host, guest, match


async def test_a_version_gap_is_repaired_with_sync_since(server: ServerProcess,
                                                         codec: CodecName) -> None:
    host, guest, match = await _room_pair(server, codec)
    try:
        seats = {host.view(match)["you"]: host, guest.view(match)["you"]: guest}
        first, second = seats[0], seats[1]
        before = (first.matches[match].version, copy.deepcopy(first.view(match)))
        await first.move(match, 3)
        # forget the last patch: the next one shows a gap of one version
        state = first.matches[match]
        state.version, state.view = before
        await second.wait_view(match, lambda v: v["turn"] == 1, TIMEOUT)
        await second.move(match, 3)
        view = await first.wait_view(match, lambda v: len(v["moves"]) == 2, TIMEOUT)
        assert first.stats.gaps == 1 and first.stats.syncs_sent == 1
        assert first.stats.hash_mismatches == 0
        assert view["moves"] == [3, 3] and first.matches[match].version == \
            second.matches[match].version
        await first.move(match, 4)  # and play goes on
        await second.wait_view(match, lambda v: v["moves"] == [3, 3, 4], TIMEOUT)
    finally:
        await host.close()
        await guest.close()


async def test_a_hash_mismatch_is_repaired_with_a_snapshot(server: ServerProcess,
                                                           codec: CodecName) -> None:
    host, guest, match = await _room_pair(server, codec)
    try:
        seats = {host.view(match)["you"]: host, guest.view(match)["you"]: guest}
        first, second = seats[0], seats[1]
        await first.move(match, 2)
        first.matches[match].view["board"][0] = 1  # corrupt the local copy
        snapshots = first.stats.snapshots
        await second.wait_view(match, lambda v: v["turn"] == 1, TIMEOUT)
        await second.move(match, 5)
        view = await first.wait_view(match, lambda v: len(v["moves"]) == 2, TIMEOUT)
        assert first.stats.hash_mismatches == 1 and first.stats.snapshots == snapshots + 1
        assert view["board"][0] is None and view["moves"] == [2, 5]
        assert view["board"] == second.view(match)["board"]
    finally:
        await host.close()
        await guest.close()


async def test_room_games_then_rematches_between_two_sdk_bots(server: ServerProcess) -> None:
    code: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_status(text: str) -> None:
        if text.startswith("room ") and not code.done():
            code.set_result(text.split()[1].rstrip(":"))

    host = asyncio.ensure_future(run_games(
        RandomBot(), server.ws, games=2, game="tictactoe", mode=RoomCode(), name="host",
        on_status=on_status))
    guest_score = await asyncio.wait_for(run_games(
        RandomBot(), server.ws, games=2, game="tictactoe",
        mode=RoomCode(await asyncio.wait_for(code, TIMEOUT)), name="guest", codec="msgpack"),
        TIMEOUT)
    host_score: Score = await asyncio.wait_for(host, TIMEOUT)
    assert host_score.played == guest_score.played == 2
    assert host_score.wins == guest_score.losses and host_score.draws == guest_score.draws
    # seats swap in a rematch
    assert [r.seat for r in host_score.results] == [0, 1]


async def test_watch_and_unwatch(server: ServerProcess, codec: CodecName) -> None:
    async with Client(server.ws, name="player", codec=codec) as player, \
            Client(server.ws, name="fan", codec=codec) as fan:
        match = await player.play_bot("connect4", "random", seat=1)
        view = await fan.watch(match)
        assert view["you"] is None and match in fan.watching
        await player.wait_view(match, lambda v: v["watchers"] == 1, TIMEOUT)
        await player.wait_view(match, lambda v: v["turn"] == 1, TIMEOUT)
        await player.move(match, player.view(match)["legal"][0])
        await fan.wait_view(match, lambda v: len(v["moves"]) >= 2, TIMEOUT)
        await fan.unwatch(match)
        assert match not in fan.watching
        await player.wait_view(match, lambda v: v["watchers"] == 0, TIMEOUT)
        await player.resign(match)


class Pausing(RandomBot):
    """Stops to think at its third move and again at its fourth (moving first: with 4
    and then 6 moves played, when the game cannot be over yet), each time until the
    test lets it go."""

    AT = (4, 6)

    def __init__(self) -> None:
        super().__init__()
        self.thinking = [asyncio.Event() for _ in self.AT]
        self.go = [asyncio.Event() for _ in self.AT]

    # `Bot.choose` may be a coroutine; RandomBot narrowed it to a plain int.
    async def choose(self, view: View) -> int:  # type: ignore[override]
        for at, thinking, go in zip(self.AT, self.thinking, self.go, strict=True):
            if len(view["moves"]) >= at and not go.is_set():
                thinking.set()
                await go.wait()
        return super().choose(view)


async def test_sdk_resumes_its_match_across_server_restarts(tmp_path: Path) -> None:
    """A bot thinking while its server goes: by SIGTERM (told, drained), then, on the
    server that replaced it, by SIGKILL (nothing told). Each replacement listens on the
    same port and database; the SDK reconnects with the same token both times, the bot's
    move goes through, and the match is played to the end, seen the same by a watcher.

    (One match through both restarts rather than a server pair per signal: each restart
    still catches the bot mid-thought.)"""
    servers = [start_server(tmp_path, db=str(tmp_path / "game.sqlite3"))]
    bot = Pausing()
    player = Client(servers[0].ws, name="survivor", codec="msgpack", backoff=FAST)
    fan = Client(servers[0].ws, name="fan", backoff=FAST)
    try:
        await player.connect()
        await fan.connect()
        runner = asyncio.ensure_future(run_games(
            bot, servers[0].ws, games=1, game="connect4", mode=VsBot("random"),
            client=player))
        await asyncio.wait_for(bot.thinking[0].wait(), TIMEOUT)
        match = next(iter(player.matches))
        await fan.watch(match)
        token_before = player.token
        for pause, sig in enumerate((signal.SIGTERM, signal.SIGKILL)):
            if pause:
                await asyncio.wait_for(bot.thinking[pause].wait(), TIMEOUT)
            await asyncio.to_thread(servers[-1].stop, sig)
            servers.append(ServerProcess(servers[0].port, servers[0].env,
                                         tmp_path / f"restart-{pause}.log"))
            await asyncio.to_thread(servers[-1].start)  # the same port and database
            bot.go[pause].set()
        score = await asyncio.wait_for(runner, TIMEOUT)
        assert score.played == 1 and bot.ended == [match]
        assert player.stats.reconnects >= 2 and player.token == token_before
        final = await fan.wait_view(match, lambda v: v["status"] == "finished", TIMEOUT)
        assert final["moves"] == player.view(match)["moves"]
        assert len(final["moves"]) >= 7
        result = final["result"]
        assert result["reason"] in ("line", "draw")
        assert player.stats.hash_mismatches == fan.stats.hash_mismatches == 0
    finally:
        await player.close()
        await fan.close()
        for server in servers:
            server.stop()


async def test_a_replaced_connection_steps_aside(server: ServerProcess) -> None:
    client = Client(server.ws, name="twice", backoff=FAST)
    await client.connect()
    match = await client.play_bot("connect4", "random")
    async with connect(server) as other:
        welcome = await other.hello(token=client.token)
        assert welcome["matches"] == [match]
        await client.wait_until(lambda: client.closed, TIMEOUT)
        assert client.close_code == 4009
        with pytest.raises(ClientClosed):
            await client.ping()
        # the newer connection keeps the seat: it can still play
        await other.expect("snapshot")
        ack = await other.request({"type": "move", "match": match, "move": 3})
        assert ack["type"] == "ack"
    events = [event async for event in client.events()]
    last = [e for e in events if isinstance(e, Disconnected)]
    assert len(last) == 1 and last[0].code == 4009 and not last[0].reconnecting
    await client.close()


def test_the_sdk_docstring_examples() -> None:
    import doctest

    import game.client.bot
    import game.client.builtin
    import game.client.errors
    import game.client.events

    for module in (game.client.bot, game.client.builtin, game.client.errors,
                   game.client.events):
        failed, tried = doctest.testmod(module)
        assert failed == 0 and tried > 0, module.__name__


def test_the_sdk_imports_no_server_code() -> None:
    code = ("import sys, game.client, game.client.cli, game.client.builtin\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('fastapi', 'starlette', 'uvicorn', 'pydantic', 'structlog') "
            "or m.startswith(('game.server', 'game.store', 'game.core'))]\n"
            "print(','.join(sorted(bad)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""



async def test_matches_started_at_once_on_one_client_are_each_returned_once(
    server: ServerProcess,
) -> None:
    """Two `play_bot` calls at once, and a `quick_match` beside them, each get their own
    match: the bot matches by the ref of their snapshot, the quick match by elimination."""
    async with Client(server.ws, name="busy") as client, \
            Client(server.ws, name="partner") as partner:
        first, second = await asyncio.gather(client.play_bot("tictactoe", "random", seat=1),
                                             client.play_bot("connect4", "random", seat=1))
        assert first != second
        assert client.view(first)["game"] == "tictactoe"
        assert client.view(second)["game"] == "connect4"
        paired, bot, other = await asyncio.gather(
            client.quick_match("connect4", TIMEOUT),
            client.play_bot("tictactoe", "random", seat=1),
            partner.quick_match("connect4", TIMEOUT))
        assert len({first, second, paired, bot}) == 4 and paired == other
        assert not client.view(paired)["players"][client.view(paired)["you"] ^ 1]["bot"]
        assert client.view(bot)["players"][0]["bot"]
        for match in (first, second, paired, bot):
            await client.resign(match)
