"""Per-viewer views of a match, and the updates that carry one version to the next.

A viewer is a seat (0 or 1) or a spectator (None). Everything a viewer receives is
derived from its own view, so a spectator never sees what only a player may.

The three views of a version differ only in `you` and `legal`, so `updates` diffs
and serialises the shared part once and each viewer's own part separately; the
hash is the CRC-32 of the concatenated canonical JSON, computed incrementally.
"""

from __future__ import annotations

import zlib
from typing import Any, NamedTuple

import orjson

from game.core.match import Match, Phase
from game.protocol.patch import diff, diff_into

Viewer = int | None
VIEWERS: tuple[Viewer, ...] = (0, 1, None)
View = dict[str, Any]

_SORTED = orjson.OPT_SORT_KEYS


def _legal(match: Match, viewer: Viewer) -> list[int]:
    turn = match.turn
    if turn is None or turn != viewer:
        return []
    return list(match.position.legal_moves())


def shared_view(match: Match) -> View:
    """Everything in a view that is the same for every viewer (all but `you`, `legal`)."""
    result = match.result
    return {
        "board": match.position.board(),
        "deadline": match.deadline if match.phase is Phase.ACTIVE else None,
        "game": match.game,
        "moves": list(match.moves),
        "players": [
            {"bot": False, "grace": None, "name": "", "online": False}
            if seat is None
            else {
                "bot": seat.bot is not None,
                "grace": seat.grace,
                "name": seat.name,
                "online": seat.online,
            }
            for seat in match.seats
        ],
        "rematch": list(match.rematch),
        "result": None
        if result is None
        else {"line": list(result.line), "reason": result.reason.value, "winner": result.winner},
        "status": match.phase.value,
        "turn": match.turn,
        "watchers": match.watchers,
    }


def view_for(match: Match, viewer: Viewer) -> View:
    """The view of `match` for one seat, or for a spectator (viewer None)."""
    view = shared_view(match)
    view["legal"] = _legal(match, viewer)
    view["you"] = viewer
    return view


class ViewUpdate(NamedTuple):
    """One viewer's step from `version - 1` to `version`."""

    viewer: Viewer
    version: int
    view: View
    ops: list[dict[str, Any]]
    hash: int


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


def _diff_shared(before: View, shared: View) -> list[dict[str, Any]]:
    """Ops for the shared part: every view has the same keys, so only changed values
    are diffed (a move changes board, moves, turn and deadline; the rest is equal)."""
    ops: list[dict[str, Any]] = []
    for key, value in shared.items():
        old = before[key]
        if old is value or (type(old) is type(value) and old == value):
            continue
        if isinstance(value, (list, dict)):
            diff_into(ops, old, value, "/" + key)
        else:
            ops.append({"op": "replace", "path": "/" + key, "value": value})
    return ops


def updates(previous: dict[Viewer, View], match: Match) -> dict[Viewer, ViewUpdate]:
    """For each viewer, the new view at `match.version`, the ops from `previous`, and its hash."""
    shared = shared_view(match)
    canonical = _Canonical(shared)
    before = previous.get(None)
    shared_ops = None if before is None else _diff_shared(before, shared)
    result: dict[Viewer, ViewUpdate] = {}
    turn = match.turn
    for viewer in VIEWERS:
        legal = _legal(match, viewer) if viewer is not None and viewer == turn else []
        view = {**shared, "legal": legal, "you": viewer}
        old = previous.get(viewer)
        if shared_ops is None or old is None:
            ops: list[dict[str, Any]] = [{"op": "replace", "path": "", "value": view}]
        elif old["legal"] == legal:
            ops = shared_ops
        else:
            ops = shared_ops + diff(old["legal"], legal, "/legal")
        result[viewer] = ViewUpdate(viewer, match.version, view, ops, canonical.crc(legal, viewer))
    return result
