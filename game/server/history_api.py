"""The history behind `GET /api/matches?status=finished`: finished matches from the
store, newest end first, a page at a time, each with its players, result, times and
every move. The cursor is the (end time, id) of a page's last match, as the live
list's is its (start time, id): pages neither repeat nor skip a match."""

from __future__ import annotations

from typing import Any

from game.core.match import Match, Seat
from game.server.listing import decode_cursor, encode_cursor
from game.store.base import Store


def player_entry(seat: Seat | None) -> dict[str, Any] | None:
    if seat is None:
        return None
    return {"id": seat.player, "name": seat.name, "bot": seat.bot is not None}


def result_entry(match: Match) -> dict[str, Any] | None:
    result = match.result
    if result is None:
        return None
    return {"winner": result.winner, "reason": result.reason.value, "line": list(result.line)}


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
