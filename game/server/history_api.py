"""The history behind `GET /api/matches?status=finished`: finished matches from the
store, newest end first, a page at a time, each with its players, result, times and
every move. The cursor is the (end time, id) of a page's last match, as the live
list's is its (start time, id): pages neither repeat nor skip a match.

Also `GET /api/matches/{match}/positions`: the board after every ply, computed with
the game's rules, for clients that have none (the browser's replay)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from game.core.match import Match, Seat
from game.rules import get_rules
from game.rules.base import State
from game.server.listing import decode_cursor, encode_cursor
from game.store.base import Store


def player_entry(seat: Seat | None) -> dict[str, Any] | None:
    if seat is None:
        return None
    return {"id": seat.player, "name": seat.name, "bot": seat.bot is not None,
            "program": seat.program}


def result_entry(match: Match) -> dict[str, Any] | None:
    result = match.result
    if result is None:
        return None
    entry = {"winner": result.winner, "reason": result.reason.value, "line": list(result.line)}
    if result.score is not None:  # as in the view: only a game decided by count has one
        entry["score"] = list(result.score)
    return entry


def finished_entry(ended_at: int, match: Match) -> dict[str, Any]:
    return {"match": match.id, "game": match.game, "status": "finished",
            "players": [player_entry(seat) for seat in match.seats],
            "result": result_entry(match), "started_at": match.created_at,
            "ended_at": ended_at, "rated": match.rated, "moves": list(match.moves)}


async def finished_page(store: Store, limit: int, before: str | None = None,
                        game: str | None = None, player: str | None = None) -> dict[str, Any]:
    """`{"matches", "next"}`; raises BadCursor for a `before` this server did not make."""
    after = None if before is None else decode_cursor(before)
    page = await store.finished_matches(game=game, player=player, before=after, limit=limit)
    last = page.matches[-1] if page.matches and page.more else None
    return {"matches": [finished_entry(at, match) for at, match in page.matches],
            "next": None if last is None else encode_cursor((last[0], last[1].id))}


# ---- positions: a match replayed -------------------------------------------------------


def _position(state: State, before: list[int | None] | None) -> dict[str, Any]:
    board = state.board()
    # the cell the ply filled: found by comparing boards, so it works for every game
    # (othello's flipped discs were filled before; a pass fills none)
    last = None if before is None else next(
        (cell for cell, (old, new) in enumerate(zip(before, board, strict=True))
         if old is None and new is not None), None)
    return {"board": board, "turn": state.to_move, "last": last}


def positions(game: str, moves: Sequence[int | None]) -> list[dict[str, Any]]:
    """The position before the first move and after each entry of `moves`: a `None`
    (a seat passed over, othello) repeats the position before it."""
    state = get_rules(game).initial()
    found = [_position(state, None)]
    for move in moves:
        before = found[-1]["board"]
        if move is not None:
            state = state.apply(move)
        found.append(_position(state, before) if move is not None
                     else {**found[-1], "last": None})
    return found


def positions_entry(match: Match) -> dict[str, Any]:
    rules = get_rules(match.game)
    return {"match": match.id, "game": match.game, "rows": rules.rows, "cols": rules.cols,
            "status": match.phase.value,
            "players": [player_entry(seat) for seat in match.seats],
            "result": result_entry(match), "started_at": match.created_at,
            "rated": match.rated, "moves": list(match.moves),
            "positions": positions(match.game, match.moves)}


# ---- the shapes above, for the OpenAPI document ----------------------------------------


class PlayerEntry(BaseModel):
    id: str = Field(description="the player id (`welcome.player`)")
    name: str
    bot: bool = Field(description="a built-in bot of the server")
    program: bool = Field(description="a program that said `bot: true` in `hello`")


class ResultEntry(BaseModel):
    winner: Literal[0, 1] | None
    reason: str
    line: list[int]
    score: list[int] | None = Field(default=None, description="only with reason `score`")


class PositionEntry(BaseModel):
    board: list[Literal[0, 1] | None] = Field(description="as the view's `board`")
    turn: Literal[0, 1] | None = Field(description="the seat to move; null once over")
    last: int | None = Field(description="the cell this ply filled (null: the first "
                             "position, or a seat passed over)")


class PositionsAnswer(BaseModel):
    """A match replayed: `positions[0]` is the starting position and `positions[i]` the
    one after `moves[i - 1]`, so there is one more position than moves."""

    match: str
    game: str
    rows: int
    cols: int
    status: Literal["waiting", "active", "finished"]
    players: list[PlayerEntry | None]
    result: ResultEntry | None
    started_at: int
    rated: bool
    moves: list[int | None]
    positions: list[PositionEntry]
