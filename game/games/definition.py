"""What a game is, in one object: :class:`GameDefinition` and its parts.

A game package (``game/games/<name>/__init__.py``, or a plugin module named by
``GAME_EXTRA_GAMES``) builds one :class:`GameDefinition` called ``GAME``; the registry
(:mod:`game.games`) serves it to the server, the bots, the docs and the tests.

>>> from game.games import get_game
>>> ttt = get_game("tictactoe")
>>> ttt.name, ttt.seats, ttt.move, ttt.levels
('tictactoe', ('X', 'O'), 'cell', ('random', 'easy', 'medium', 'hard'))
>>> ttt.sentences.move.format(mover="X", cell=ttt.cell_name(4), column=2)
'X took the center.'
>>> get_game("connect4").metadata()["sentences"]["results"]["line"]
'four in a row'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from string import Formatter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from game.rules.base import Rules, State

if TYPE_CHECKING:
    from game.bots.base import Bot

__all__ = [
    "MOVE_FIELDS",
    "RESULT_FIELDS",
    "BotFactory",
    "FinishedGame",
    "Fixtures",
    "GameDefinition",
    "IllegalCase",
    "MoveKind",
    "Sentences",
]

MoveKind: TypeAlias = Literal["cell", "column"]
"""``"cell"``: a move is a cell index (row-major, row 0 at the top); ``"column"``: a
move is a column ``0..cols-1`` and the piece lands in the lowest empty cell."""

MOVE_FIELDS = frozenset({"mover", "cell", "column"})
"""The placeholders of :attr:`Sentences.move` and :attr:`Sentences.pass_`."""
RESULT_FIELDS = frozenset({"winner", "loser", "winner_score", "loser_score"})
"""The placeholders of :attr:`Sentences.results`."""

BotFactory: TypeAlias = Callable[[str, str, "int | None", "float | None"], "Bot"]
"""``(game, level, seed, time_budget) -> Bot``: a new bot of the game at ``level``."""


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


@dataclass(frozen=True, slots=True)
class Sentences:
    """How a client words a game's moves and results (templates for ``str.format``).

    Attributes:
        move: a move, e.g. ``"{mover} took the {cell}."``; placeholders ``{mover}``,
            ``{cell}`` (the cell's name: :meth:`GameDefinition.cell_name`) and
            ``{column}`` (1-based).
        pass_: a seat passed over (``"{mover} had no legal move and passed."``), or
            ``None`` for a game without passes.  ``"pass"`` in JSON.
        results: by result reason, only the game's own (``line``, ``draw``, ``score``):
            the words after "won by" or for a draw, e.g. ``{"line": "four in a row"}``;
            placeholders ``{winner}``, ``{loser}``, ``{winner_score}``,
            ``{loser_score}`` (on a draw by count, ``winner_score`` is seat 0's count).
    """

    move: str
    pass_: str | None
    results: Mapping[str, str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", MappingProxyType(dict(self.results)))
        for template in (self.move, self.pass_ or ""):
            if not _placeholders(template) <= MOVE_FIELDS:
                raise ValueError(f"{template!r}: a move sentence may use only "
                                 f"{sorted(MOVE_FIELDS)}")
        for reason, template in self.results.items():
            if not _placeholders(template) <= RESULT_FIELDS:
                raise ValueError(f"{reason}: {template!r} may use only {sorted(RESULT_FIELDS)}")

    def as_json(self) -> dict[str, Any]:
        return {"move": self.move, "pass": self.pass_, "results": dict(self.results)}


@dataclass(frozen=True, slots=True)
class FinishedGame:
    """A complete game and the result the rules (and a server) must give it.

    Attributes:
        name: a short label.
        moves: the moves, passes left out.
        winner: the expected ``Outcome.winner`` (``None``: a draw).
        line: the expected ``Outcome.line``.
        score: the expected ``Outcome.score`` (a game decided by count).
        passes: the indices of the ``None`` entries of the game's :attr:`record`.
    """

    name: str
    moves: tuple[int, ...]
    winner: int | None
    line: tuple[int, ...] = ()
    score: tuple[int, int] | None = None
    passes: tuple[int, ...] = ()

    @property
    def reason(self) -> str:
        """The result reason a server gives it: ``score``, ``draw`` or ``line``."""
        if self.score is not None:
            return "score"
        return "draw" if self.winner is None else "line"

    @property
    def record(self) -> list[int | None]:
        """The moves as a view's ``moves`` shows them: ``None`` at the :attr:`passes`."""
        out: list[int | None] = list(self.moves)
        for index in self.passes:
            out.insert(index, None)
        return out


@dataclass(frozen=True, slots=True)
class IllegalCase:
    """A move refused in the position after ``before``, with the expected reason."""

    before: tuple[int, ...]
    move: object
    reason: str


@dataclass(frozen=True, slots=True)
class Fixtures:
    """Known answers every layer's tests check the game against."""

    finished: tuple[FinishedGame, ...]
    """At least one complete game; the first is the one the docs show."""
    illegal: tuple[IllegalCase, ...]
    """Refused moves: together they use every one of the game's illegal reasons."""


@dataclass(frozen=True, slots=True, eq=False)
class GameDefinition:
    """Everything the server, the bots, the browser, the docs and the tests know of a
    game.  ``name``, ``title``, ``rows`` and ``cols`` are the rules'.

    Attributes:
        rules: the rules singleton.
        seats: what seat 0 and seat 1 are called (``("X", "O")``).
        move: what a move is (:data:`MoveKind`).
        sentences: how a move and a result are worded.
        fixtures: known games and refused moves, for the tests.
        illegal_reasons: every ``IllegalMove.reason`` the rules may give.
        cells: a human name for every cell (``rows * cols``), or ``None`` for
            "row R, column C".
        bots: the bot factory, or ``None`` for a game without built-in bots.
        levels: the levels :attr:`bots` has, weakest first (a subset of
            :data:`game.bots.LEVELS`).
        solve: the exact value of a position for the side to move, if the game has an
            exact solver (see :func:`game.bots.solve`).
        move_weights: how much the shared ``medium`` bot likes each move; ``None``:
            moves nearer the centre of the board (:func:`game.bots.simple.move_weights`).
        order: where the game comes in lists of games (smaller first, then by name).
    """

    rules: Rules
    seats: tuple[str, str]
    move: MoveKind
    sentences: Sentences
    fixtures: Fixtures
    illegal_reasons: tuple[str, ...]
    cells: tuple[str, ...] | None = None
    bots: BotFactory | None = None
    levels: tuple[str, ...] = ()
    solve: Callable[[State], int] | None = None
    move_weights: tuple[int, ...] | None = None
    order: int = 100
    _moves: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules = self.rules
        if not isinstance(rules, Rules):
            raise TypeError(f"rules must be a Rules instance, not {type(rules).__name__}")
        if len(self.seats) != 2:
            raise ValueError(f"{rules.name}: two seat labels, not {self.seats!r}")
        if self.move not in ("cell", "column"):
            raise ValueError(f"{rules.name}: move is 'cell' or 'column', not {self.move!r}")
        moves = rules.cols if self.move == "column" else rules.rows * rules.cols
        object.__setattr__(self, "_moves", moves)
        if self.cells is not None and len(self.cells) != rules.rows * rules.cols:
            raise ValueError(f"{rules.name}: {rules.rows * rules.cols} cell names, "
                             f"not {len(self.cells)}")
        if self.move_weights is not None and len(self.move_weights) != moves:
            raise ValueError(f"{rules.name}: {moves} move weights, not {len(self.move_weights)}")
        if self.levels and self.bots is None:
            raise ValueError(f"{rules.name}: bot levels {self.levels} without a bot factory")
        if not self.fixtures.finished:
            raise ValueError(f"{rules.name}: the fixtures need a finished game")

    @property
    def name(self) -> str:
        """The registry name, the ``game`` of every message (``"connect4"``)."""
        return self.rules.name

    @property
    def title(self) -> str:
        return self.rules.title

    @property
    def moves(self) -> int:
        """How many different moves there are: ``cols`` or ``rows * cols``."""
        return self._moves

    def cell_name(self, cell: int) -> str:
        """A cell's human name: :attr:`cells`, or ``"row R, column C"`` (1-based)."""
        if self.cells is not None:
            return self.cells[cell]
        row, col = divmod(cell, self.rules.cols)
        return f"row {row + 1}, column {col + 1}"

    def metadata(self) -> dict[str, Any]:
        """The game's entry in ``GET /api/games`` (JSON types only)."""
        rules = self.rules
        return {"id": rules.name, "title": rules.title, "rows": rules.rows, "cols": rules.cols,
                "bot_levels": list(self.levels), "seats": list(self.seats), "move": self.move,
                "cells": None if self.cells is None else list(self.cells),
                "sentences": self.sentences.as_json()}
