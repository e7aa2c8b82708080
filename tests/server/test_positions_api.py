"""GET /api/matches/{match}/positions (issue 17, replay): a match replayed by the
server's rules for clients that have none, checked against a real server: every
position is the rules' board after that many moves, othello's passes repeat the
position before them, and the answer fits the schema the OpenAPI document publishes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from game.games.othello.fixtures import TWO_PASSES
from game.games.othello.rules import OTHELLO
from game.rules import get_rules
from tests.support import ServerProcess, connect, play_out, seated, serving_sqlite

C4_MOVES = [3, 3, 4, 2, 5, 4, 6]  # red wins on the bottom row: 4453... in Pons' notation


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from serving_sqlite(tmp_path)


async def finished_match(server: ServerProcess, game: str, moves: list[int]) -> str:
    async with contextlib.AsyncExitStack() as stack:
        a = await stack.enter_async_context(connect(server))
        b = await stack.enter_async_context(connect(server))
        match, seats = await seated(a, b, game)
        await play_out(seats, match, moves)
        await a.until_view(match, lambda v: v["status"] == "finished")
        return match


def positions(server: ServerProcess, match: str) -> dict[str, Any]:
    response = httpx.get(f"{server.http}/api/matches/{match}/positions", timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def openapi_validator(server: ServerProcess) -> jsonschema.Draft202012Validator:
    """The answer's schema as /openapi.json publishes it (its `$ref`s resolved there)."""
    document = httpx.get(f"{server.http}/openapi.json", timeout=10).json()
    operation = document["paths"]["/api/matches/{match_id}/positions"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "404" in operation["responses"]
    return jsonschema.Draft202012Validator(
        {**schema, "components": document["components"]})


async def test_a_connect4_match_replayed_ply_by_ply(server: ServerProcess) -> None:
    match = await finished_match(server, "connect4", C4_MOVES)
    data = positions(server, match)
    openapi_validator(server).validate(data)
    assert (data["match"], data["game"], data["status"]) == (match, "connect4", "finished")
    assert (data["rows"], data["cols"]) == (6, 7) and data["moves"] == C4_MOVES
    assert data["result"]["winner"] == 0 and data["result"]["reason"] == "line"
    assert len(data["positions"]) == len(C4_MOVES) + 1
    rules = get_rules("connect4")
    for ply, position in enumerate(data["positions"]):
        state = rules.replay(C4_MOVES[:ply])
        assert position["board"] == state.board(), ply
        assert position["turn"] == state.to_move
    assert data["positions"][0]["last"] is None
    # each ply's `last` is the cell its stone landed in: the lowest free row of its column
    assert [p["last"] for p in data["positions"][1:4]] == [38, 31, 39]
    assert [p["id"] for p in data["players"]] != [None, None]
    assert all(p["program"] is False and p["bot"] is False for p in data["players"])


async def test_othello_passes_repeat_the_position_before_them(server: ServerProcess) -> None:
    match = await finished_match(server, "othello", list(TWO_PASSES.moves))
    data = positions(server, match)
    openapi_validator(server).validate(data)
    record = OTHELLO.record(TWO_PASSES.moves)
    assert data["moves"] == record and record.count(None) == 2
    assert TWO_PASSES.score is not None and data["result"]["score"] == list(TWO_PASSES.score)
    boards = data["positions"]
    for ply, move in enumerate(record, 1):
        if move is None:  # a seat passed over: nothing changes, nothing was placed
            assert boards[ply]["board"] == boards[ply - 1]["board"]
            assert boards[ply]["last"] is None and boards[ply]["turn"] == boards[ply - 1]["turn"]
        else:
            assert boards[ply]["last"] == move
    final = OTHELLO.replay(record)
    assert boards[-1]["board"] == final.board() and boards[-1]["turn"] is None


async def test_a_live_match_is_replayed_so_far_and_an_unknown_one_is_404(
        server: ServerProcess) -> None:
    async with connect(server) as a, connect(server) as b:
        match, seats = await seated(a, b, "tictactoe")
        await play_out(seats, match, [4, 0])
        data = positions(server, match)
        assert data["status"] == "active" and data["result"] is None
        assert data["moves"] == [4, 0] and len(data["positions"]) == 3
        assert data["positions"][-1]["turn"] == 0
    missing = httpx.get(f"{server.http}/api/matches/nosuchmatch/positions", timeout=10)
    assert missing.status_code == 404 and missing.json() == {"detail": "no such match"}
