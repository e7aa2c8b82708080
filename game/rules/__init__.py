"""Pure game rules: the interface every game implements, and the lookup of a game's rules
by name.  Standard library only, no I/O.

>>> from game.rules import GAMES, get_rules
>>> rules = get_rules("connect4")
>>> state = rules.replay([3, 3, 4])
>>> state.to_move, state.legal_moves()
(1, (0, 1, 2, 3, 4, 5, 6))
>>> state.board()[38], state.board()[31]
(0, 1)
>>> "othello" in GAMES
True

States are immutable and hashable; :meth:`State.apply` returns a new state or raises
:class:`IllegalMove` (a ``ValueError``) with a stable ``reason``.  The games themselves
live in :mod:`game.games`, one package each; :func:`get_rules` and :data:`GAMES` read
its registry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final, overload

from game.rules.base import (
    REASONS,
    IllegalMove,
    IllegalReason,
    Outcome,
    Rules,
    State,
    UnknownGame,
)

__all__ = [
    "GAMES",
    "REASONS",
    "GameNames",
    "IllegalMove",
    "IllegalReason",
    "Outcome",
    "Rules",
    "State",
    "UnknownGame",
    "get_rules",
]


def _names() -> tuple[str, ...]:
    # game.games imports this package's base module: imported here, on first use
    from game.games import names

    return names()


class GameNames(Sequence[str]):
    """The names of the registered games in the registry's order, read afresh on every
    use: a game registered later (:func:`game.games.register`) is in it at once."""

    __slots__ = ()

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return _names()[index]

    def __len__(self) -> int:
        return len(_names())

    def __iter__(self) -> Iterator[str]:
        return iter(_names())

    def __contains__(self, name: object) -> bool:
        return name in _names()

    def __repr__(self) -> str:
        return repr(_names())


GAMES: Final = GameNames()
"""Names of the known games: ``tictactoe``, ``connect4``, ``othello`` and any other
registered game (a live view of :func:`game.games.names`)."""


def get_rules(name: str) -> Rules:
    """Return the (singleton) :class:`Rules` of the game called ``name``.

    Raises:
        UnknownGame: ``name`` is not one of :data:`GAMES` (the message lists them).
    """
    from game.games import get_game

    return get_game(name).rules
