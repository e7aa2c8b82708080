"""Per-viewer views of a match, and the updates that carry one version to the next.

A viewer is a seat (0 or 1) or a spectator (None). Everything a viewer receives is
derived from its own view, so a spectator never sees what only a player may.

The three views of a version differ only in `you` and `legal`, so a version's views
are kept as one shared part plus each seat's legal moves (`Views`), and `updates`
diffs and serialises the shared part once and each viewer's own part separately;
the hash is the CRC-32 of the concatenated canonical JSON, computed incrementally.
"""

from __future__ import annotations

import zlib
from typing import Any, NamedTuple

import orjson

from game.core.match import Match, Phase, Seat
from game.protocol.patch import Op, diff, diff_into

Viewer = int | None
VIEWERS: tuple[Viewer, ...] = (0, 1, None)
View = dict[str, Any]

_SORTED = orjson.OPT_SORT_KEYS


def _legal(match: Match, viewer: Viewer) -> list[int]:
    turn = match.turn
    if turn is None or turn != viewer:
        return []
    return list(match.position.legal_moves())


def shared_view(match: Match, since: Views | None = None) -> View:
    """Everything in a view that is the same for every viewer (all but `you`, `legal`).

    With `since` (the views of an earlier version of the same match), parts whose
    source did not change are the earlier view's own objects: views are never
    mutated, so they can share them, and an unchanged part then costs neither an
    allocation nor a comparison when the two versions are diffed.
    """
    if since is None:
        return {
            "board": match.position.board(),
            "deadline": match.deadline if match.phase is Phase.ACTIVE else None,
            "game": match.game,
            "moves": list(match.moves),
            "players": _players(match),
            "rematch": list(match.rematch),
            "result": _result(match),
            "status": match.phase.value,
            "turn": match.turn,
            "watchers": match.watchers,
        }
    old, before = since.shared, since.match
    return {
        "board": old["board"] if match.position is before.position else match.position.board(),
        "deadline": match.deadline if match.phase is Phase.ACTIVE else None,
        "game": match.game,
        "moves": old["moves"] if match.moves is before.moves else list(match.moves),
        "players": old["players"] if match.seats is before.seats else _players(match),
        "rematch": old["rematch"] if match.rematch is before.rematch else list(match.rematch),
        "result": old["result"] if match.result is before.result else _result(match),
        "status": match.phase.value,
        "turn": match.turn,
        "watchers": match.watchers,
    }


def _players(match: Match) -> list[dict[str, Any]]:
    return [
        {"bot": False, "grace": None, "name": "", "online": False}
        if seat is None
        else _player(seat)
        for seat in match.seats
    ]


def _player(seat: Seat) -> dict[str, Any]:
    entry = {"bot": seat.bot is not None, "grace": seat.grace, "name": seat.name,
             "online": seat.online}
    if seat.program:  # only then: views (and so hashes) of everyone else are unchanged
        entry["program"] = True
    return entry


def _result(match: Match) -> dict[str, Any] | None:
    result = match.result
    if result is None:
        return None
    view = {"line": list(result.line), "reason": result.reason.value, "winner": result.winner}
    if result.score is not None:  # only a game decided by count has one
        view["score"] = list(result.score)
    return view


class Views(NamedTuple):
    """The views of one version of `match`: the part every viewer shares, and each
    seat's `legal` (a spectator's is always empty). Treat as immutable."""

    match: Match
    shared: View
    legal: tuple[list[int], list[int]]

    def of(self, viewer: Viewer) -> View:
        """The whole view of one seat, or of a spectator (viewer None)."""
        legal = [] if viewer is None else list(self.legal[viewer])
        return {**self.shared, "legal": legal, "you": viewer}


class Step(NamedTuple):
    """One viewer's step to a version: the ops from the previous view, and the hash."""

    ops: list[Op]
    hash: int


def views_of(match: Match) -> Views:
    """The views of `match` at its current version."""
    shared = shared_view(match)
    return Views(match, shared, _seat_legal(match, shared["turn"]))


def view_for(match: Match, viewer: Viewer) -> View:
    """The view of `match` for one seat, or for a spectator (viewer None)."""
    view = shared_view(match)
    view["legal"] = _legal(match, viewer)
    view["you"] = viewer
    return view


def _seat_legal(match: Match, turn: int | None) -> tuple[list[int], list[int]]:
    if turn is None:
        return [], []
    legal = list(match.position.legal_moves())
    return (legal, []) if turn == 0 else ([], legal)


_YOU: dict[Viewer, bytes] = {0: b"0}", 1: b"1}", None: b"null}"}


class _Canonical:
    """The canonical JSON of a view, split around the per-viewer `legal` and `you`.

    Keys sort as board, deadline, game, legal, moves, ..., watchers, you; so a view is
    head + legal + middle + you + "}" and its CRC-32 can be continued piece by piece.
    """

    def __init__(self, shared: View) -> None:
        whole = orjson.dumps(shared, option=_SORTED)  # {"board":..,"game":..,"moves":..}
        split = whole.index(b',"moves":')
        self._head_crc = zlib.crc32(whole[:split] + b',"legal":')
        self._middle = whole[split:-1] + b',"you":'

    def crc(self, legal: list[int], viewer: Viewer) -> int:
        value = zlib.crc32(orjson.dumps(legal) if legal else b"[]", self._head_crc)
        value = zlib.crc32(self._middle, value)
        return zlib.crc32(_YOU[viewer], value)


def _diff_shared(before: View, shared: View, last_cell: int | None) -> list[Op]:
    """Ops for the shared part: every view has the same keys, so only changed values
    are diffed (a move changes board, moves, turn and deadline; the rest is equal).
    `last_cell` is the board cell the position says its last move filled."""
    ops: list[Op] = []
    for key, value in shared.items():
        old = before[key]
        if old is value or (type(old) is type(value) and old == value):
            continue
        if key == "board" and last_cell is not None and _only_cell(old, value, last_cell):
            ops.append({"op": "replace", "path": f"/board/{last_cell}",
                        "value": value[last_cell]})
        elif isinstance(value, (list, dict)):
            diff_into(ops, old, value, "/" + key)
        else:
            ops.append({"op": "replace", "path": "/" + key, "value": value})
    return ops


def _only_cell(old: list[Any], new: list[Any], cell: int) -> bool:
    """True when the boards differ at `cell` and nowhere else (compared in C)."""
    return (len(old) == len(new) and old[:cell] == new[:cell]
            and old[cell + 1:] == new[cell + 1:])



def updates(previous: Views, match: Match) -> tuple[Views, dict[Viewer, Step]]:
    """The views at `match.version`, and for each viewer the ops from its view in
    `previous` and the hash of its new view."""
    shared = shared_view(match, previous)
    legal = _seat_legal(match, shared["turn"])
    canonical = _Canonical(shared)
    shared_ops = _diff_shared(previous.shared, shared, match.position.last_cell)
    steps: dict[Viewer, Step] = {}
    for seat in (0, 1):
        old, new = previous.legal[seat], legal[seat]
        if old == new:
            ops = shared_ops
        elif not old or not new:  # the turn passed: one op either way
            ops = [*shared_ops, {"op": "replace", "path": "/legal", "value": new}]
        else:
            ops = shared_ops + diff(old, new, "/legal")
        steps[seat] = Step(ops, canonical.crc(new, seat))
    steps[None] = Step(shared_ops, canonical.crc([], None))
    return Views(match, shared, legal), steps
