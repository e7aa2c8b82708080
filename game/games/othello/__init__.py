"""Othello (Reversi) 8x8: the pure rules (:mod:`.rules`), the bots (:mod:`.bots`) and
test fixtures (:mod:`.fixtures`).

>>> from game.games.othello import GAME, OTHELLO
>>> OTHELLO.name, OTHELLO.title, OTHELLO.rows, OTHELLO.cols
('othello', 'Othello', 8, 8)
>>> GAME.cell_name(37), GAME.sentences.pass_
('f5', '{mover} had no legal move and passed.')

Importing this package loads the rules only (standard library); the bots are imported
from :mod:`game.games.othello.bots` when needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from game.games.definition import GameDefinition, Sentences
from game.games.othello.fixtures import FIXTURES
from game.games.othello.rules import (
    CELLS,
    OTHELLO,
    REASONS,
    Othello,
    OthelloState,
    square,
    square_name,
)

if TYPE_CHECKING:
    from game.bots.base import Bot

__all__ = ["GAME", "OTHELLO", "Othello", "OthelloState", "square", "square_name"]


def _bot(game: str, level: str, seed: int | None, time_budget: float | None) -> Bot:
    from game.games.othello.bots import get_bot

    return get_bot(level, seed, time_budget)


GAME: Final = GameDefinition(
    rules=OTHELLO,
    seats=("Black", "White"),
    move="cell",
    cells=tuple(square_name(cell) for cell in range(CELLS)),
    sentences=Sentences(
        move="{mover} played {cell}.",
        pass_="{mover} had no legal move and passed.",
        results={"score": "{winner_score} discs to {loser_score}",
                 "draw": "{winner_score} discs each"},
    ),
    fixtures=FIXTURES,
    illegal_reasons=REASONS,
    bots=_bot,
    levels=("random", "easy", "medium", "hard"),
    order=30,
)
"""Othello in the registry of :mod:`game.games`."""
