"""Othello through a real server: whole games against the built-in bots (test client and
SDK), a game with passes (two clients, a spectator, and a bot that moves three times in
a row), the result by score, and /api/games.

Every snapshot and patch a test client receives is checked against the schema and its
hash (tests/support.py), so these games also check the views' board diffs (a move flips
many cells) and the `null` of a pass in `moves`."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from game.client import Bot, GameResult, View, VsBot
from game.client import Client as SdkClient
from game.core.match import PlayMove, Seat, TimeControl, handle, new_match
from game.core.records import from_record, to_record
from game.games.othello import GAME
from game.games.othello.fixtures import TWO_PASSES, WIPEOUT
from game.games.othello.rules import OTHELLO
from tests.support import Client, ServerProcess, connect, seated, start_server

TIMEOUT = 30.0


def check_finished_by_score(view: dict[str, Any]) -> None:
    """A finished othello view: reason `score`, the counts are the board's discs, the
    winner has more, and the moves are the game's record (passes as null)."""
    assert view["status"] == "finished", view["status"]
    result = view["result"]
    board = view["board"]
    counts = [board.count(0), board.count(1)]
    assert result["reason"] == "score" and result["line"] == []
    assert result["score"] == counts and sum(counts) == 64 - board.count(None)
    assert result["winner"] == (None if counts[0] == counts[1] else int(counts[1] > counts[0]))
    played = [m for m in view["moves"] if m is not None]
    assert view["moves"] == OTHELLO.record(played)
    final = OTHELLO.replay(played)
    assert final.is_over and final.board() == board
    assert view["turn"] is None and view["legal"] == [] and view["deadline"] is None


async def until_version(client: Client, match: str, version: int) -> dict[str, Any]:
    return await client.until_view(match, lambda v: client.versions[match] >= version,
                                   TIMEOUT)


async def play_against(human: Client, match: str, choose: Any) -> dict[str, Any]:
    """Play `human`'s moves (chosen by `choose(view)`) until the match is over."""
    while True:
        view = await human.until_view(
            match, lambda v: v["status"] == "finished" or v["turn"] == v["you"], TIMEOUT)
        if view["status"] == "finished":
            return view
        ack = await human.request({"type": "move", "match": match, "move": choose(view),
                                   "version": human.versions[match]})
        assert ack["type"] == "ack", ack
        await until_version(human, match, ack["version"])


@pytest.fixture(scope="module")
def plugin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose `fixture` level plays TWO_PASSES' moves."""
    proc = start_server(Path(tmp_path_factory.mktemp("othello")), bot_plugins={
        "fixture": "tests.games.othello.fixture_bot:two_passes"})
    yield proc
    proc.stop()


def test_api_games_lists_othello(server: ServerProcess) -> None:
    games = httpx.get(f"{server.http}/api/games", timeout=10).json()["games"]
    othello = next(g for g in games if g["id"] == "othello")
    assert othello == GAME.metadata()
    assert (othello["title"], othello["rows"], othello["cols"]) == ("Othello", 8, 8)
    assert othello["bot_levels"] == ["random", "easy", "medium", "hard"]
    assert othello["seats"] == ["Black", "White"] and othello["move"] == "cell"
    assert othello["cells"][:3] == ["a1", "b1", "c1"] and othello["cells"][63] == "h8"
    assert othello["sentences"]["pass"] == "{mover} had no legal move and passed."
    assert set(othello["sentences"]["results"]) == {"score", "draw"}


async def test_a_whole_game_against_the_random_bot(server: ServerProcess, codec: str) -> None:
    rng = random.Random(codec)
    async with connect(server, codec) as human:
        await human.hello("othello-human")
        await human.send({"type": "play_bot", "game": "othello", "level": "random"})
        snap = await human.expect("snapshot")
        match = snap["match"]
        start = snap["view"]
        assert start["game"] == "othello" and len(start["board"]) == 64
        assert start["board"] == OTHELLO.initial().board()
        view = await play_against(human, match, lambda v: rng.choice(v["legal"]))
    check_finished_by_score(view)
    server_view = httpx.get(f"{server.http}/api/matches/{match}", timeout=10).json()["view"]
    for key in ("board", "moves", "result"):
        assert server_view[key] == view[key]
    server.check_sent_messages()


class RandomSdkBot(Bot):
    name = "sdk-othello"

    def __init__(self) -> None:
        self.rng = random.Random(9)

    def choose(self, view: View) -> int:
        return int(self.rng.choice(view["legal"]))


async def test_the_sdk_plays_othello_against_each_seat_of_a_bot(server: ServerProcess) -> None:
    results: list[GameResult] = []
    async with SdkClient(server.ws, name="sdk-othello") as client:
        score = await asyncio.wait_for(run_two(client, server, results), TIMEOUT)
        assert score == 2 and [r.seat for r in results] == [0, 1]
        for result in results:
            assert result.game == "othello" and result.reason == "score"
            mine = client.view(result.match)
            check_finished_by_score(dict(mine))
            server_view = httpx.get(f"{server.http}/api/matches/{result.match}",
                                    timeout=10).json()["view"]
            for key in ("board", "moves", "result", "status"):
                assert mine[key] == server_view[key]
        assert client.stats.hash_mismatches == 0 and client.stats.gaps == 0
        assert client.stats.patches > 0


async def run_two(client: SdkClient, server: ServerProcess, results: list[GameResult]) -> int:
    from game.client import run_games

    score = await run_games(RandomSdkBot(), server.ws, games=2, game="othello",
                            mode=VsBot("easy"), client=client,
                            on_result=lambda i, r, s: results.append(r))
    return score.played


async def test_passes_are_null_in_moves_for_players_and_spectators(
    server: ServerProcess, codec: str
) -> None:
    record = TWO_PASSES.record
    async with connect(server, codec) as a, connect(server, codec) as b, \
            connect(server, codec) as spectator:
        match, players = await seated(a, b, "othello")
        await spectator.hello("othello-watcher")
        assert (await spectator.request({"type": "watch", "match": match}))["type"] == "snapshot"
        clients = (a, b, spectator)
        for index, move in enumerate(TWO_PASSES.moves):
            view = players[0].views[match]
            mover = players[view["turn"]]
            ack = await mover.request({"type": "move", "match": match, "move": move,
                                       "version": mover.versions[match]})
            assert ack["type"] == "ack", (index, ack)
            for client in clients:
                seen = await until_version(client, match, ack["version"])
                played = [m for m in seen["moves"] if m is not None]
                assert seen["moves"] == OTHELLO.record(played)
            if index == 57:  # white's move that leaves black without one
                assert seen["moves"][-2:] == [move, None] and seen["turn"] == 1
                assert b.views[match]["you"] == 1 or a.views[match]["you"] == 1
                assert players[1].views[match]["legal"] and not players[0].views[match]["legal"]
        for client in clients:
            final = client.views[match]
            assert final["moves"] == record and final["moves"].count(None) == 2
            assert final["result"] == {"winner": TWO_PASSES.winner, "reason": "score",
                                       "line": [], "score": list(TWO_PASSES.score or ())}
            check_finished_by_score(final)
    server.check_sent_messages()


async def test_a_bot_moves_again_when_its_opponent_is_passed(
    plugin_server: ServerProcess,
) -> None:
    """The `fixture` bot (white) plays TWO_PASSES' last three moves in a row."""
    black = iter(m for i, m in enumerate(TWO_PASSES.moves) if i % 2 == 0 and i < 58)
    async with connect(plugin_server) as human:
        await human.hello("passed-over")
        await human.send({"type": "play_bot", "game": "othello", "level": "fixture"})
        snap = await human.expect("snapshot")
        assert snap["view"]["you"] == 0
        view = await play_against(human, snap["match"], lambda v: next(black))
    assert view["moves"] == TWO_PASSES.record
    assert view["result"]["score"] == list(TWO_PASSES.score or ())
    check_finished_by_score(view)
    assert "bot_failed" not in plugin_server.logs()


async def test_the_hard_bot_plays_a_whole_game_within_its_budget(
    server: ServerProcess,
) -> None:
    """GAME_BOT_TIME_BUDGET is 0.2 s on test servers: a bot that overran would resign."""
    rng = random.Random(3)
    async with connect(server) as human:
        await human.hello("vs-hard")
        await human.send({"type": "play_bot", "game": "othello", "level": "hard"})
        snap = await human.expect("snapshot")
        view = await play_against(human, snap["match"], lambda v: rng.choice(v["legal"]))
    check_finished_by_score(view)
    assert view["players"][1]["bot"] is True
    assert "bot_failed" not in server.logs()


def test_records_keep_the_score_and_the_passes() -> None:
    seats = (Seat("p0", "a"), Seat("p1", "b"))
    match = new_match("m1", "othello", TimeControl(), 0, seats)
    for index, move in enumerate(TWO_PASSES.moves):
        transition = handle(match, PlayMove(f"p{match.turn}", move), index)
        assert transition.error is None, (index, transition.error)
        match = transition.match
    assert list(match.moves) == TWO_PASSES.record
    assert match.result is not None and match.result.score == TWO_PASSES.score
    data = to_record(match)
    assert data["result"]["score"] == list(TWO_PASSES.score or ())
    again = from_record(data)
    assert again.result == match.result and again.moves == match.moves
    assert again.position == match.position
    legacy = dict(data, result={k: v for k, v in data["result"].items() if k != "score"})
    assert from_record(legacy).result.score is None  # type: ignore[union-attr]


def test_a_wipeout_ends_by_score_before_the_board_is_full() -> None:
    seats = (Seat("p0", "a"), Seat("p1", "b"))
    match = new_match("m2", "othello", TimeControl(), 0, seats)
    for index, move in enumerate(WIPEOUT.moves):
        match = handle(match, PlayMove(f"p{match.turn}", move), index).match
    assert match.result is not None
    assert (match.result.winner, match.result.reason.value, match.result.score) == (
        0, "score", (13, 0))
