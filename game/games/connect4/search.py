"""Depth-limited connect-four search with a heuristic evaluation, for a time budget.

Used by the ``hard`` bot when the exact solver (:mod:`game.games.connect4.solver`) cannot
finish in time.  Iterative deepening over a negamax alpha-beta search that keeps the
exact tricks of the solver (non-losing moves only, forced blocks, immediate-loss
detection) and replaces the unexplored rest of the tree with :func:`evaluate`.

Values are in "milli-Pons": a proven result is ``1000 * score`` (Pons' convention,
so ``|value| >= 1000``); a heuristic estimate is strictly between -1000 and 1000.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass
from typing import Final

from game.games.connect4.rules import BOARD_MASK, BOTTOM_MASK, column_mask, winning_spots
from game.games.connect4.solver import (
    ORDER,
    SearchTimeout,
    Solver,
    non_losing_moves,
    prime_at_most,
)

__all__ = ["PROVEN", "HeuristicSearch", "SearchResult", "evaluate"]

PROVEN: Final = 1000
"""Values at least this large (in absolute value) are proven wins or losses."""

_EXACT: Final = 0
_LOWER: Final = 1
_UPPER: Final = 2
_VALUE_OFFSET: Final = 1 << 16
_COL_MASKS: Final = tuple(column_mask(c) for c in range(7))

# Number of four-cell lines through each cell (bit rows 0..5 bottom to top).
_CELL_LINES: Final = (
    (3, 4, 5, 5, 4, 3),
    (4, 6, 8, 8, 6, 4),
    (5, 8, 11, 11, 8, 5),
    (7, 10, 13, 13, 10, 7),
    (5, 8, 11, 11, 8, 5),
    (4, 6, 8, 8, 6, 4),
    (3, 4, 5, 5, 4, 3),
)


def _weight_masks() -> tuple[tuple[int, int], ...]:
    by_weight: dict[int, int] = {}
    for col, rows in enumerate(_CELL_LINES):
        for row, w in enumerate(rows):
            by_weight[w] = by_weight.get(w, 0) | 1 << (col * 7 + row)
    return tuple(sorted(by_weight.items()))


_WEIGHTS: Final = _weight_masks()
_ODD_ROWS: Final = BOTTOM_MASK * 0b010101  # rows 1, 3, 5 counted from 1 at the bottom
_EVEN_ROWS: Final = BOTTOM_MASK * 0b101010
_ORDERED_MASKS: Final = tuple(column_mask(c) for c in ORDER)


def evaluate(position: int, mask: int, moves: int, theirs: int | None = None) -> int:
    """Heuristic value of a running position for the side to move, in (-1000, 1000).

    Counts, for both sides, stones weighted by the number of lines through their cell,
    and the empty cells that would complete four (threats), with a bonus for threats on
    the rows that favour that side at the end of the game (odd rows for the first
    player, even rows for the second).  ``theirs``: the opponent's winning spots, when
    the caller has them already.
    """
    opp = position ^ mask
    value = 0
    for w, m in _WEIGHTS:
        value += w * ((position & m).bit_count() - (opp & m).bit_count())
    mine = winning_spots(position, mask)
    if theirs is None:
        theirs = winning_spots(opp, mask)
    if moves & 1:  # the side to move is the second player
        my_good, their_good = mine & _EVEN_ROWS, theirs & _ODD_ROWS
    else:
        my_good, their_good = mine & _ODD_ROWS, theirs & _EVEN_ROWS
    value += 24 * (mine.bit_count() - theirs.bit_count())
    value += 40 * (my_good.bit_count() - their_good.bit_count())
    return max(-PROVEN + 1, min(PROVEN - 1, value))


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The outcome of :meth:`HeuristicSearch.search`.

    Attributes:
        move: the chosen column.
        value: its value in milli-Pons (``abs(value) >= PROVEN``: proven).
        depth: the deepest completed iteration.
        exact: the value is proven (a forced result was found, or the search saw the end).
        nodes: positions visited.
    """

    move: int
    value: int
    depth: int
    exact: bool
    nodes: int


class HeuristicSearch:
    """Iterative-deepening alpha-beta with a transposition table of bounded size."""

    def __init__(self, table_slots: int = 1 << 19) -> None:
        """``table_slots``: size of the fixed transposition table (rounded to a prime).

        Slot ``key % size`` holds ``key // size << 28 | value, depth, flag, best
        column`` in a typed array (8 bytes a slot, invisible to the garbage collector);
        a newer entry replaces an older one, so the table never resizes mid-search.
        """
        self.size = prime_at_most(table_slots)
        if (1 << 49) // self.size >= 1 << 35:
            raise ValueError("table_slots too small")
        self.table = array("q", [-1]) * self.size

    def search(
        self,
        position: int,
        mask: int,
        moves: int,
        deadline: float,
        candidates: list[int] | None = None,
        max_nodes: int | None = None,
        exact: Solver | None = None,
    ) -> SearchResult | None:
        """Search the running position until ``deadline`` (``time.perf_counter()``).

        With ``max_nodes`` the search also stops after visiting about that many positions
        (reproducible play, independent of the machine's speed).  The bounds that the
        ``exact`` solver has proven (its transposition table) cut the search and clamp
        the evaluation.

        The side to move must not be able to win at once.  ``candidates`` restricts the
        root columns (default: the non-losing moves).  Returns ``None`` when not even the
        first iteration finished, or when every move loses at once.
        """
        possible = non_losing_moves(position, mask)
        if candidates is not None:
            allowed = 0
            for c in candidates:
                allowed |= column_mask(c)
            possible &= allowed
        root = [c for c in ORDER if possible & column_mask(c)]
        if not root:
            return None
        table = self.table
        size = self.size
        ex_table = None if exact is None else exact.table
        ex_size = 1 if exact is None else exact.size
        clock = time.perf_counter
        board, bottom = BOARD_MASK, BOTTOM_MASK
        ordered_masks = _ORDERED_MASKS
        col_masks = _COL_MASKS
        nodes = 0
        limit = (1 << 62) if max_nodes is None else max_nodes
        horizon = False  # did the current iteration stop anywhere at depth 0?

        def negamax(pos: int, mask: int, moves: int, depth: int, alpha: int, beta: int) -> int:
            nonlocal nodes, horizon
            nodes += 1
            if not nodes & 63 and (nodes > limit or clock() > deadline):
                raise SearchTimeout
            o = pos ^ mask
            opp_win = winning_spots(o, mask)
            possible = (mask + bottom) & board
            forced = possible & opp_win
            if forced:
                if forced & (forced - 1):
                    return -((42 - moves) >> 1) * 1000
                possible = forced
            possible &= ~(opp_win >> 1)
            if not possible:
                return -((42 - moves) >> 1) * 1000
            if moves >= 40:
                return 0
            key = pos + mask
            lo_b, hi_b = -(1 << 30), 1 << 30
            if ex_table is not None:
                # Bounds proven by the exact solver (Pons' encoding, see c4solver).
                ev = ex_table[key % ex_size]
                if ev >> 7 == key:
                    ev &= 127
                    if ev > 37:
                        lo_b = (ev - 56) * 1000
                        if lo_b >= beta:
                            horizon = horizon or lo_b < PROVEN  # a bound, not a value
                            return lo_b
                    else:
                        hi_b = (ev - 19) * 1000
                        if hi_b <= alpha:
                            horizon = horizon or hi_b > -PROVEN
                            return hi_b
            if depth <= 0:
                horizon = True
                return max(lo_b, min(hi_b, evaluate(pos, mask, moves, opp_win)))
            alpha0 = alpha
            check, slot = divmod(key, size)
            entry = table[slot]
            first = 0
            if entry >> 28 == check:
                entry &= (1 << 28) - 1
                # entry = value (offset) | depth (6 bits) | flag (2 bits) | best column + 1
                e_value = (entry >> 11) - _VALUE_OFFSET
                if (entry >> 5) & 63 >= depth or abs(e_value) >= PROVEN:
                    if abs(e_value) < PROVEN:
                        horizon = True  # the entry may rest on heuristic leaves
                    e_flag = (entry >> 3) & 3
                    if e_flag == _EXACT:
                        return e_value
                    if e_flag == _LOWER:
                        if e_value >= beta:
                            return e_value
                    elif e_value <= alpha:
                        return e_value
                if entry & 7:
                    first = possible & col_masks[(entry & 7) - 1]
            scored = []
            rank = 7
            for cm in ordered_masks:
                m = possible & cm
                if m:
                    if m == first:
                        scored.append((1 << 20, m))
                    else:
                        spots = winning_spots(pos | m, mask).bit_count()
                        scored.append((spots << 3 | rank, m))
                rank -= 1
            scored.sort(reverse=True)
            best = -(1 << 30)
            best_move = 0
            for _, m in scored:
                score = -negamax(o, mask | m, moves + 1, depth - 1, -beta, -alpha)
                if score > best:
                    best, best_move = score, m
                    if score > alpha:
                        alpha = score
                        if alpha >= beta:
                            break
            flag = _UPPER if best <= alpha0 else _LOWER if best >= beta else _EXACT
            col = (best_move.bit_length() - 1) // 7 + 1
            table[slot] = check << 28 | (best + _VALUE_OFFSET) << 11 | depth << 5 | flag << 3 | col
            return best

        result: SearchResult | None = None
        values: dict[int, int] = {}
        for depth in range(1, 43 - moves):
            horizon = False
            order = sorted(root, key=lambda c: -values.get(c, 0)) if values else root
            alpha, beta = -(1 << 30), 1 << 30
            best_col, best = order[0], -(1 << 30)
            try:
                for col in order:
                    m = possible & column_mask(col)
                    score = -negamax(position ^ mask, mask | m, moves + 1, depth - 1, -beta, -alpha)
                    values[col] = score
                    if score > best:
                        best, best_col = score, col
                        alpha = max(alpha, score)
            except SearchTimeout:
                if result is not None and best_col != order[0]:
                    # A move searched to this depth beat the previous best: take it.
                    result = SearchResult(best_col, best, depth, False, nodes)
                break
            proven = abs(best) >= PROVEN or not horizon
            result = SearchResult(best_col, best, depth, proven, nodes)
            if proven:
                break
        if result is not None:
            result = SearchResult(result.move, result.value, result.depth, result.exact, nodes)
        return result
