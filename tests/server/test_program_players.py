"""A player who says `bot: true` in `hello` is shown as a bot everywhere (issue 17):
`program: true` in the views' `players` (absent for everyone else, so their views and
hashes are as before), in the live list, the history, the replay's positions and the
profile, through rooms and the quick-match queue alike. Against a real server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import Client, ServerProcess, connect, play_out, serving_sqlite

X_WINS = [0, 3, 1, 4, 2]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from serving_sqlite(tmp_path)


async def hello(client: Client, name: str, bot: bool) -> None:
    welcome = await client.request({"type": "hello", "name": name, "bot": bot})
    assert welcome["type"] == "welcome", welcome
    client.player, client.token = welcome["player"], welcome["token"]


def get(server: ServerProcess, path: str, **params: Any) -> Any:
    response = httpx.get(f"{server.http}{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def flags(players: list[dict[str, Any]]) -> list[tuple[str, bool, bool]]:
    return [(p["name"], p["bot"], p.get("program", False)) for p in players]


async def test_a_program_is_shown_as_one_in_views_lists_history_and_profile(
        server: ServerProcess) -> None:
    async with contextlib.AsyncExitStack() as stack:
        alice = await stack.enter_async_context(connect(server))
        robo = await stack.enter_async_context(connect(server))
        watcher = await stack.enter_async_context(connect(server))
        await hello(alice, "alice", bot=False)
        await hello(robo, "robo", bot=True)
        await hello(watcher, "watcher", bot=False)
        room = await alice.request({"type": "create_room", "game": "tictactoe"})
        await robo.request({"type": "join_room", "code": room["code"]})
        match = room["match"]
        await watcher.request({"type": "watch", "match": match})
        wanted = [("alice", False, False), ("robo", False, True)]
        for client in (alice, robo, watcher):  # each view's hash checked by the client
            view = await client.until_view(match, lambda v: v["status"] == "active")
            assert flags(view["players"]) == wanted
            assert "program" not in view["players"][0]  # a person's entry is unchanged
        [listed] = get(server, "/api/matches")["matches"]
        assert flags(listed["players"]) == wanted
        await play_out({0: alice, 1: robo}, match, X_WINS)
        await watcher.until_view(match, lambda v: v["status"] == "finished")
    [done] = get(server, "/api/matches", status="finished")["matches"]
    assert flags(done["players"]) == wanted
    assert flags(get(server, f"/api/matches/{match}/positions")["players"]) == wanted
    assert get(server, f"/api/players/{robo.player}")["bot"] is True
    assert get(server, f"/api/players/{alice.player}")["bot"] is False


async def test_programs_paired_by_the_queue_are_both_shown_as_programs(
        server: ServerProcess) -> None:
    async with connect(server) as one, connect(server) as two:
        await hello(one, "bot-one", bot=True)
        await hello(two, "bot-two", bot=True)
        await one.request({"type": "queue", "game": "connect4"})
        await two.request({"type": "queue", "game": "connect4"})
        snapshot = await one.expect(lambda m: m.get("type") == "snapshot")
        assert flags(snapshot["view"]["players"]) in (
            [("bot-one", False, True), ("bot-two", False, True)],
            [("bot-two", False, True), ("bot-one", False, True)])
        # a built-in bot stays `bot`, and is not a program
        started = await one.request({"type": "play_bot", "game": "tictactoe", "level": "easy"})
        players = started["view"]["players"]
        assert sorted(flags(players)) == [("Easy bot", True, False), ("bot-one", False, True)]
