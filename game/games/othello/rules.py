"""Othello (Reversi) on an 8x8 board, seat 0 (black) first.  Standard library only, no I/O.

>>> from game.games.othello.rules import OTHELLO, square
>>> state = OTHELLO.initial()
>>> state.to_move, state.legal_moves()
(0, (19, 26, 37, 44))
>>> state = state.apply(square("f5"))
>>> state.board()[36], state.disc_counts(), state.to_move
(0, (4, 1), 1)
>>> str(state).splitlines()[3:5]  # X: black (seat 0), O: white (seat 1)
['...OX...', '...XXX..']
>>> state.apply(0)
Traceback (most recent call last):
    ...
game.rules.base.IllegalMove: illegal move 0: cell 0 flips no disc (no_flip)

Board and moves
    A move is a cell ``0..63``, row-major from the top left: ``cell = 8 * row + col``,
    row 0 at the top.  In the usual notation (:func:`square`, :func:`square_name`) the
    columns are ``a``-``h`` and the rows ``1``-``8`` from the top, so ``"f5"`` is cell
    37.  The start has white (seat 1) on d4 and e5 (cells 27, 36), black (seat 0) on e4
    and d5 (cells 28, 35); black moves first.  A move must flip at least one disc: every
    straight line of opponent discs, in any of the eight directions, that the new disc
    closes against a disc of the mover's colour is flipped.

Passes
    A side with no legal move is passed over automatically: :meth:`OthelloState.apply`
    returns the state where the *other* side is to move again, and that state says so
    in :attr:`OthelloState.passed` (the seat that was passed over right before it).  A
    pass is therefore never a move of its own: ``legal_moves()`` never offers one,
    :attr:`~game.rules.State.ply` counts discs placed, and equal positions (same discs,
    same side to move) are equal whether or not a pass led to them.

    A game record keeps the passes visible as ``None``: :meth:`Othello.record` turns a
    list of moves into the list with a ``None`` after every move that made the opponent
    pass (what a server shows as ``null`` in a view's ``moves``), and
    :meth:`Othello.replay` accepts either form (a ``None`` is accepted only right after
    such a move; anywhere else it is refused with reason ``"not_an_int"``).  A caller
    that applies moves one at a time appends ``None`` whenever the new state's
    :attr:`~OthelloState.passed` is not ``None``.

End and result
    The game ends when neither side can move (a full board, a wipe-out, or a blocked
    position).  The :class:`~game.rules.Outcome` has ``winner`` = the seat with more
    discs (``None`` for equal counts, a draw), ``line=()``, and ``score`` = the disc
    counts of seat 0 and seat 1 (empty squares are not awarded to anyone).

Illegal moves
    :class:`~game.rules.IllegalMove` with ``reason``: ``"not_an_int"``,
    ``"game_over"``, ``"out_of_range"`` (not in 0..63), ``"occupied"``, or
    ``"no_flip"`` (an empty cell where the disc would flip nothing), checked in that
    order (see :data:`REASONS`).

The rest of the :class:`~game.rules.State` interface
    :meth:`~OthelloState.winning_moves` lists the moves that end the game at once with
    a win (othello has no lines); :attr:`~OthelloState.last_cell` is the cell of the
    disc just placed (the flipped discs change too); :meth:`~OthelloState.flips` lists
    what a move would flip; :meth:`~OthelloState.disc_counts` counts the discs.

Bitboards
    A position is two 64-bit ints, bit ``i`` standing for cell ``i`` (so bit 0 is a1,
    the top left).  :func:`legal_mask` and :func:`flips` are the shift-and-mask move
    generator, exposed for fast engines (:mod:`game.games.othello.bots`);
    :attr:`OthelloState.black`, :attr:`~OthelloState.white` and
    :meth:`OthelloState.from_bitboards` convert.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from game.rules.base import IllegalMove, Outcome, Rules, State, check_move_type

__all__ = [
    "CELLS",
    "CORNERS",
    "FULL",
    "OTHELLO",
    "REASONS",
    "SIZE",
    "Othello",
    "OthelloState",
    "bits",
    "flips",
    "legal_mask",
    "square",
    "square_name",
]

SIZE: Final = 8
"""Rows and columns."""
CELLS: Final = SIZE * SIZE
FULL: Final = (1 << CELLS) - 1
"""Every cell."""
CORNERS: Final = 1 << 0 | 1 << 7 | 1 << 56 | 1 << 63
"""a1, h1, a8, h8."""

REASONS: Final[tuple[str, ...]] = ("not_an_int", "game_over", "out_of_range", "occupied", "no_flip")
"""Othello's illegal-move reasons, in the order they are checked."""

_NOT_A: Final = 0xFEFEFEFEFEFEFEFE  # every column but a (col 0)
_NOT_H: Final = 0x7F7F7F7F7F7F7F7F  # every column but h (col 7)
_INNER: Final = _NOT_A & _NOT_H  # columns b..g

_START_BLACK: Final = 1 << 28 | 1 << 35  # e4, d5
_START_WHITE: Final = 1 << 27 | 1 << 36  # d4, e5


def legal_mask(me: int, opp: int) -> int:
    """Bitmask of the empty cells where the side owning ``me`` may play against ``opp``.

    The classic shift-and-mask generator: in each of the eight directions, runs of
    ``opp`` discs adjacent to ``me`` are grown one step at a time (at most six), and
    the empty cell just past a run is a move.  The opponent's discs are masked to
    columns b..g for the six directions that move sideways, so no run wraps around an
    edge.
    """
    empty = ~(me | opp) & FULL
    o = opp & _INNER
    # east (+1)
    x = o & (me << 1)
    x |= o & (x << 1)
    x |= o & (x << 1)
    x |= o & (x << 1)
    x |= o & (x << 1)
    x |= o & (x << 1)
    moves = x << 1
    # west (-1)
    x = o & (me >> 1)
    x |= o & (x >> 1)
    x |= o & (x >> 1)
    x |= o & (x >> 1)
    x |= o & (x >> 1)
    x |= o & (x >> 1)
    moves |= x >> 1
    # south (+8)
    x = opp & (me << 8)
    x |= opp & (x << 8)
    x |= opp & (x << 8)
    x |= opp & (x << 8)
    x |= opp & (x << 8)
    x |= opp & (x << 8)
    moves |= x << 8
    # north (-8)
    x = opp & (me >> 8)
    x |= opp & (x >> 8)
    x |= opp & (x >> 8)
    x |= opp & (x >> 8)
    x |= opp & (x >> 8)
    x |= opp & (x >> 8)
    moves |= x >> 8
    # south-east (+9)
    x = o & (me << 9)
    x |= o & (x << 9)
    x |= o & (x << 9)
    x |= o & (x << 9)
    x |= o & (x << 9)
    x |= o & (x << 9)
    moves |= x << 9
    # north-west (-9)
    x = o & (me >> 9)
    x |= o & (x >> 9)
    x |= o & (x >> 9)
    x |= o & (x >> 9)
    x |= o & (x >> 9)
    x |= o & (x >> 9)
    moves |= x >> 9
    # south-west (+7)
    x = o & (me << 7)
    x |= o & (x << 7)
    x |= o & (x << 7)
    x |= o & (x << 7)
    x |= o & (x << 7)
    x |= o & (x << 7)
    moves |= x << 7
    # north-east (-7)
    x = o & (me >> 7)
    x |= o & (x >> 7)
    x |= o & (x >> 7)
    x |= o & (x >> 7)
    x |= o & (x >> 7)
    x |= o & (x >> 7)
    moves |= x >> 7
    return moves & empty


def flips(me: int, opp: int, move: int) -> int:
    """Bitmask of the ``opp`` discs that a disc of ``me`` on bit ``move`` (a one-bit mask,
    an empty cell) would flip; ``0`` means the move is not legal."""
    out = 0
    o = opp & _INNER
    for shift in (1, 7, 8, 9):
        run_opp = opp if shift == 8 else o
        # towards higher bits
        line = 0
        x = move << shift
        while x & run_opp:
            line |= x
            x <<= shift
        if x & me:
            out |= line
        # towards lower bits
        line = 0
        x = move >> shift
        while x & run_opp:
            line |= x
            x >>= shift
        if x & me:
            out |= line
    return out


def bits(mask: int) -> tuple[int, ...]:
    """The indices of the set bits of ``mask``, ascending (the cells of a bitboard)."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return tuple(out)


def square(name: str) -> int:
    """The cell of a square in the usual notation: ``square("a1") == 0``,
    ``square("h8") == 63`` (column letter, then row number counted from the top).

    Raises:
        ValueError: ``name`` is not a square.
    """
    if len(name) != 2 or name[0].lower() not in "abcdefgh" or name[1] not in "12345678":
        raise ValueError(f"not an othello square: {name!r}")
    return (int(name[1]) - 1) * SIZE + "abcdefgh".index(name[0].lower())


def square_name(cell: int) -> str:
    """The usual name of ``cell`` (0..63): ``square_name(37) == "f5"``."""
    if not 0 <= cell < CELLS:
        raise ValueError(f"not an othello cell: {cell!r}")
    row, col = divmod(cell, SIZE)
    return f"{'abcdefgh'[col]}{row + 1}"


class OthelloState(State):
    """An othello position (immutable, hashable).

    Equality and hashing depend on the discs and the side to move only (not on
    :attr:`passed` nor on the moves that led here).  :attr:`black` and :attr:`white`
    expose the bitboards for fast engines.
    """

    __slots__ = ("_discs", "_last", "_legal", "_passed", "_to_move")

    _discs: tuple[int, int]
    _to_move: int | None
    _passed: int | None
    _legal: int
    _last: int | None

    def __init__(self, black: int = _START_BLACK, white: int = _START_WHITE, turn: int = 0,
                 last: int | None = None) -> None:
        """The position with seat 0's discs ``black`` and seat 1's ``white`` where ``turn``
        would move next, ``last`` the cell just played (unchecked: see
        :meth:`from_bitboards`); with none of them, the starting position (prefer
        ``OTHELLO.initial()``)."""
        _set = object.__setattr__
        me, opp = (black, white) if turn == 0 else (white, black)
        legal = legal_mask(me, opp)
        to_move: int | None = turn
        passed: int | None = None
        outcome: Outcome | None = None
        if not legal:
            legal = legal_mask(opp, me)
            if legal:
                to_move, passed = 1 - turn, turn
            else:
                to_move = None
                counts = (black.bit_count(), white.bit_count())
                winner = None if counts[0] == counts[1] else int(counts[1] > counts[0])
                outcome = Outcome(winner, (), counts)
        _set(self, "_discs", (black, white))
        _set(self, "_to_move", to_move)
        _set(self, "_passed", passed)
        _set(self, "_legal", legal)
        _set(self, "_last", last)
        _set(self, "_ply", (black | white).bit_count() - 4)
        _set(self, "_outcome", outcome)

    @classmethod
    def from_bitboards(cls, black: int, white: int, turn: int = 0) -> OthelloState:
        """Build the position with seat 0's discs ``black`` and seat 1's discs ``white``
        (disjoint 64-bit masks) where ``turn`` would move next.

        The usual rules then apply: when ``turn`` has no legal move it is passed over
        (:attr:`passed` is ``turn``), and when neither side can move the game is over.
        """
        if black & white or (black | white) & ~FULL or black < 0 or white < 0:
            raise ValueError("the bitboards must be disjoint 64-bit masks")
        if turn not in (0, 1):
            raise ValueError(f"turn must be 0 or 1, not {turn!r}")
        return cls(black, white, turn)

    @property
    def rules(self) -> Othello:
        return OTHELLO

    @property
    def to_move(self) -> int | None:
        """The seat to move (0 or 1) after any automatic pass; ``None`` once over."""
        return self._to_move

    @property
    def passed(self) -> int | None:
        """The seat that was passed over right before this state (it had no legal move,
        so the other seat moves again), else ``None``.  Never set on a finished game."""
        return self._passed

    @property
    def ply(self) -> int:
        """Number of discs placed so far (passes are not counted)."""
        return self._ply

    @property
    def black(self) -> int:
        """Bitboard of seat 0's discs (bit ``i`` = cell ``i``)."""
        return self._discs[0]

    @property
    def white(self) -> int:
        """Bitboard of seat 1's discs."""
        return self._discs[1]

    @property
    def legal_bitboard(self) -> int:
        """Bitboard of the legal moves of the side to move (``0`` once over)."""
        return self._legal

    @property
    def last_cell(self) -> int | None:
        """The cell of the disc the last move placed (the discs it flipped change too)."""
        return self._last

    def disc_counts(self) -> tuple[int, int]:
        """The number of discs of seat 0 and of seat 1."""
        return self._discs[0].bit_count(), self._discs[1].bit_count()

    def legal_moves(self) -> tuple[int, ...]:
        return bits(self._legal)

    def apply(self, move: int) -> OthelloState:
        """Return the state after the side to move places a disc on cell ``move``.

        When the opponent then has no legal move it is passed over (see
        :attr:`passed`); when neither side can move the game is over.

        Raises:
            IllegalMove: ``not_an_int``, ``game_over``, ``out_of_range``, ``occupied``
                or ``no_flip`` (see :data:`REASONS`).
        """
        cell = check_move_type(move)
        seat = self._to_move
        if seat is None:
            raise IllegalMove(move, "game_over", "the game is already over")
        if not 0 <= cell < CELLS:
            raise IllegalMove(move, "out_of_range", "an othello move is a cell 0..63")
        bit = 1 << cell
        if not self._legal & bit:
            black, white = self._discs
            if (black | white) & bit:
                raise IllegalMove(move, "occupied", f"cell {cell} is already taken")
            raise IllegalMove(move, "no_flip", f"cell {cell} flips no disc")
        black, white = self._discs
        if seat == 0:
            f = flips(black, white, bit)
            return OthelloState(black | bit | f, white ^ f, 1, cell)
        f = flips(white, black, bit)
        return OthelloState(black ^ f, white | bit | f, 0, cell)

    def flips(self, move: int) -> tuple[int, ...]:
        """The cells that ``move`` by the side to move would flip (``()`` if illegal)."""
        seat = self._to_move
        if seat is None or not 0 <= move < CELLS or not self._legal >> move & 1:
            return ()
        me, opp = self._discs if seat == 0 else self._discs[::-1]
        return bits(flips(me, opp, 1 << move))

    def winning_moves(self, seat: int | None = None) -> tuple[int, ...]:
        """Moves of ``seat`` (default: the side to move; the other seat as if it were
        to move) after which the game is over and ``seat`` has won.

        Othello has no lines to complete: this is the "win in one" that the shared
        bots look for.  ``()`` once the game is over.
        """
        if self._to_move is None:
            return ()
        if seat is None:
            seat = self._to_move
        black, white = self._discs
        me, opp = (black, white) if seat == 0 else (white, black)
        out = []
        for cell in bits(legal_mask(me, opp)):
            bit = 1 << cell
            f = flips(me, opp, bit)
            mine, theirs = me | bit | f, opp ^ f
            if (
                not legal_mask(theirs, mine)
                and not legal_mask(mine, theirs)
                and mine.bit_count() > theirs.bit_count()
            ):
                out.append(cell)
        return tuple(out)

    def board(self) -> list[int | None]:
        black, white = self._discs
        return [
            0 if black >> i & 1 else 1 if white >> i & 1 else None for i in range(CELLS)
        ]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OthelloState):
            return NotImplemented
        return self._discs == other._discs and self._to_move == other._to_move

    def __hash__(self) -> int:
        return hash(("othello", *self._discs, self._to_move))

    def __repr__(self) -> str:
        return (
            f"<OthelloState {str(self).replace(chr(10), '/')} ply={self._ply}"
            f" to_move={self._to_move}>"
        )

    def __reduce__(self) -> tuple[object, tuple[int, int, int, int | None]]:
        # The seat that was due before any pass: rebuilding re-derives the pass.
        turn = self._passed if self._passed is not None else self._to_move or 0
        return (OthelloState, (*self._discs, turn, self._last))


def _rules(name: str) -> Othello:
    """Unpickle the rules singleton (the registry of :mod:`game.rules` may not know it)."""
    assert name == OTHELLO.name
    return OTHELLO


class Othello(Rules):
    """Othello rules: 8x8, a move is a cell 0..63 (row-major from the top left) that
    flips at least one disc; passes are automatic; the most discs wins."""

    __slots__ = ()

    name = "othello"
    title = "Othello"
    rows = SIZE
    cols = SIZE

    def initial(self) -> OthelloState:
        return _INITIAL

    def replay(self, moves: Iterable[int | None]) -> OthelloState:
        """Apply ``moves`` in order from the initial position.

        ``moves`` may be a plain list of moves or a record with ``None`` for the passes
        (see :meth:`record`): a ``None`` is accepted once right after a move that made
        the opponent pass.

        Raises:
            IllegalMove: on the first move that is not legal where it is played (a
                misplaced ``None`` has reason ``"not_an_int"``).
        """
        state = _INITIAL
        pass_pending = False
        for move in moves:
            if move is None and pass_pending:
                pass_pending = False
                continue
            if move is None:
                raise IllegalMove(move, "not_an_int", "no side was passed over here")
            state = state.apply(move)
            pass_pending = state._passed is not None
        return state

    def record(self, moves: Iterable[int | None]) -> list[int | None]:
        """The game record of ``moves``: the moves with a ``None`` after each move that
        made the opponent pass (``None`` entries already in ``moves`` are kept where
        :meth:`replay` accepts them).

        >>> OTHELLO.record([37, 29, 21])[:3]
        [37, 29, 21]

        Raises:
            IllegalMove: as :meth:`replay`.
        """
        out: list[int | None] = []
        state = _INITIAL
        pass_pending = False
        for move in moves:
            if move is None and pass_pending:
                pass_pending = False
                continue
            if move is None:
                raise IllegalMove(move, "not_an_int", "no side was passed over here")
            state = state.apply(move)
            out.append(move)
            pass_pending = state._passed is not None
            if pass_pending:
                out.append(None)
        return out

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_rules, (self.name,))


OTHELLO: Final = Othello()
"""The othello rules singleton."""
_INITIAL: Final = OthelloState()
