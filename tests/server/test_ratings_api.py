"""Ratings (issue 17) on a real server: a quick match rates both players exactly as
`rate_game` says, in the commit that ends it, so a SIGKILL right after the finishing
move's ack neither loses nor doubles it; unrated rooms, built-in bots and mixed
human/bot-program games change nothing; bot programs rank on their own leaderboard."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from game.core.ratings import Rating, rate_game
from tests.docs.test_protocol_doc import http_section
from tests.support import Client, ServerProcess, connect, play_out, serving_sqlite

X_WINS = [0, 3, 1, 4, 2]  # tic-tac-toe: seat 0 takes the top row


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from serving_sqlite(tmp_path)


def get(server: ServerProcess, path: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{server.http}{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@contextlib.asynccontextmanager
async def two(server: ServerProcess, a_bot: bool = False,
              b_bot: bool = False) -> AsyncIterator[tuple[Client, Client]]:
    async with connect(server) as a, connect(server) as b:
        for client, name, bot in ((a, "alice", a_bot), (b, "bob", b_bot)):
            welcome = await client.request({"type": "hello", "name": name, "bot": bot})
            assert welcome["type"] == "welcome", welcome
            client.player, client.token = welcome["player"], welcome["token"]
        yield a, b


async def quick_match(a: Client, b: Client) -> tuple[str, dict[int, Client]]:
    for client in (a, b):
        queued = await client.request({"type": "queue", "game": "tictactoe"})
        assert queued["type"] == "queued", queued
    snapshot = await a.expect("snapshot")
    match: str = snapshot["match"]
    await b.until_view(match, lambda v: v["status"] == "active")
    return match, {a.views[match]["you"]: a, b.views[match]["you"]: b}


async def room_match(a: Client, b: Client, rated: bool) -> tuple[str, dict[int, Client]]:
    opened = await a.request({"type": "create_room", "game": "tictactoe", "rated": rated})
    await b.request({"type": "join_room", "code": opened["code"]})
    match: str = opened["match"]
    for client in (a, b):
        await client.until_view(match, lambda v: v["status"] == "active")
    return match, {a.views[match]["you"]: a, b.views[match]["you"]: b}


def rating_of(server: ServerProcess, player: str | None) -> dict[str, Any] | None:
    ratings = get(server, f"/api/players/{player}")["ratings"]
    assert len(ratings) <= 1
    return ratings[0] if ratings else None


def assert_rated_once(server: ServerProcess, winner: str | None, loser: str | None,
                      pool: str = "human") -> None:
    expected = rate_game(Rating(), Rating(), 1.0)
    for player, want in zip((winner, loser), expected, strict=True):
        got = rating_of(server, player)
        assert got is not None
        assert got["games"] == 1 and got["pool"] == pool and got["provisional"] is True
        assert got["rating"] == pytest.approx(want.rating, abs=1e-9)
        assert got["rd"] == pytest.approx(want.rd, abs=1e-9)
        assert got["volatility"] == pytest.approx(want.volatility, abs=1e-12)


async def test_a_quick_match_rates_both_players_and_lists_them(server: ServerProcess) -> None:
    async with two(server) as (a, b):
        match, seats = await quick_match(a, b)
        await play_out(seats, match, X_WINS)
        await a.until_view(match, lambda v: v["status"] == "finished")
    winner, loser = seats[0].player, seats[1].player
    assert_rated_once(server, winner, loser)
    board = get(server, "/api/leaderboard", game="tictactoe")
    assert board["players"] == []  # two new players: both still provisional
    assert [p["player"] for p in board["provisional"]] == [winner, loser]
    assert {p["name"] for p in board["provisional"]} == {"alice", "bob"}
    assert get(server, "/api/leaderboard", game="tictactoe", pool="bot")["provisional"] == []
    profile = get(server, f"/api/players/{winner}")
    assert profile["bot"] is False and profile["name"] in ("alice", "bob")
    assert [m["match"] for m in profile["recent"]] == [match]
    assert profile["recent"][0]["rated"] is True and profile["recent"][0]["moves"] == X_WINS
    assert_documented(board, profile)


def keys_of(value: Any) -> set[str]:
    """Every key of every object in `value`, at any depth."""
    if isinstance(value, dict):
        return set(value).union(*(keys_of(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(item) for item in value))
    return set()


def assert_documented(*answers: dict[str, Any]) -> None:
    section = http_section()
    for answer in answers:
        for key in keys_of(answer):
            assert f'"{key}"' in section, key


async def test_sigkill_after_the_finishing_ack_keeps_the_rating_once(
        server: ServerProcess) -> None:
    async with two(server) as (a, b):
        match, seats = await quick_match(a, b)
        await play_out(seats, match, X_WINS[:-1])
        last = await seats[0].request({"type": "move", "match": match, "move": X_WINS[-1],
                                       "version": seats[0].versions[match]})
        assert last["type"] == "ack", last
        server.stop(signal.SIGKILL)
    server.start()
    assert_rated_once(server, seats[0].player, seats[1].player)
    # the restarted server has the finished match; resending the move rates nothing more
    async with connect(server) as again:
        await again.hello("alice", token=seats[0].token)
        resent = await again.request({"type": "move", "match": match, "move": X_WINS[-1],
                                      "version": len(X_WINS)})
        assert resent["type"] in ("ack", "error"), resent
    assert_rated_once(server, seats[0].player, seats[1].player)


async def test_unrated_rooms_bots_and_mixed_pools_change_no_rating(
        server: ServerProcess) -> None:
    async with two(server) as (a, b):
        match, seats = await room_match(a, b, rated=False)
        await play_out(seats, match, X_WINS)
        await a.until_view(match, lambda v: v["status"] == "finished")
        assert rating_of(server, a.player) is None and rating_of(server, b.player) is None
        bot_game = await a.request({"type": "play_bot", "game": "tictactoe", "level": "random"})
        assert bot_game["type"] != "error", bot_game
    async with two(server, b_bot=True) as (human, program):
        match, seats = await quick_match(human, program)
        await play_out(seats, match, X_WINS)
        await human.until_view(match, lambda v: v["status"] == "finished")
        assert rating_of(server, human.player) is None
        assert rating_of(server, program.player) is None
        assert get(server, f"/api/players/{program.player}")["bot"] is True


async def test_a_rated_room_between_bot_programs_counts_in_the_bot_pool(
        server: ServerProcess) -> None:
    async with two(server, a_bot=True, b_bot=True) as (a, b):
        match, seats = await room_match(a, b, rated=True)
        await play_out(seats, match, X_WINS)
        await a.until_view(match, lambda v: v["status"] == "finished")
    assert_rated_once(server, seats[0].player, seats[1].player, pool="bot")
    bots = get(server, "/api/leaderboard", game="tictactoe", pool="bot")
    assert [p["player"] for p in bots["provisional"]] == [seats[0].player, seats[1].player]
    assert get(server, "/api/leaderboard", game="tictactoe")["provisional"] == []


def test_unknown_players_and_games_are_404(server: ServerProcess) -> None:
    assert httpx.get(f"{server.http}/api/players/nobody", timeout=10).status_code == 404
    assert httpx.get(f"{server.http}/api/leaderboard", params={"game": "chess"},
                     timeout=10).status_code == 404
    assert httpx.get(f"{server.http}/api/leaderboard", params={"game": "tictactoe",
                     "pool": "robots"}, timeout=10).status_code == 422
