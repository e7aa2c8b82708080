"""Per-viewer views of a match, and the updates that carry one version to the next.

A viewer is a seat (0 or 1) or a spectator (None). Everything a viewer receives is
derived from its own view, so a spectator never sees what only a player may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from game.core.match import Match, Phase
from game.protocol.patch import diff, view_hash

Viewer = int | None
VIEWERS: tuple[Viewer, ...] = (0, 1, None)
View = dict[str, Any]


def view_for(match: Match, viewer: Viewer) -> View:
    """The view of `match` for one seat, or for a spectator (viewer None)."""
    turn = match.turn
    result = match.result
    return {
        "game": match.game,
        "status": match.phase.value,
        "board": match.position.board(),
        "turn": turn,
        "you": viewer,
        "legal": list(match.position.legal_moves()) if turn is not None and turn == viewer else [],
        "players": [
            {"name": "", "online": False, "bot": False, "grace": None}
            if seat is None
            else {
                "name": seat.name,
                "online": seat.online,
                "bot": seat.bot is not None,
                "grace": seat.grace,
            }
            for seat in match.seats
        ],
        "deadline": match.deadline if match.phase is Phase.ACTIVE else None,
        "watchers": match.watchers,
        "moves": list(match.moves),
        "result": None
        if result is None
        else {"winner": result.winner, "reason": result.reason.value, "line": list(result.line)},
        "rematch": list(match.rematch),
    }


@dataclass(frozen=True, slots=True)
class ViewUpdate:
    """One viewer's step from `version - 1` to `version`."""

    viewer: Viewer
    version: int
    view: View
    ops: list[dict[str, Any]]
    hash: int


def updates(previous: dict[Viewer, View], match: Match) -> dict[Viewer, ViewUpdate]:
    """For each viewer, the new view at `match.version`, the ops from `previous`, and its hash."""
    result: dict[Viewer, ViewUpdate] = {}
    for viewer in VIEWERS:
        view = view_for(match, viewer)
        before = previous.get(viewer)
        if before is None:
            ops: list[dict[str, Any]] = [{"op": "replace", "path": "", "value": view}]
        else:
            ops = diff(before, view)
        result[viewer] = ViewUpdate(viewer, match.version, view, ops, view_hash(view))
    return result
