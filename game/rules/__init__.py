"""Pure game rules: the registry of every game.  Standard library only, no I/O.

>>> from game.rules import get_rules
>>> rules = get_rules("connect4")
>>> state = rules.replay([3, 3, 4])
>>> state.to_move, state.legal_moves()
(1, (0, 1, 2, 3, 4, 5, 6))
>>> state.board()[38], state.board()[31]
(0, 1)

States are immutable and hashable; :meth:`State.apply` returns a new state or raises
:class:`IllegalMove` (a ``ValueError``) with a stable ``reason``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Final

from game.rules.base import REASONS, IllegalMove, Outcome, Reason, Rules, State, UnknownGame
from game.rules.connect4 import CONNECT4, Connect4, Connect4State
from game.rules.tictactoe import TICTACTOE, TicTacToe, TicTacToeState

__all__ = [
    "GAMES",
    "REASONS",
    "Connect4",
    "Connect4State",
    "IllegalMove",
    "Outcome",
    "Reason",
    "Rules",
    "State",
    "TicTacToe",
    "TicTacToeState",
    "UnknownGame",
    "get_rules",
]

_PACKAGES: Final[dict[str, str]] = {
    "tictactoe": "game.rules.tictactoe",
    "connect4": "game.rules.connect4",
    "othello": "game.games.othello.rules",
}
"""The one place a game is registered: its name and the module whose ``RULES`` (or
upper-case name, e.g. ``OTHELLO``) is its rules singleton.  Loaded on first use, since
a game package imports :mod:`game.rules.base` (an import here would be circular)."""

_REGISTRY: Final[dict[str, Rules]] = {r.name: r for r in (TICTACTOE, CONNECT4)}

GAMES: Final[tuple[str, ...]] = tuple(_PACKAGES)
"""Names of the known games: ``("tictactoe", "connect4", "othello")``."""


def _load(name: str) -> Rules:
    module = import_module(_PACKAGES[name])
    rules = getattr(module, "RULES", None) or getattr(module, name.upper())
    if not isinstance(rules, Rules) or rules.name != name:
        raise TypeError(f"{_PACKAGES[name]} does not define the rules of {name!r}")
    _REGISTRY[name] = rules
    return rules


def get_rules(name: str) -> Rules:
    """Return the (singleton) :class:`Rules` of the game called ``name``.

    Raises:
        UnknownGame: ``name`` is not one of :data:`GAMES` (the message lists them).
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        if isinstance(name, str) and name in _PACKAGES:
            return _load(name)
        raise UnknownGame(name, GAMES) from None
