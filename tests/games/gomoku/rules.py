"""Gomoku rules: a 9x9 board, a move is a cell, five (or more) in a row wins."""

from __future__ import annotations

from typing import Final

from game.rules.base import IllegalMove, Outcome, Rules, State, check_move_type

SIZE: Final = 9
CELLS: Final = SIZE * SIZE
DIRECTIONS: Final = ((0, 1), (1, 0), (1, 1), (1, -1))


def five_through(board: tuple[int | None, ...], cell: int, seat: int) -> tuple[int, ...]:
    """The cells of every run of five or more of ``seat``'s stones through ``cell``,
    counting ``cell`` as ``seat``'s; ``()`` if there is none."""
    row, col = divmod(cell, SIZE)
    found: set[int] = set()
    for dr, dc in DIRECTIONS:
        run = [cell]
        for sign in (1, -1):
            r, c = row + sign * dr, col + sign * dc
            while 0 <= r < SIZE and 0 <= c < SIZE and board[r * SIZE + c] == seat:
                run.append(r * SIZE + c)
                r, c = r + sign * dr, c + sign * dc
        if len(run) >= 5:
            found.update(run)
    return tuple(sorted(found))


class GomokuState(State):
    """A gomoku position: immutable, equal to any other with the same stones."""

    __slots__ = ("_board",)

    _board: tuple[int | None, ...]

    def __init__(self, board: tuple[int | None, ...] = (None,) * CELLS,
                 outcome: Outcome | None = None) -> None:
        object.__setattr__(self, "_board", board)
        object.__setattr__(self, "_ply", CELLS - board.count(None))
        object.__setattr__(self, "_outcome", outcome)

    @property
    def rules(self) -> Gomoku:
        return GOMOKU

    def legal_moves(self) -> tuple[int, ...]:
        if self._outcome is not None:
            return ()
        return tuple(i for i, stone in enumerate(self._board) if stone is None)

    def apply(self, move: int) -> GomokuState:
        cell = check_move_type(move)
        if self._outcome is not None:
            raise IllegalMove(move, "game_over", "the game is already over")
        if not 0 <= cell < CELLS:
            raise IllegalMove(move, "out_of_range", f"a move is a cell 0..{CELLS - 1}")
        if self._board[cell] is not None:
            raise IllegalMove(move, "occupied", f"cell {cell} is taken")
        seat = self._ply & 1
        board = (*self._board[:cell], seat, *self._board[cell + 1:])
        line = five_through(self._board, cell, seat)
        if line:
            return GomokuState(board, Outcome(seat, line))
        return GomokuState(board, Outcome(None) if None not in board else None)

    def winning_moves(self, seat: int | None = None) -> tuple[int, ...]:
        if self._outcome is not None:
            return ()
        who = self._ply & 1 if seat is None else seat
        return tuple(cell for cell in self.legal_moves()
                     if five_through(self._board, cell, who))

    def board(self) -> list[int | None]:
        return list(self._board)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GomokuState) and self._board == other._board

    def __hash__(self) -> int:
        return hash(("gomoku", self._board))

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (GomokuState, (self._board, self._outcome))


class Gomoku(Rules):
    """The rules singleton's class: name, title, board size and the start."""

    __slots__ = ()

    name = "gomoku"
    title = "Gomoku"
    rows = SIZE
    cols = SIZE

    def initial(self) -> GomokuState:
        return GomokuState()


GOMOKU: Final = Gomoku()
