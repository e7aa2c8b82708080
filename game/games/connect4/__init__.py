"""Connect-four, 7 columns by 6 rows: the rules on bitboards (:mod:`.rules`), the
``hard`` bot (:mod:`.bots`: the exact solver of :mod:`.solver` and the timed search of
:mod:`.search`) and test fixtures (:mod:`.fixtures`); the weaker levels are the shared
ones of :mod:`game.bots.simple`.

>>> from game.games.connect4 import GAME
>>> GAME.move, GAME.cells, GAME.sentences.move.format(mover="Red", column=4)
('column', None, 'Red dropped a stone in column 4.')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from game.games.connect4.fixtures import FIXTURES
from game.games.connect4.rules import CONNECT4, Connect4, Connect4State
from game.games.definition import GameDefinition, Sentences
from game.rules import State

if TYPE_CHECKING:
    from game.bots.base import Bot

__all__ = ["CONNECT4", "GAME", "Connect4", "Connect4State"]


def _bot(game: str, level: str, seed: int | None, time_budget: float | None) -> Bot:
    # imported on first use: the rules alone must not load the engines
    if level == "hard":
        from game.games.connect4.bots import HardConnect4

        return HardConnect4(seed, time_budget)
    from game.bots.simple import shared_bot

    return shared_bot(game, level, seed, time_budget)


def _solve(state: State) -> int:
    """Pascal Pons' score of the position for the side to move (see
    :func:`game.games.connect4.bots.solve_exact`)."""
    from game.games.connect4.bots import solve_exact

    assert isinstance(state, Connect4State)
    return solve_exact(state)


GAME: Final = GameDefinition(
    rules=CONNECT4,
    seats=("Red", "Yellow"),
    move="column",
    sentences=Sentences(
        move="{mover} dropped a stone in column {column}.",
        pass_=None,
        results={"line": "four in a row", "draw": "the board is full"},
    ),
    fixtures=FIXTURES,
    illegal_reasons=("not_an_int", "game_over", "out_of_range", "column_full"),
    bots=_bot,
    levels=("random", "easy", "medium", "hard"),
    solve=_solve,
    order=20,
)
"""Connect-four in the registry of :mod:`game.games`."""
