"""Connect-four on bitboards (Pascal Pons' encoding), seat 0 (red) first.

Bit layout: column ``c``, row ``r`` (``r = 0`` at the BOTTOM) is bit ``c * 7 + r``;
bit ``c * 7 + 6`` of each column is an always-empty sentinel, so shifting a board by
1 (vertical), 7 (horizontal), 6 or 8 (diagonals) never wraps a line across columns.

A position is two ints: ``mask`` has a bit for every stone on the board and
``position`` a bit for every stone of the side to move (the seat ``ply % 2``, also
for a finished game).  ``position + mask`` is a unique key of the position.

The public board (see :meth:`Connect4State.board`) is row-major with row 0 at the TOP:
public index ``(5 - r) * 7 + c``.  A move is a column 0..6; the stone falls to the
lowest empty row.
"""

from __future__ import annotations

from typing import Final

from game.rules.base import IllegalMove, Outcome, Rules, State, check_move_type

__all__ = [
    "BOARD_MASK",
    "BOTTOM_MASK",
    "CONNECT4",
    "HEIGHT",
    "WIDTH",
    "Connect4",
    "Connect4State",
    "bit_to_cell",
    "bottom_mask_col",
    "column_mask",
    "has_alignment",
    "top_mask_col",
    "winning_spots",
]

WIDTH: Final = 7
HEIGHT: Final = 6
H1: Final = HEIGHT + 1
CELLS: Final = WIDTH * HEIGHT


def bottom_mask_col(col: int) -> int:
    """The bit of the bottom cell of ``col``."""
    return 1 << (col * H1)


def top_mask_col(col: int) -> int:
    """The bit of the top (playable) cell of ``col``."""
    return 1 << (HEIGHT - 1 + col * H1)


def column_mask(col: int) -> int:
    """All playable bits of ``col``."""
    return ((1 << HEIGHT) - 1) << (col * H1)


BOTTOM_MASK: Final = sum(bottom_mask_col(c) for c in range(WIDTH))
"""One bit at the bottom of every column."""
BOARD_MASK: Final = BOTTOM_MASK * ((1 << HEIGHT) - 1)
"""Every playable cell (no sentinels)."""
TOP_MASK: Final = sum(top_mask_col(c) for c in range(WIDTH))


def has_alignment(pos: int) -> bool:
    """True when the stones in ``pos`` contain four in a row in any direction."""
    m = pos & (pos >> H1)  # horizontal
    if m & (m >> 2 * H1):
        return True
    m = pos & (pos >> HEIGHT)  # diagonal: up-left to down-right
    if m & (m >> 2 * HEIGHT):
        return True
    m = pos & (pos >> (HEIGHT + 2))  # diagonal: down-left to up-right
    if m & (m >> 2 * (HEIGHT + 2)):
        return True
    m = pos & (pos >> 1)  # vertical
    return bool(m & (m >> 2))


def winning_spots(pos: int, mask: int) -> int:
    """Empty cells (playable now or later) that would complete four for the stones ``pos``.

    This is Pons' ``compute_winning_position``.
    """
    # Unrolled for speed (the engines' hot spot): a cell completes four when three
    # stones lie in line with it, on one side or split around it.
    p = pos
    r = (p << 1) & (p << 2) & (p << 3)  # vertical: three stones below
    q = (p << 7) & (p << 14)  # horizontal
    r |= (q & (p << 21)) | (q & (p >> 7))
    q = (p >> 7) & (p >> 14)
    r |= (q & (p << 7)) | (q & (p >> 21))
    q = (p << 6) & (p << 12)  # diagonal, down to the right
    r |= (q & (p << 18)) | (q & (p >> 6))
    q = (p >> 6) & (p >> 12)
    r |= (q & (p << 6)) | (q & (p >> 18))
    q = (p << 8) & (p << 16)  # diagonal, up to the right
    r |= (q & (p << 24)) | (q & (p >> 8))
    q = (p >> 8) & (p >> 16)
    r |= (q & (p << 8)) | (q & (p >> 24))
    return r & (BOARD_MASK ^ mask)


def bit_to_cell(bit_index: int) -> int:
    """Public-board index of bitboard bit ``bit_index``."""
    col, row = divmod(bit_index, H1)
    return (HEIGHT - 1 - row) * WIDTH + col


def _line_through(stones: int, index: int) -> tuple[int, ...]:
    """Public cells of every run of four or more ``stones`` through bit ``index``."""
    cells: set[int] = set()
    for step in (1, H1, HEIGHT, HEIGHT + 2):
        run = [index]
        for direction in (step, -step):
            i = index + direction
            while 0 <= i < WIDTH * H1 and stones >> i & 1:
                run.append(i)
                i += direction
        if len(run) >= 4:
            cells.update(bit_to_cell(i) for i in run)
    return tuple(sorted(cells))


_TOPS: Final = tuple((c, top_mask_col(c)) for c in range(WIDTH))


class Connect4State(State):
    """A connect-four position (immutable, hashable).

    :attr:`position` and :attr:`mask` expose Pons' bitboards for fast engines.
    """

    __slots__ = ("_cells", "_last", "_mask", "_pos")

    _pos: int
    _mask: int
    _cells: tuple[int | None, ...] | None
    _last: int | None
    """The public board, kept up to date by `apply` (None: rebuilt when asked)."""

    def __init__(self, pos: int = 0, mask: int = 0, ply: int = 0, outcome: Outcome | None = None,
                 cells: tuple[int | None, ...] | None = (None,) * CELLS,
                 last: int | None = None) -> None:
        """The position with the bitboards ``pos`` and ``mask`` after ``ply`` moves, its
        ``outcome``, public ``cells`` (None: built when asked) and ``last`` cell played,
        taken as given (see :meth:`from_bitboards`); with none of them, the empty board
        (prefer ``get_rules("connect4").initial()``)."""
        _set = object.__setattr__
        _set(self, "_pos", pos)
        _set(self, "_mask", mask)
        _set(self, "_ply", ply)
        _set(self, "_outcome", outcome)
        _set(self, "_cells", cells)
        _set(self, "_last", last)

    @classmethod
    def from_bitboards(cls, position: int, mask: int) -> Connect4State:
        """Rebuild a state from Pons bitboards (as given by :attr:`position`, :attr:`mask`).

        The bitboards must describe a position reachable in a legal game.
        """
        ply = mask.bit_count()
        outcome: Outcome | None = None
        last = position ^ mask  # stones of the side that moved last
        if ply and has_alignment(last):
            winner = (ply - 1) & 1
            # Every winning run shares the stone played last, so the union of all runs
            # of the winner is the same whichever of those stones came last.
            cells: set[int] = set()
            for i in range(WIDTH * H1):
                if last >> i & 1:
                    cells.update(_line_through(last, i))
            outcome = Outcome(winner, tuple(sorted(cells)))
        elif ply == CELLS:
            outcome = Outcome(None, ())
        return cls(position, mask, ply, outcome, None, None)

    @property
    def rules(self) -> Connect4:
        return CONNECT4

    @property
    def position(self) -> int:
        """Bitboard of the stones of seat ``ply % 2`` (the side to move while running)."""
        return self._pos

    @property
    def mask(self) -> int:
        """Bitboard of all stones."""
        return self._mask

    @property
    def last_cell(self) -> int | None:
        return self._last

    def legal_moves(self) -> tuple[int, ...]:
        if self._outcome is not None:
            return ()
        mask = self._mask
        return tuple([c for c, top in _TOPS if not mask & top])

    def apply(self, move: int) -> Connect4State:
        col = check_move_type(move)
        if self._outcome is not None:
            raise IllegalMove(move, "game_over", "the game is already over")
        if not 0 <= col < WIDTH:
            raise IllegalMove(move, "out_of_range", "a connect-four move is a column 0..6")
        mask = self._mask
        if mask & top_mask_col(col):
            raise IllegalMove(move, "column_full", f"column {col} is full")
        new_mask = mask | (mask + bottom_mask_col(col))
        mine = self._pos | (new_mask ^ mask)
        ply = self._ply + 1
        index = (new_mask ^ mask).bit_length() - 1
        outcome: Outcome | None = None
        if has_alignment(mine):
            outcome = Outcome(self._ply & 1, _line_through(mine, index))
        elif ply == CELLS:
            outcome = Outcome(None, ())
        cell = bit_to_cell(index)
        cells = self._cells
        if cells is not None:
            cells = (*cells[:cell], self._ply & 1, *cells[cell + 1:])
        return Connect4State(mine ^ new_mask, new_mask, ply, outcome, cells, cell)

    def winning_moves(self, seat: int | None = None) -> tuple[int, ...]:
        if self._outcome is not None:
            return ()
        stones = self._pos if seat is None or seat == self._ply & 1 else self._pos ^ self._mask
        mask = self._mask
        spots = winning_spots(stones, mask) & ((mask + BOTTOM_MASK) & BOARD_MASK)
        return tuple(c for c in range(WIDTH) if spots & column_mask(c))

    def board(self) -> list[int | None]:
        if self._cells is None:
            object.__setattr__(self, "_cells", tuple(self._build_board()))
        assert self._cells is not None
        return list(self._cells)

    def _build_board(self) -> list[int | None]:
        cells: list[int | None] = [None] * CELLS
        mine_seat = self._ply & 1
        pos, mask = self._pos, self._mask
        while mask:
            low = mask & -mask
            i = low.bit_length() - 1
            cells[bit_to_cell(i)] = mine_seat if pos & low else 1 - mine_seat
            mask ^= low
        return cells

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Connect4State):
            return NotImplemented
        return self._mask == other._mask and self._pos == other._pos

    def __hash__(self) -> int:
        return hash(self._pos + self._mask)

    def __repr__(self) -> str:
        return f"<Connect4State {str(self).replace(chr(10), '/')} ply={self._ply}>"

    def __reduce__(self) -> tuple[object, tuple[int, int]]:
        return (Connect4State.from_bitboards, (self._pos, self._mask))


class Connect4(Rules):
    """Connect-four rules: 7 columns x 6 rows, a move is a column 0..6; four in a row wins."""

    __slots__ = ()

    name = "connect4"
    title = "Connect Four"
    rows = HEIGHT
    cols = WIDTH

    def initial(self) -> Connect4State:
        return _INITIAL


CONNECT4: Final = Connect4()
"""The connect-four rules singleton."""
_INITIAL: Final = Connect4State()
