"""Othello (Reversi) 8x8: the pure rules (:mod:`.rules`), the bots (:mod:`.bots`) and
test fixtures (:mod:`.fixtures`).

>>> from game.games.othello import OTHELLO
>>> OTHELLO.name, OTHELLO.title, OTHELLO.rows, OTHELLO.cols
('othello', 'Othello', 8, 8)

Importing this package loads the rules only (standard library); the bots are imported
from :mod:`game.games.othello.bots` when needed.
"""

from __future__ import annotations

from game.games.othello.rules import OTHELLO, Othello, OthelloState, square, square_name

__all__ = ["OTHELLO", "Othello", "OthelloState", "square", "square_name"]
