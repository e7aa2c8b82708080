"""Exact connect-four solver after Pascal Pons' "Solving Connect 4" tutorial.

Everything works on raw ints (see :mod:`game.games.connect4.rules` for the bitboards): a
position is ``(position, mask, moves)`` where ``position`` holds the stones of the side
to move, ``mask`` all stones and ``moves`` their count.

Scores follow Pons: positive when the side to move wins, ``22 - stones the winner
played``; ``0`` for a draw; negative when it loses, ``stones the winner played - 22``.

The search is negamax with alpha-beta pruning over the *non-losing* moves only
(:func:`non_losing_moves`), moves ordered by the number of winning spots they create
(ties: centre first), a transposition table of upper and lower bounds keyed by
``position + mask``, and a null-window search whose window bisects the range of
possible scores (:meth:`Solver.solve`).
"""

from __future__ import annotations

import time
from array import array
from math import isqrt
from typing import Final

from game.games.connect4.rules import (
    BOARD_MASK,
    BOTTOM_MASK,
    bottom_mask_col,
    column_mask,
    winning_spots,
)

__all__ = [
    "MAX_SCORE",
    "MIN_SCORE",
    "ORDER",
    "SearchTimeout",
    "Solver",
    "can_win_next",
    "non_losing_moves",
    "prime_at_most",
]

WIDTH: Final = 7
CELLS: Final = 42
MIN_SCORE: Final = -(CELLS // 2) + 3  # -18: the fastest possible loss
MAX_SCORE: Final = (CELLS + 1) // 2 - 3  # 18: the fastest possible win
ORDER: Final = (3, 2, 4, 1, 5, 0, 6)
"""Columns from the centre outwards: the tie-break of the move ordering."""
_ORDERED_MASKS: Final = tuple(column_mask(c) for c in ORDER)

# Transposition table encoding (Pons): an upper bound u is stored as u - MIN_SCORE + 1
# (1..37), a lower bound l as l + MAX_SCORE - 2 * MIN_SCORE + 2 (38..).
_UPPER_OFFSET: Final = -MIN_SCORE + 1  # 19
_LOWER_OFFSET: Final = MAX_SCORE - 2 * MIN_SCORE + 2  # 56
_UPPER_MAX: Final = MAX_SCORE - MIN_SCORE + 1  # 37

DEFAULT_TABLE_SLOTS: Final = 1 << 20
"""Slots of the solver's table (rounded down to a prime): 8 MB."""


def prime_at_most(n: int) -> int:
    """The largest prime ``<= n``: table sizes that spread the keys evenly."""
    for c in range(n, 1, -1):
        if c == 2 or (c % 2 and all(c % d for d in range(3, isqrt(c) + 1, 2))):
            return c
    raise ValueError("n must be at least 2")


class SearchTimeout(Exception):
    """Raised inside a search whose deadline has passed."""


def can_win_next(position: int, mask: int) -> bool:
    """True when the side to move has a move that wins at once."""
    return bool(winning_spots(position, mask) & (mask + BOTTOM_MASK) & BOARD_MASK)


def non_losing_moves(position: int, mask: int) -> int:
    """Bitmap of the playable cells that do not let the opponent win at once.

    Assumes the side to move cannot win at once.  ``0`` when every move loses.
    """
    possible = (mask + BOTTOM_MASK) & BOARD_MASK
    opp_win = winning_spots(position ^ mask, mask)
    forced = possible & opp_win
    if forced:
        if forced & (forced - 1):
            return 0
        possible = forced
    return possible & ~(opp_win >> 1)


def _bit_to_col(bit: int) -> int:
    return (bit.bit_length() - 1) // 7


class Solver:
    """An exact solver with its own transposition table (reuse it across positions).

    Not safe for concurrent use from several threads at once.
    """

    def __init__(self, table_slots: int = DEFAULT_TABLE_SLOTS) -> None:
        """``table_slots``: size of the transposition table (rounded down to a prime).

        The table is a fixed list, as in Pons' solver: slot ``key % size`` holds
        ``key << 7 | encoded bound`` and a newer entry replaces an older one.  It never
        grows, so it never pauses a timed search to resize or clear itself.
        """
        self.size = prime_at_most(table_slots)
        # A typed array, not a list: 8 bytes a slot, and nothing for the garbage
        # collector to walk (a list of a million ints would stall full collections).
        self.table = array("q", [-1]) * self.size
        self.nodes = 0
        """Positions visited by all searches so far."""
        self._start_nodes = 0

    def _negamax(
        self,
        position: int,
        mask: int,
        moves: int,
        alpha: int,
        beta: int,
        deadline: float | None,
        node_limit: int | None,
    ) -> int:
        """Null/narrow-window negamax; the side to move must not be able to win at once.

        Returns a value ``v``: if ``v <= alpha`` the true score is ``<= v``; if
        ``v >= beta`` the true score is ``>= v``; otherwise ``v`` is exact.
        """
        table = self.table
        size = self.size
        clock = time.perf_counter
        board, bottom = BOARD_MASK, BOTTOM_MASK
        ordered_masks = _ORDERED_MASKS
        nodes = 0
        limit = (1 << 62) if node_limit is None else node_limit
        if deadline is None:
            deadline = float("inf")

        def negamax(pos: int, mask: int, moves: int, alpha: int, beta: int) -> int:
            nonlocal nodes
            nodes += 1
            if not nodes & 255 and (nodes > limit or clock() > deadline):
                raise SearchTimeout
            # Winning spots of the opponent (Pons' compute_winning_position, inlined).
            o = pos ^ mask
            r = (o << 1) & (o << 2) & (o << 3)
            p = (o << 7) & (o << 14)
            r |= (p & (o << 21)) | (p & (o >> 7))
            p = (o >> 7) & (o >> 14)
            r |= (p & (o << 7)) | (p & (o >> 21))
            p = (o << 6) & (o << 12)
            r |= (p & (o << 18)) | (p & (o >> 6))
            p = (o >> 6) & (o >> 12)
            r |= (p & (o << 6)) | (p & (o >> 18))
            p = (o << 8) & (o << 16)
            r |= (p & (o << 24)) | (p & (o >> 8))
            p = (o >> 8) & (o >> 16)
            r |= (p & (o << 8)) | (p & (o >> 24))
            opp_win = r & (board ^ mask)
            possible = (mask + bottom) & board
            forced = possible & opp_win
            if forced:
                if forced & (forced - 1):
                    return -((42 - moves) >> 1)  # two threats: the opponent wins next
                possible = forced
            possible &= ~(opp_win >> 1)  # never play just under an opponent's spot
            if not possible:
                return -((42 - moves) >> 1)
            if moves >= 40:
                return 0
            lo = -((40 - moves) >> 1)  # the opponent cannot win on its next move
            if alpha < lo:
                alpha = lo
                if alpha >= beta:
                    return alpha
            hi = (41 - moves) >> 1  # we cannot win on this move
            key = pos + mask
            slot = key % size
            val = table[slot]
            if val >> 7 == key:
                val &= 127
                if val > 37:  # lower bound
                    lo = val - 56
                    if alpha < lo:
                        alpha = lo
                        if alpha >= beta:
                            return alpha
                else:  # upper bound
                    hi = val - 19
            if beta > hi:
                beta = hi
                if alpha >= beta:
                    return beta
            if possible & (possible - 1):
                # Order by the number of our winning spots after the move, centre first.
                scored = []
                rank = 7
                for cm in ordered_masks:
                    m = possible & cm
                    if m:
                        q = pos | m
                        r = (q << 1) & (q << 2) & (q << 3)
                        p = (q << 7) & (q << 14)
                        r |= (p & (q << 21)) | (p & (q >> 7))
                        p = (q >> 7) & (q >> 14)
                        r |= (p & (q << 7)) | (p & (q >> 21))
                        p = (q << 6) & (q << 12)
                        r |= (p & (q << 18)) | (p & (q >> 6))
                        p = (q >> 6) & (q >> 12)
                        r |= (p & (q << 6)) | (p & (q >> 18))
                        p = (q << 8) & (q << 16)
                        r |= (p & (q << 24)) | (p & (q >> 8))
                        p = (q >> 8) & (q >> 16)
                        r |= (p & (q << 8)) | (p & (q >> 24))
                        scored.append(((r & (board ^ mask)).bit_count() << 3 | rank, m))
                    rank -= 1
                scored.sort(reverse=True)
                for _, m in scored:
                    score = -negamax(o, mask | m, moves + 1, -beta, -alpha)
                    if score >= beta:
                        table[slot] = key << 7 | (score + 56)
                        return score
                    if score > alpha:
                        alpha = score
            else:
                score = -negamax(o, mask | possible, moves + 1, -beta, -alpha)
                if score >= beta:
                    table[slot] = key << 7 | (score + 56)
                    return score
                if score > alpha:
                    alpha = score
            table[slot] = key << 7 | (alpha + 19)
            return alpha

        try:
            return negamax(position, mask, moves, alpha, beta)
        finally:
            self.nodes += nodes

    def _prepare(self) -> None:
        self._start_nodes = self.nodes

    def _left(self, max_nodes: int | None) -> int | None:
        if max_nodes is None:
            return None
        return max(0, max_nodes - (self.nodes - self._start_nodes))

    def solve(
        self,
        position: int,
        mask: int,
        moves: int,
        *,
        weak: bool = False,
        deadline: float | None = None,
        max_nodes: int | None = None,
    ) -> int:
        """Exact score of a running position (Pons' convention), or only its sign if ``weak``.

        Raises:
            SearchTimeout: ``time.perf_counter()`` passed ``deadline``, or the search
                visited more than about ``max_nodes`` positions, before it finished.
        """
        if can_win_next(position, mask):
            return 1 if weak else (CELLS + 1 - moves) // 2
        self._prepare()
        lo = -((CELLS - moves) // 2)
        hi = (CELLS + 1 - moves) // 2
        if weak:
            lo, hi = -1, 1
        while lo < hi:  # bisect the score range with null windows, zero first
            med = lo + (hi - lo) // 2
            if med <= 0 and -(-lo // 2) < med:
                med = -(-lo // 2)
            elif med >= 0 and hi // 2 > med:
                med = hi // 2
            r = self._negamax(position, mask, moves, med, med + 1, deadline, self._left(max_nodes))
            if r <= med:
                hi = r
            else:
                lo = r
        return max(-1, min(1, lo)) if weak else lo

    def best_moves(
        self,
        position: int,
        mask: int,
        moves: int,
        *,
        deadline: float | None = None,
        max_nodes: int | None = None,
    ) -> tuple[int, list[int]]:
        """The exact score and every column that achieves it (in column order).

        Raises:
            SearchTimeout: as for :meth:`solve` (``max_nodes`` counts both phases).
        """
        self._start_nodes = self.nodes
        score = self.solve(position, mask, moves, deadline=deadline, max_nodes=max_nodes)
        possible = (mask + BOTTOM_MASK) & BOARD_MASK
        win_now = winning_spots(position, mask) & possible
        best: list[int] = []
        for col in range(WIDTH):
            m = possible & column_mask(col)
            if not m:
                continue
            if m & win_now:
                if score == (CELLS + 1 - moves) // 2:
                    best.append(col)
                continue
            child = position ^ mask
            child_mask = mask | m
            if can_win_next(child, child_mask):
                child_score = (CELLS - moves) // 2
            else:
                # Does this move hold the score, i.e. is the child's score <= -score?
                child_score = self._negamax(
                    child,
                    child_mask,
                    moves + 1,
                    -score,
                    -score + 1,
                    deadline,
                    self._left(max_nodes),
                )
            if child_score <= -score:
                best.append(col)
        return score, best

    def opponent_mistakes(
        self,
        position: int,
        mask: int,
        moves: int,
        score: int,
        cols: list[int],
        *,
        deadline: float | None = None,
        max_nodes: int | None = None,
    ) -> dict[int, int]:
        """For moves that all achieve ``score`` (a draw or a loss): the opponent's chances.

        For each column in ``cols`` counts the opponent's replies that do not give us an
        immediate win yet change the result in our favour (a loss into a draw or a win,
        a draw into a win): the subtle chances an imperfect opponent has to go wrong.

        Raises:
            SearchTimeout: as for :meth:`solve`.
        """
        self._start_nodes = self.nodes
        target = 1 if score >= 0 else 0  # the value that would change the result for us
        counts: dict[int, int] = {}
        for col in cols:
            m = (mask + bottom_mask_col(col)) & column_mask(col)
            child, child_mask = position ^ mask, mask | m
            if can_win_next(child, child_mask):
                counts[col] = 0
                continue
            replies = (child_mask + BOTTOM_MASK) & BOARD_MASK
            count = 0
            while replies:
                r = replies & -replies
                replies ^= r
                grand, grand_mask = child ^ child_mask, child_mask | r
                if can_win_next(grand, grand_mask):
                    continue  # an obvious blunder: not counted
                if (
                    self._negamax(
                        grand,
                        grand_mask,
                        moves + 2,
                        target - 1,
                        target,
                        deadline,
                        self._left(max_nodes),
                    )
                    >= target
                ):
                    count += 1
            counts[col] = count
        return counts
