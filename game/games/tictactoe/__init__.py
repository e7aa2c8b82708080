"""Tic-tac-toe on 3x3: the rules (:mod:`.rules`), the perfect ``hard`` bot (:mod:`.bots`)
and test fixtures (:mod:`.fixtures`); the weaker levels are the shared ones of
:mod:`game.bots.simple`.

>>> from game.games.tictactoe import GAME
>>> GAME.name, GAME.title, GAME.cell_name(0), GAME.sentences.results["line"]
('tictactoe', 'Tic-tac-toe', 'top left', 'three in a row')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from game.games.definition import GameDefinition, Sentences
from game.games.tictactoe.fixtures import FIXTURES
from game.games.tictactoe.rules import TICTACTOE, TicTacToe, TicTacToeState
from game.rules import State

if TYPE_CHECKING:
    from game.bots.base import Bot

__all__ = ["GAME", "TICTACTOE", "TicTacToe", "TicTacToeState"]


def _bot(game: str, level: str, seed: int | None, time_budget: float | None) -> Bot:
    # imported on first use: the rules alone must not load the bots
    if level == "hard":
        from game.games.tictactoe.bots import PerfectTicTacToe

        return PerfectTicTacToe(seed)
    from game.bots.simple import shared_bot

    return shared_bot(game, level, seed, time_budget)


def _solve(state: State) -> int:
    """+1 win, 0 draw, -1 loss for the side to move under perfect play."""
    from game.games.tictactoe.bots import minimax_value

    assert isinstance(state, TicTacToeState)
    return minimax_value(state)


GAME: Final = GameDefinition(
    rules=TICTACTOE,
    seats=("X", "O"),
    move="cell",
    cells=("top left", "top middle", "top right", "middle left", "center", "middle right",
           "bottom left", "bottom middle", "bottom right"),
    sentences=Sentences(
        move="{mover} took the {cell}.",
        pass_=None,
        results={"line": "three in a row", "draw": "the board is full"},
    ),
    fixtures=FIXTURES,
    illegal_reasons=("not_an_int", "game_over", "out_of_range", "occupied"),
    bots=_bot,
    levels=("random", "easy", "medium", "hard"),
    solve=_solve,
    # centre, corners, edges: the lines through each cell, as the shared medium bot likes
    move_weights=(2, 1, 2, 1, 3, 1, 2, 1, 2),
    order=10,
)
"""Tic-tac-toe in the registry of :mod:`game.games`."""
