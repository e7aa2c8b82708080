"""Types shared by every game: the outcome, the errors and the abstract interface.

A game is described by a :class:`Rules` object (one immutable singleton per game) whose
:meth:`Rules.initial` returns the starting :class:`State`.  States are immutable values:
:meth:`State.apply` returns a new state and never changes the old one, equal positions
compare and hash equal whatever move order reached them, and nothing in this package
performs I/O.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Final, Literal, NoReturn, TypeAlias

__all__ = [
    "REASONS",
    "BuiltinIllegalReason",
    "IllegalMove",
    "IllegalReason",
    "Outcome",
    "Rules",
    "State",
    "UnknownGame",
]

BuiltinIllegalReason: TypeAlias = Literal[
    "occupied", "column_full", "out_of_range", "not_an_int", "game_over"
]
"""The reasons of the built-in games (see :data:`REASONS`)."""

IllegalReason: TypeAlias = str
"""Why a move was refused; the stable machine-readable part of :class:`IllegalMove`.

One of :data:`REASONS`, or a short ``snake_case`` name that a game defines for itself
(e.g. othello's ``"no_flip"``)."""

REASONS: Final[tuple[BuiltinIllegalReason, ...]] = (
    "occupied",
    "column_full",
    "out_of_range",
    "not_an_int",
    "game_over",
)


class IllegalMove(ValueError):
    """A move that the rules refuse.

    Attributes:
        move: the refused move, exactly as given (it may not even be an ``int``).
        reason: a short stable string, one of :data:`REASONS`:
            ``"occupied"`` (tic-tac-toe cell taken), ``"column_full"`` (connect-four),
            ``"out_of_range"``, ``"not_an_int"`` (``bool`` counts as not an int) or
            ``"game_over"``; or a reason a game names itself (othello: ``"no_flip"``).
    """

    move: object
    reason: IllegalReason

    def __init__(self, move: object, reason: IllegalReason, detail: str) -> None:
        self.move = move
        self.reason = reason
        super().__init__(f"illegal move {move!r}: {detail} ({reason})")


class UnknownGame(KeyError, ValueError):
    """Raised by :func:`game.rules.get_rules` for a game name it does not know.

    It is both a ``KeyError`` (a failed lookup) and a ``ValueError`` (a bad argument).
    """

    def __init__(self, name: object, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(f"unknown game {name!r}; known games: {', '.join(self.known)}")

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message and add quotes.
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a finished game ended.

    Attributes:
        winner: the winning seat (0 or 1), or ``None`` for a draw.
        line: the public-board indices (see :meth:`State.board`) of the winning stones,
            sorted ascending; ``()`` for a draw.  When the last move completes several
            lines at once, this is the union of all of them.  ``()`` for a game decided
            by count.
        score: for a game decided by count (othello): the counts of seat 0 and seat 1;
            ``None`` for a game decided by a line.
    """

    winner: int | None
    line: tuple[int, ...] = ()
    score: tuple[int, int] | None = None


def check_move_type(move: object) -> int:
    """Return ``move`` as a plain ``int`` or raise ``IllegalMove(reason="not_an_int")``."""
    if isinstance(move, bool) or not isinstance(move, int):
        raise IllegalMove(move, "not_an_int", f"a move must be an int, not {type(move).__name__}")
    return int(move)


class State(ABC):
    """An immutable, hashable game position.

    Equality and hashing depend on the position only (stones and side to move), never
    on the order of the moves that reached it.  Subclasses store their fields with
    ``object.__setattr__`` (``_ply`` and ``_outcome`` included, which this class
    reads); any later assignment raises ``AttributeError``.
    """

    __slots__ = ("_outcome", "_ply")

    _ply: int
    _outcome: Outcome | None

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot delete {name!r}")

    @property
    @abstractmethod
    def rules(self) -> Rules:
        """The :class:`Rules` of the game this state belongs to."""

    @property
    def ply(self) -> int:
        """Number of stones (marks) placed so far."""
        return self._ply

    @property
    def outcome(self) -> Outcome | None:
        """``None`` while the game runs, else the :class:`Outcome`."""
        return self._outcome

    @property
    def to_move(self) -> int | None:
        """The seat to move (0 or 1), or ``None`` once the game is over."""
        return None if self._outcome is not None else self._ply & 1

    @property
    def last_cell(self) -> int | None:
        """The index in :meth:`board` that the last move filled, when this state knows
        it (``None`` for the initial state and for a state rebuilt from a position).

        Lets a caller that keeps a board update it without comparing every cell.
        """
        return None

    @property
    def is_over(self) -> bool:
        """True once the game has a winner or is drawn."""
        return self.outcome is not None

    @abstractmethod
    def legal_moves(self) -> tuple[int, ...]:
        """The legal moves in ascending order; ``()`` once the game is over."""

    @abstractmethod
    def apply(self, move: int) -> State:
        """Return the state after ``move`` by the side to move.

        Raises:
            IllegalMove: the move is not an int, out of range, on an occupied cell or a
                full column, or the game is already over.
        """

    @abstractmethod
    def winning_moves(self, seat: int | None = None) -> tuple[int, ...]:
        """Moves that would complete a line for ``seat`` (default: the side to move).

        For the opponent of the side to move these are the threats the side to move
        must block.  ``()`` once the game is over.
        """

    @abstractmethod
    def board(self) -> list[int | None]:
        """The public board: a new flat row-major list of ``None`` / 0 / 1, row 0 on top."""

    def __str__(self) -> str:
        cols = self.rules.cols
        marks = {None: ".", 0: "X", 1: "O"}
        cells = [marks[c] for c in self.board()]
        return "\n".join("".join(cells[i : i + cols]) for i in range(0, len(cells), cols))


class Rules(ABC):
    """The rules of one game; use :func:`game.rules.get_rules` to obtain the singleton."""

    __slots__ = ()

    name: ClassVar[str]
    """Registry name, e.g. ``"connect4"``."""
    title: ClassVar[str]
    """Human-readable title, e.g. ``"Connect Four"``."""
    rows: ClassVar[int]
    """Rows of the public board."""
    cols: ClassVar[int]
    """Columns of the public board."""

    @abstractmethod
    def initial(self) -> State:
        """The empty starting position, seat 0 to move."""

    def replay(self, moves: Iterable[int]) -> State:
        """Apply ``moves`` in order from the initial position.

        Raises:
            IllegalMove: on the first move that is not legal where it is played.
        """
        state = self.initial()
        for move in moves:
            state = state.apply(move)
        return state

    def __repr__(self) -> str:
        return f"<Rules {self.name!r} ({self.title})>"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        from game.rules import get_rules

        return (get_rules, (self.name,))
