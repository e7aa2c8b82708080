"""Pure game rules: tic-tac-toe and connect-four.  Standard library only, no I/O.

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

_REGISTRY: Final[dict[str, Rules]] = {r.name: r for r in (TICTACTOE, CONNECT4)}

GAMES: Final[tuple[str, ...]] = tuple(_REGISTRY)
"""Names of the known games: ``("tictactoe", "connect4")``."""


def get_rules(name: str) -> Rules:
    """Return the (singleton) :class:`Rules` of the game called ``name``.

    Raises:
        UnknownGame: ``name`` is not one of :data:`GAMES` (the message lists them).
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownGame(name, GAMES) from None
