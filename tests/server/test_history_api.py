"""GET /api/matches?status=finished (issue 17): finished matches stay queryable from a
real server, newest end first, filtered and paged, and survive a restart of the
SQLite store; /api/matches/{match} answers for them as for live ones."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import (
    Client,
    ServerProcess,
    connect,
    play_out,
    seated,
    serving_sqlite,
)

# tic-tac-toe: X takes the top row
X_WINS = [0, 3, 1, 4, 2]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from serving_sqlite(tmp_path)


def finished(server: ServerProcess, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{server.http}/api/matches",
                         params={"status": "finished", **params}, timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def play_one(server: ServerProcess, game: str = "tictactoe") -> tuple[str, Client, Client]:
    async with contextlib.AsyncExitStack() as stack:
        a = await stack.enter_async_context(connect(server))
        b = await stack.enter_async_context(connect(server))
        match, seats = await seated(a, b, game)
        moves = X_WINS if game == "tictactoe" else [0, 1, 0, 1, 0, 1, 0]
        await play_out(seats, match, moves)
        await a.until_view(match, lambda v: v["status"] == "finished")
        return match, seats[0], seats[1]


async def test_a_finished_match_is_listed_with_players_result_and_moves(
        server: ServerProcess) -> None:
    match, first, second = await play_one(server)
    assert httpx.get(f"{server.http}/api/matches", timeout=10).json()["matches"] == []
    page = finished(server)
    assert page["next"] is None
    [entry] = page["matches"]
    assert entry["match"] == match and entry["game"] == "tictactoe"
    assert entry["status"] == "finished" and entry["moves"] == X_WINS
    assert [p["id"] for p in entry["players"]] == [first.player, second.player]
    assert all(p["bot"] is False for p in entry["players"])
    assert entry["result"]["winner"] == 0 and entry["result"]["reason"] == "line"
    assert entry["started_at"] <= entry["ended_at"]
    detail = httpx.get(f"{server.http}/api/matches/{match}", timeout=10)
    assert detail.status_code == 200
    assert detail.json()["moves"] == X_WINS
    assert detail.json()["view"]["status"] == "finished"


async def test_filters_pages_and_a_restart_keep_the_history(server: ServerProcess) -> None:
    ids = [(await play_one(server, game))[0]
           for game in ("tictactoe", "connect4", "tictactoe")]
    assert [m["match"] for m in finished(server)["matches"]] == ids[::-1]
    assert [m["match"] for m in finished(server, game="connect4")["matches"]] == [ids[1]]
    first = finished(server, limit=2)
    assert [m["match"] for m in first["matches"]] == ids[:0:-1]
    rest = finished(server, limit=2, before=first["next"])
    assert [m["match"] for m in rest["matches"]] == ids[:1] and rest["next"] is None
    server.stop()
    server.start()
    assert [m["match"] for m in finished(server)["matches"]] == ids[::-1]
    _, a, _ = await play_one(server)
    mine = finished(server, player=a.player)
    assert [m["players"][0]["id"] for m in mine["matches"]] == [a.player]


async def test_a_cursor_the_server_did_not_make_is_refused(server: ServerProcess) -> None:
    response = httpx.get(f"{server.http}/api/matches",
                         params={"status": "finished", "before": "nonsense"}, timeout=10)
    assert response.status_code == 400
    bad_status = httpx.get(f"{server.http}/api/matches", params={"status": "over"},
                           timeout=10)
    assert bad_status.status_code == 422
