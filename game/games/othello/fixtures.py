"""Othello positions and games with known answers, for the tests of every layer.

>>> from game.games.othello.fixtures import FINISHED, WIPEOUT
>>> from game.games.othello.rules import OTHELLO
>>> OTHELLO.replay(WIPEOUT.moves).outcome
Outcome(winner=0, line=(), score=(13, 0))
>>> [g.name for g in FINISHED]
['two_passes', 'draw', 'blocked', 'wipeout']

The games are written as transcripts in the usual notation (``"f5d6c3"``: see
:func:`~game.games.othello.rules.square` and :func:`transcript`).
Each expected result was checked against a plain-list reference implementation of the
rules (``tests/games/othello``), not only against :mod:`.rules` itself.
"""

from __future__ import annotations

from typing import Final

from game.games.definition import FinishedGame, Fixtures, IllegalCase
from game.games.othello.rules import square

__all__ = [
    "FINISHED",
    "FIXTURES",
    "ILLEGAL",
    "PERFT",
    "TWO_PASSES",
    "WIPEOUT",
    "transcript",
]


def transcript(text: str) -> tuple[int, ...]:
    """The cells of a transcript of two-character squares: ``"f5d6"`` -> ``(37, 43)``."""
    if len(text) % 2:
        raise ValueError(f"a transcript has two characters per move: {text!r}")
    return tuple(square(text[i : i + 2]) for i in range(0, len(text), 2))


TWO_PASSES: Final = FinishedGame(
    "two_passes",
    transcript("d3c3b3e3f3c5f6g2b5c6f4a5h1f5d6e7d7e6d8c4c7b7a8b6a4f8g4b4e8a3"
               "a7g5g8c2h4g3a2h3c1d1d2e1f1f7a6h6e2b8g7c8h5g6h2h7h8g1b2f2a1b1"),
    winner=1,
    score=(26, 38),
    passes=(58, 60),
)
"""A full board (60 moves) where black (seat 0) is passed over twice: after white's
58th and 59th moves, so white plays the last three moves; the record is
``moves[:58] + [None, moves[58], None, moves[59]]``."""

WIPEOUT: Final = FinishedGame(
    "wipeout", transcript("d3c3b3d2e1d6d7e3f4"), winner=0, score=(13, 0)
)
"""One of the shortest possible games: black has every disc after nine moves."""

FINISHED: Final[tuple[FinishedGame, ...]] = (
    TWO_PASSES,
    FinishedGame(
        "draw",
        transcript("d3c5f6e3f3g7c6f2e6c3b5f5g5g6g4g3e2f4b3a3h2h3h8e7d6f1b2b7d7d8"
                   "b4h1e1c1c2a5a1b1a4d2h5b6f7h6h7d1a2g8f8e8a7c4c8a6c7a8h4b8g1g2"),
        winner=None,
        score=(32, 32),
    ),
    FinishedGame(
        "blocked",
        transcript("f5f4c3g6f3c5d6f2b5c4g3a6f6c2e3g4b3g7d3h4b1c7e7d2b8e6a5e2f7d7"
                   "b4b2f8d8e1b7h2b6h5a4h7d1a3h6e8f1a7g8h8g2g5c6a2a8h3a1c8g1c1"),
        winner=1,
        score=(25, 38),
        passes=(58,),
    ),
    WIPEOUT,
)
"""Finished games: passes, a draw, a game that ends with an empty square nobody can
take, and a wipe-out."""


ILLEGAL: Final[tuple[IllegalCase, ...]] = (
    IllegalCase((), True, "not_an_int"),
    IllegalCase((), "f5", "not_an_int"),
    IllegalCase((), 37.0, "not_an_int"),
    IllegalCase((), None, "not_an_int"),
    IllegalCase((), -1, "out_of_range"),
    IllegalCase((), 64, "out_of_range"),
    IllegalCase((), 27, "occupied"),  # d4, white's
    IllegalCase((), 28, "occupied"),  # e4, black's own
    IllegalCase((), 0, "no_flip"),  # a1, far from any disc
    IllegalCase((), 29, "no_flip"),  # f4, next to black's own e4 only
    IllegalCase((), 20, "no_flip"),  # e3, next to a black disc, white beyond none
    IllegalCase((37,), 37, "occupied"),
    IllegalCase((37,), 19, "no_flip"),  # d3 is black's move, not white's
    IllegalCase(transcript("d3c3b3d2e1d6d7e3f4"), 0, "game_over"),
    IllegalCase(transcript("d3c3b3d2e1d6d7e3f4"), 99, "game_over"),
)
"""Refused moves; the checks come in the order of
:data:`~game.games.othello.rules.REASONS` (a finished game says ``game_over`` even for
a cell out of range)."""

FIXTURES: Final = Fixtures(FINISHED, ILLEGAL)
"""The fixtures of othello's :class:`~game.games.GameDefinition`."""

PERFT: Final[tuple[int, ...]] = (4, 12, 56, 244, 1396, 8200, 55092, 390216)
"""Positions after 1..8 moves from the start (a pass is not a move of its own)."""
