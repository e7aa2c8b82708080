"""History, ratings and the leaderboard in the Redis mode (issue 17 on issue 16): a
rated quick match between players on two processes is rated once, and any process
answers for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from game.core.ratings import Rating, rate_game
from tests.redis_support import RedisServer
from tests.server.cluster.support import clients, eventually, processes
from tests.support import Client, ServerProcess, play_out

X_WINS = [0, 3, 1, 4, 2]  # tic-tac-toe: seat 0 takes the top row


def get(server: ServerProcess, path: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{server.http}{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _quick_match(a: Client, b: Client) -> tuple[str, dict[int, Client]]:
    await a.hello("alice")
    await b.hello("bob")
    for client in (a, b):
        queued = await client.request({"type": "queue", "game": "tictactoe"})
        assert queued["type"] == "queued", queued
    match: str = (await a.expect("snapshot"))["match"]
    await b.until_view(match, lambda v: v["status"] == "active")
    return match, {a.views[match]["you"]: a, b.views[match]["you"]: b}


async def test_a_rated_game_across_processes_is_kept_rated_once_and_listed_anywhere(
    tmp_path: Path, redis: RedisServer,
) -> None:
    with processes(tmp_path, redis, 3) as procs:
        async with clients((procs[0], "json"), (procs[1], "msgpack")) as (a, b):
            match, players = await _quick_match(a, b)
            await play_out(players, match, X_WINS)
            winner, loser = players[0], players[1]
            await a.until_view(match, lambda v: v["status"] == "finished")
        third = procs[2]  # played on neither
        page = get(third, "/api/matches", status="finished", player=winner.player)
        assert [entry["match"] for entry in page["matches"]] == [match]
        detail = get(third, f"/api/matches/{match}")
        assert detail["moves"] == X_WINS and detail["view"]["result"]["winner"] == 0
        replay = get(third, f"/api/matches/{match}/positions")  # what /?replay= draws
        assert len(replay["positions"]) == len(X_WINS) + 1
        assert replay["positions"][-1]["board"] == detail["view"]["board"]
        expected = rate_game(Rating(), Rating(), 1.0)

        def rated() -> dict[str, Any] | None:
            profile = get(third, f"/api/players/{winner.player}")
            return profile if profile["ratings"] else None

        profile = await eventually(rated, "the winner's rating")
        entry = profile["ratings"][0]
        assert entry["game"] == "tictactoe" and entry["games"] == 1
        assert round(entry["rating"], 6) == round(expected[0].rating, 6)
        board = get(third, "/api/leaderboard", game="tictactoe")
        ranked = board["players"] + board["provisional"]
        assert [p["player"] for p in ranked] == [winner.player, loser.player]
        assert [p["games"] for p in ranked] == [1, 1]  # rated once, not per process
