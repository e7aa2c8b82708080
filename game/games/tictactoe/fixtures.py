"""Tic-tac-toe games and refused moves with known answers, for the tests of every layer.

>>> from game.games.tictactoe.fixtures import FIXTURES
>>> from game.games.tictactoe.rules import TICTACTOE
>>> game = FIXTURES.finished[0]
>>> TICTACTOE.replay(game.moves).outcome
Outcome(winner=0, line=(0, 1, 2), score=None)
"""

from __future__ import annotations

from typing import Final

from game.games.definition import FinishedGame, Fixtures, IllegalCase

__all__ = ["FIXTURES"]

FIXTURES: Final = Fixtures(
    finished=(
        FinishedGame("top_row", (0, 3, 1, 4, 2), winner=0, line=(0, 1, 2)),
        FinishedGame("draw", (0, 1, 2, 4, 3, 5, 7, 6, 8), winner=None),
        # the ninth mark completes both diagonals at once: a win, not a draw
        FinishedGame("two_lines_on_a_full_board", (0, 1, 2, 3, 6, 5, 8, 7, 4), winner=0,
                     line=(0, 2, 4, 6, 8)),
        FinishedGame("o_wins", (0, 4, 1, 2, 8, 6), winner=1, line=(2, 4, 6)),
    ),
    illegal=(
        IllegalCase((), True, "not_an_int"),
        IllegalCase((), False, "not_an_int"),
        IllegalCase((), "4", "not_an_int"),
        IllegalCase((), 4.0, "not_an_int"),
        IllegalCase((), None, "not_an_int"),
        IllegalCase((), -1, "out_of_range"),
        IllegalCase((), 9, "out_of_range"),
        IllegalCase((4,), 4, "occupied"),
        IllegalCase((4, 0), 0, "occupied"),
        IllegalCase((0, 3, 1, 4, 2), 5, "game_over"),
        IllegalCase((0, 1, 2, 4, 3, 5, 7, 6, 8), 0, "game_over"),
    ),
)
"""Finished games (a win, a draw, a win with the last empty cell, a win by seat 1) and
refused moves, one or more for every reason tic-tac-toe gives."""
