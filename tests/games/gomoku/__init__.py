"""Gomoku, the game of docs/adding-a-game.md: everything the server knows of it."""

from __future__ import annotations

from game.bots.simple import SHARED_LEVELS, shared_bot
from game.games import FinishedGame, Fixtures, GameDefinition, IllegalCase, Sentences

from .rules import GOMOKU

FIVE_ACROSS = (0, 9, 1, 10, 2, 11, 3, 12, 4)  # black's top row; white's stones under it

GAME = GameDefinition(
    rules=GOMOKU,
    seats=("Black", "White"),
    move="cell",
    sentences=Sentences(
        move="{mover} placed a stone at {cell}.",
        pass_=None,
        results={"line": "five in a row", "draw": "the board is full"},
    ),
    fixtures=Fixtures(
        finished=(
            FinishedGame("five_across", FIVE_ACROSS, winner=0, line=(0, 1, 2, 3, 4)),
            FinishedGame("white_diagonal", (0, 10, 1, 20, 2, 30, 3, 40, 8, 50), winner=1,
                         line=(10, 20, 30, 40, 50)),
        ),
        illegal=(
            IllegalCase((), "e5", "not_an_int"),
            IllegalCase((), 81, "out_of_range"),
            IllegalCase((40,), 40, "occupied"),
            IllegalCase(FIVE_ACROSS, 5, "game_over"),
        ),
    ),
    illegal_reasons=("not_an_int", "game_over", "out_of_range", "occupied"),
    bots=shared_bot,
    levels=SHARED_LEVELS,
)
