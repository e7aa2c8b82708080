"""Connect-four games and refused moves with known answers, for the tests of every layer.

>>> from game.games.connect4.fixtures import FIXTURES
>>> from game.games.connect4.rules import CONNECT4
>>> [CONNECT4.replay(game.moves).outcome.winner for game in FIXTURES.finished]
[0, 0, None]
"""

from __future__ import annotations

from typing import Final

from game.games.definition import FinishedGame, Fixtures, IllegalCase

__all__ = ["FIXTURES"]

FIXTURES: Final = Fixtures(
    finished=(
        FinishedGame("rising_diagonal", (3, 4, 4, 5, 5, 6, 5, 6, 6, 0, 6), winner=0,
                     line=(20, 26, 32, 38)),
        FinishedGame("first_column", (0, 1, 0, 1, 0, 1, 0), winner=0, line=(14, 21, 28, 35)),
        FinishedGame("full_board", (1, 4, 6, 6, 6, 0, 2, 0, 3, 6, 3, 3, 5, 3, 6, 1, 0, 3, 0, 4,
                                    3, 5, 0, 6, 5, 2, 2, 5, 1, 2, 2, 0, 2, 5, 4, 5, 4, 4, 4, 1,
                                    1, 1), winner=None),
    ),
    illegal=(
        IllegalCase((), True, "not_an_int"),
        IllegalCase((), "3", "not_an_int"),
        IllegalCase((), 3.5, "not_an_int"),
        IllegalCase((), -1, "out_of_range"),
        IllegalCase((), 7, "out_of_range"),
        IllegalCase((2,) * 6, 2, "column_full"),
        IllegalCase((0, 1, 0, 1, 0, 1, 0), 2, "game_over"),
    ),
)
"""Finished games (the game of docs/protocol.md's transcript, a vertical four, a full
board without four) and refused moves, one or more for every reason connect-four gives."""
