"""RELIABILITY.md (issue 15, finding 9): bot work is shared fairly between matches.

A flood of bot matches from one address must not end, nor starve, another player's
bot match; each player and each address has a limit of bot matches in play; a worker
stuck past its deadline is killed alone; and no worker outlives the server.
Misbehaving strategies come from tests/hostile/bot_plugins.py (GAME_BOT_PLUGINS).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

from tests.hostile.conftest import serving
from tests.hostile.harness import assert_clean_logs, wait_until
from tests.support import Client, ServerProcess, connect, start_server

BUDGET = 0.5
DEADLINE = 2 * BUDGET + 1  # a worker interrupts its search after this
KILL_AFTER = DEADLINE + 5  # the server kills a worker that still has not answered
PLUGINS = {"stalls": "tests.hostile.bot_plugins:stalls",
           "stuck": "tests.hostile.bot_plugins:stuck",
           "slow": "tests.hostile.bot_plugins:slow"}
PER_PLAYER = 3  # the defaults of max_bot_matches_per_player / _per_address
PER_ADDRESS = 10


@pytest.fixture(scope="module")
def fair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serving(tmp_path_factory.mktemp("fair"), bot_time_budget=BUDGET,
                       bot_plugins=PLUGINS)


def guest(server: ServerProcess, host: str) -> contextlib.AbstractAsyncContextManager[Client]:
    return connect(server, local_addr=(host, 0))


async def start_bot_match(client: Client, level: str, game: str = "tictactoe") -> dict[
        str, object]:
    """The server's answer to play_bot, the bot moving first: a snapshot or an error."""
    return await client.request({"type": "play_bot", "game": game, "level": level, "seat": 1})


def live(client: Client) -> list[str]:
    return [match for match, view in client.views.items() if view["status"] != "finished"]


@dataclass
class Flood:
    """Guests from one address starting bot matches whenever they are let, and
    recording how many of theirs were in play at once."""

    server: ServerProcess
    level: str
    host: str = "127.0.0.1"
    guests: int = 5
    cap: int = 10  # matches a guest tries to hold (the old server allowed 10 each)
    started: int = 0
    refused: list[str] = field(default_factory=list)
    most_in_play: int = 0
    clients: list[Client] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        async with contextlib.AsyncExitStack() as stack:
            for index in range(self.guests):
                client = await stack.enter_async_context(guest(self.server, self.host))
                await client.hello(f"flooder {index}")
                self.clients.append(client)
            await asyncio.gather(*(self._keep_going(client, stop) for client in self.clients))

    async def _keep_going(self, client: Client, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if len(live(client)) >= self.cap:
                await self._one_ends(client, stop)
                continue
            answer = await start_bot_match(client, self.level)
            if answer["type"] == "snapshot":
                self.started += 1
                self.most_in_play = max(self.most_in_play,
                                        sum(len(live(c)) for c in self.clients))
                continue
            assert answer["type"] == "error", answer
            assert answer["code"] == "rate_limited", answer
            self.refused.append(str(answer["message"]))
            await self._one_ends(client, stop)

    @staticmethod
    async def _one_ends(client: Client, stop: asyncio.Event) -> None:
        """Until one of this guest's matches ends (its bot overruns and resigns); a
        guest refused without one in play retries after a moment, like an attacker."""
        mine = live(client)
        if not mine:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
            return
        await client.until_view(mine[0], lambda v: v["status"] == "finished", timeout=60)


@contextlib.asynccontextmanager
async def flooding(flood: Flood) -> AsyncIterator[Flood]:
    stop = asyncio.Event()
    task = asyncio.create_task(flood.run(stop))
    try:
        await wait_until(_started(flood, PER_ADDRESS), what="the flood to start")
        yield flood
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _started(flood: Flood, count: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return flood.started >= count
    return probe


async def play_timing_the_bot(client: Client, match: str, seed: int) -> tuple[
        dict[str, object], list[float]]:
    """Play random legal moves until the match is over; the seconds each bot move took
    (from our move's ack to the bot's move arriving)."""
    rng = random.Random(seed)
    waits: list[float] = []
    since = time.monotonic()
    while True:
        view = await client.until_view(
            match, lambda v: v["status"] == "finished" or v["turn"] == v["you"], timeout=60)
        waits.append(time.monotonic() - since)
        if view["status"] == "finished":
            return view, waits
        ack = await client.request({"type": "move", "match": match,
                                    "move": rng.choice(view["legal"]),
                                    "version": client.versions[match]})
        assert ack["type"] == "ack", ack
        since = time.monotonic()


async def test_a_flood_of_bot_matches_leaves_another_players_bot_alone(
    fair: ServerProcess,
) -> None:
    """Guests from one address keep as many overrunning bot matches going as they are
    let; a player from another address plays an easy bot meanwhile. Its bot never
    resigns for want of a worker, and waits at most about one overrun for one."""
    async with flooding(Flood(fair, "stalls")) as flood, guest(fair, "127.0.0.3") as other:
        await other.hello("other")
        answer = await start_bot_match(other, "easy", "connect4")
        assert answer["type"] == "snapshot", answer
        final, waits = await play_timing_the_bot(other, str(answer["match"]), seed=1)
        assert final["result"]["reason"] != "resign", final  # type: ignore[index]
        # fair shares: one overrunning search per worker ahead of it at most, while
        # on the old server it queued behind the whole flood (and was resigned)
        assert max(waits) < KILL_AFTER + DEADLINE, waits
    assert flood.most_in_play <= PER_ADDRESS, flood.most_in_play
    assert flood.refused, "the flood was never refused"


async def test_bot_matches_are_limited_per_player_and_per_address(fair: ServerProcess) -> None:
    """The bot (random) answers at once and then waits for its human, who never moves:
    every match stays in play until the test resigns it."""
    async with contextlib.AsyncExitStack() as stack:
        guests = [await stack.enter_async_context(guest(fair, "127.0.0.4")) for _ in range(4)]
        for index, client in enumerate(guests):
            await client.hello(f"guest {index}")
        first = guests[0]
        mine = [str((await start_bot_match(first, "random"))["match"])
                for _ in range(PER_PLAYER)]
        refused = await start_bot_match(first, "random")
        assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
        assert "bot matches" in str(refused["message"])
        # more guests from the same address: refused once the address has its share
        answers = [await start_bot_match(client, "random") for client in guests[1:]
                   for _ in range(PER_PLAYER)]
        granted = [a for a in answers if a["type"] == "snapshot"]
        assert len(granted) == PER_ADDRESS - PER_PLAYER
        refusals = [a for a in answers if a["type"] == "error"]
        assert refusals and all(a["code"] == "rate_limited" for a in refusals), refusals
        assert "address" in str(refusals[0]["message"])
        # another address is not affected by this one's share
        async with guest(fair, "127.0.0.5") as elsewhere:
            await elsewhere.hello("elsewhere")
            assert (await start_bot_match(elsewhere, "random"))["type"] == "snapshot"
        # a rematch (the bot always accepts) is a bot match in play like any other
        assert (await first.request({"type": "resign", "match": mine[0]}))["type"] == "ack"
        ack = await first.request({"type": "rematch", "match": mine[0]})
        assert ack["type"] == "ack", ack
        await first.until_view(mine[0], lambda v: v["status"] == "finished")
        await wait_until(_live_count(first, PER_PLAYER), what="the rematch to start")
        refused = await start_bot_match(first, "random")
        assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
        # a match that ends gives its place back
        assert (await first.request({"type": "resign", "match": mine[1]}))["type"] == "ack"
        assert (await start_bot_match(first, "random"))["type"] == "snapshot"
        # rematching an old match starts one too: refused at the limit, like play_bot
        refused = await first.request({"type": "rematch", "match": mine[1]})
        assert refused["type"] == "error" and refused["code"] == "rate_limited", refused


def _live_count(client: Client, count: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return len(live(client)) >= count
    return probe


async def test_a_stuck_worker_is_killed_without_ending_other_searches(
    fair: ServerProcess,
) -> None:
    """A search that ignores its worker's own timer (as in C code) is ended by killing
    that one worker; a search in progress on another worker then still answers."""
    async with guest(fair, "127.0.0.6") as owner, guest(fair, "127.0.0.7") as other:
        await owner.hello("owner")
        await other.hello("other")
        slow = await start_bot_match(other, "slow", "connect4")
        stuck = await start_bot_match(owner, "stuck")
        assert slow["type"] == stuck["type"] == "snapshot", (slow, stuck)
        slow_match, stuck_match = str(slow["match"]), str(stuck["match"])
        player = asyncio.create_task(play_timing_the_bot(other, slow_match, seed=2))
        try:
            view = await owner.until_view(stuck_match, lambda v: v["status"] == "finished",
                                          timeout=KILL_AFTER + 15)
            assert view["result"]["reason"] == "resign" and view["result"]["winner"] == 1
            # the slow bot was thinking when the stuck worker was killed: that move, and
            # the next, still come
            played = len(other.views[slow_match]["moves"])
            await other.until_view(slow_match, lambda v: len(v["moves"]) >= played + 2
                                   or v["status"] == "finished", timeout=30)
        finally:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
        result = other.views[slow_match].get("result")
        assert result is None or result["reason"] != "resign", result  # the bot's resign


def children_of(server: ServerProcess) -> list[psutil.Process]:
    """The bot workers (and multiprocessing's resource tracker) the server started."""
    assert server.process is not None
    children: list[psutil.Process] = psutil.Process(server.process.pid).children(recursive=True)
    return children


def gone(processes: list[psutil.Process]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    return False
        return True
    return probe


async def _busy_workers(server: ServerProcess, count: int) -> list[psutil.Process]:
    """Start `count` bot searches (one per worker) and the worker processes."""
    async with contextlib.AsyncExitStack() as stack:
        for index in range(count):
            client = await stack.enter_async_context(guest(server, "127.0.0.8"))
            await client.hello(f"busy {index}")
            assert (await start_bot_match(client, "stalls"))["type"] == "snapshot"

        async def all_started() -> bool:
            workers = [child for child in children_of(server)
                       if "spawn_main" in " ".join(child.cmdline())]
            return len(workers) >= count
        await wait_until(all_started, what="the bot workers to start")
        return children_of(server)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
async def test_no_bot_worker_outlives_the_server(tmp_path: Path, how: signal.Signals) -> None:
    """Killed, the workers notice their parent is gone; stopped (SIGTERM, SIGINT: see
    also tests/ops/test_drain.py), the server ends them itself."""
    server = start_server(tmp_path, bot_time_budget=5.0, bot_workers=2, bot_plugins=PLUGINS)
    try:
        workers = await _busy_workers(server, 2)
        assert len(workers) >= 2
    finally:
        server.stop(how)
    await wait_until(gone(workers), deadline=10, what="the bot workers to exit")


async def test_new_bot_matches_are_refused_while_too_many_turns_wait(tmp_path: Path) -> None:
    """One worker, at most one waiting turn: with one search running and one waiting, a
    new bot match is refused; once the queue drains it is let in."""
    server = start_server(tmp_path, bot_time_budget=BUDGET, bot_workers=1, bot_queue_limit=1,
                          bot_plugins=PLUGINS)
    try:
        async with guest(server, "127.0.0.9") as a, guest(server, "127.0.0.10") as b, \
                guest(server, "127.0.0.11") as c:
            for client, name in ((a, "a"), (b, "b"), (c, "c")):
                await client.hello(name)
            running = await start_bot_match(a, "stalls")
            waiting = await start_bot_match(b, "stalls")
            assert running["type"] == waiting["type"] == "snapshot", (running, waiting)
            refused = await start_bot_match(c, "random")
            assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
            assert "busy" in str(refused["message"])
            # both stalled bots overrun in turn and resign; then there is room again
            await b.until_view(str(waiting["match"]), lambda v: v["status"] == "finished")
            assert (await start_bot_match(c, "random"))["type"] == "snapshot"
    finally:
        server.stop()
    assert_clean_logs(server)
