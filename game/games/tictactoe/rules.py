"""Tic-tac-toe: a 3x3 board, cells 0..8 row-major from the top left, seat 0 (X) first.

Internally a position is two 9-bit masks, bit ``i`` standing for cell ``i``.
"""

from __future__ import annotations

from typing import Final

from game.rules.base import IllegalMove, Outcome, Rules, State, check_move_type

__all__ = ["LINES", "TICTACTOE", "TicTacToe", "TicTacToeState"]

CELLS: Final = 9
FULL: Final = (1 << CELLS) - 1

LINES: Final[tuple[tuple[int, int, int], ...]] = (
    (0, 1, 2),
    (3, 4, 5),
    (6, 7, 8),
    (0, 3, 6),
    (1, 4, 7),
    (2, 5, 8),
    (0, 4, 8),
    (2, 4, 6),
)
"""The eight winning lines as cell triples."""

LINE_MASKS: Final[tuple[int, ...]] = tuple(sum(1 << c for c in line) for line in LINES)


def _mask_cells(mask: int) -> tuple[int, ...]:
    return tuple(i for i in range(CELLS) if mask >> i & 1)


def winning_cells(marks: int, empty: int) -> int:
    """Bitmask of the empty cells that would complete a line for ``marks``."""
    out = 0
    for line in LINE_MASKS:
        rest = line & ~marks
        if rest and not rest & (rest - 1) and rest & empty:
            out |= rest
    return out


class TicTacToeState(State):
    """A tic-tac-toe position (immutable, hashable)."""

    __slots__ = ("_marks",)

    _marks: tuple[int, int]

    def __init__(self, x: int = 0, o: int = 0) -> None:
        """The position with X marks ``x`` and O marks ``o`` (assumed reachable); with
        neither, the empty board (prefer ``get_rules("tictactoe").initial()``)."""
        _set = object.__setattr__
        ply = (x | o).bit_count()
        outcome: Outcome | None = None
        for seat, marks in ((0, x), (1, o)):
            line = 0
            for m in LINE_MASKS:
                if marks & m == m:
                    line |= m
            if line:
                outcome = Outcome(seat, _mask_cells(line))
                break
        if outcome is None and ply == CELLS:
            outcome = Outcome(None, ())
        _set(self, "_marks", (x, o))
        _set(self, "_ply", ply)
        _set(self, "_outcome", outcome)

    @property
    def rules(self) -> TicTacToe:
        return TICTACTOE

    def marks(self, seat: int) -> int:
        """Bitmask of the cells marked by ``seat`` (bit ``i`` = cell ``i``)."""
        return self._marks[seat]

    def legal_moves(self) -> tuple[int, ...]:
        if self._outcome is not None:
            return ()
        taken = self._marks[0] | self._marks[1]
        return tuple(i for i in range(CELLS) if not taken >> i & 1)

    def apply(self, move: int) -> TicTacToeState:
        cell = check_move_type(move)
        if self._outcome is not None:
            raise IllegalMove(move, "game_over", "the game is already over")
        if not 0 <= cell < CELLS:
            raise IllegalMove(move, "out_of_range", "a tic-tac-toe move is a cell 0..8")
        x, o = self._marks
        bit = 1 << cell
        if (x | o) & bit:
            raise IllegalMove(move, "occupied", f"cell {cell} is already taken")
        if self._ply & 1:
            return TicTacToeState(x, o | bit)
        return TicTacToeState(x | bit, o)

    def winning_moves(self, seat: int | None = None) -> tuple[int, ...]:
        if self._outcome is not None:
            return ()
        if seat is None:
            seat = self._ply & 1
        x, o = self._marks
        return _mask_cells(winning_cells(self._marks[seat], FULL & ~(x | o)))

    def board(self) -> list[int | None]:
        x, o = self._marks
        return [0 if x >> i & 1 else 1 if o >> i & 1 else None for i in range(CELLS)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TicTacToeState):
            return NotImplemented
        return self._marks == other._marks

    def __hash__(self) -> int:
        x, o = self._marks
        return hash(("tictactoe", x, o))

    def __repr__(self) -> str:
        return f"<TicTacToeState {str(self).replace(chr(10), '/')} ply={self._ply}>"

    def __reduce__(self) -> tuple[object, tuple[int, int]]:
        return (TicTacToeState, self._marks)


class TicTacToe(Rules):
    """Tic-tac-toe rules: a move is a cell 0..8; three in a row wins."""

    __slots__ = ()

    name = "tictactoe"
    title = "Tic-tac-toe"
    rows = 3
    cols = 3

    def initial(self) -> TicTacToeState:
        return _INITIAL


TICTACTOE: Final = TicTacToe()
"""The tic-tac-toe rules singleton."""
_INITIAL: Final = TicTacToeState()
