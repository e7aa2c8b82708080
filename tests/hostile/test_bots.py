"""RELIABILITY.md case 14: a built-in bot that raises or overruns its time.

The server loads misbehaving strategies from tests/hostile/bot_plugins.py through
GAME_BOT_PLUGINS, into the same worker processes a real search runs in.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from tests.hostile.conftest import serving
from tests.hostile.harness import Bystander, ahealthz
from tests.support import Client, ServerProcess, connect

BUDGET = 0.5  # seconds; a worker interrupts a bot after 2 * BUDGET + 1


@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serving(
        tmp_path_factory.mktemp("bots"), bot_time_budget=BUDGET,  # default bot_workers
        bot_plugins={"hard": "tests.hostile.bot_plugins:raises",
                     "medium": "tests.hostile.bot_plugins:overruns",
                     "easy": "tests.hostile.bot_plugins:thinks"})


async def start_bot_match(client: Client, level: str, game: str = "tictactoe") -> str:
    await client.send({"type": "play_bot", "game": game, "level": level, "seat": 1})
    snap = await client.expect("snapshot")
    assert snap["view"]["you"] == 1 and snap["view"]["players"][0]["bot"] is True
    return str(snap["match"])


async def play_to_the_end(client: Client, match: str, seed: int) -> dict[str, object]:
    """Play random legal moves as the human until the match is over."""
    rng = random.Random(seed)
    while (final := await play_a_move(client, match, rng)) is None:
        pass
    return final


async def play_a_move(client: Client, match: str, rng: random.Random) -> dict[str, object] | None:
    """Once it is the human's turn, one random legal move (acknowledged); the final view
    instead if the match is over."""
    view = await client.until_view(
        match, lambda v: v["status"] == "finished" or v["turn"] == v["you"])
    if view["status"] == "finished":
        return view
    ack = await client.request({"type": "move", "match": match,
                                "move": rng.choice(view["legal"]),
                                "version": client.versions[match]})
    assert ack["type"] == "ack", ack
    return None


async def test_a_bot_that_raises_only_loses_its_own_match(bots: ServerProcess) -> None:
    async with Bystander(bots), connect(bots) as victim, connect(bots) as other:
        await victim.hello("victim")
        await other.hello("other")
        failing = await start_bot_match(victim, "hard")
        healthy = await start_bot_match(other, "random")
        view = await victim.until_view(failing, lambda v: v["status"] == "finished")
        assert view["result"]["reason"] == "resign" and view["result"]["winner"] == 1
        assert view["moves"] == []
        final = await play_to_the_end(other, healthy, seed=1)
        assert final["result"]["reason"] in ("line", "draw")  # type: ignore[index]
        # the failed bot's opponent goes on: a match against another level plays normally
        again = await start_bot_match(victim, "random")
        final = await play_to_the_end(victim, again, seed=2)
        assert final["result"]["reason"] in ("line", "draw")  # type: ignore[index]
        assert (await ahealthz(bots))["ok"]


async def test_an_overrunning_bot_is_stopped_and_never_blocks_the_loop(
    bots: ServerProcess,
) -> None:
    async with Bystander(bots) as bystander, connect(bots) as victim, \
            connect(bots) as other:
        await victim.hello("victim")
        await other.hello("other")
        runaway = await start_bot_match(victim, "medium")
        # While the runaway search burns a worker, the event loop keeps serving: another
        # bot match (on the other worker) gets its moves acknowledged while the runaway
        # is still thinking. Counted move by move rather than asking for the whole match
        # first: on a loaded machine a whole match could outlast the runaway's 2 s.
        healthy = await start_bot_match(other, "random")
        rng, served = random.Random(3), 0
        while victim.views[runaway]["status"] == "active":
            if await play_a_move(other, healthy, rng) is not None:
                break
            served += victim.views[runaway]["status"] == "active"
        assert served >= 1, "no move of another match was served while the runaway thought"
        final = await play_to_the_end(other, healthy, seed=3)
        await bystander.wait_moves(5)
        assert final["result"]["reason"] in ("line", "draw")  # type: ignore[index]
        view = await victim.until_view(runaway, lambda v: v["status"] == "finished")
        assert view["result"]["reason"] == "resign" and view["result"]["winner"] == 1
        # the interrupted worker is free again: two bot matches at once both play out
        first = await start_bot_match(victim, "random", "connect4")
        second = await start_bot_match(other, "random", "connect4")
        for client, match, seed in ((victim, first, 4), (other, second, 5)):
            final = await play_to_the_end(client, match, seed)
            assert final["result"]["reason"] in ("line", "draw")  # type: ignore[index]


async def test_a_long_search_runs_beside_the_loop(bots: ServerProcess) -> None:
    """A bot that thinks for its whole budget (CPU-bound, in its worker) answers, and
    the bystander moved while it was thinking."""
    async with Bystander(bots) as bystander, connect(bots) as human:
        await human.hello("human")
        match = await start_bot_match(human, "easy", "connect4")
        moves_before = bystander.moves
        view = await human.until_view(match, lambda v: len(v["moves"]) == 1)
        assert bystander.moves > moves_before
        assert view["status"] == "active" and view["turn"] == 1
        ack = await human.request({"type": "move", "match": match, "move": 3,
                                   "version": human.versions[match]})
        assert ack["type"] == "ack"
        await human.until_view(match, lambda v: len(v["moves"]) == 3)
