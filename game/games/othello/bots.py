"""Othello bots, from ``random`` to ``hard``, on the bitboards of :mod:`.rules`.

>>> from game.games.othello.bots import get_bot
>>> from game.games.othello.rules import OTHELLO, square
>>> state = OTHELLO.replay([square(s) for s in ("f5", "f6", "e6", "f4")])
>>> get_bot("hard", seed=1, max_depth=3).choose(state) in state.legal_moves()
True

Levels (:data:`game.bots.LEVELS`):

* ``random`` (:class:`RandomBot`): a uniformly random legal move.
* ``easy`` (:class:`EasyBot`): greedy: usually the move that flips the most discs,
  sometimes (:attr:`EasyBot.random_rate`) a random one.
* ``medium`` (:class:`MediumBot`): two plies over a positional table (:data:`WEIGHTS`):
  the move whose worst reply leaves the best table score; ties at random.
* ``hard`` (:class:`HardBot`): negamax alpha-beta with a transposition table and
  iterative deepening under a time budget (and optionally a node budget or a depth
  limit, for reproducible play), over :func:`evaluate` (mobility, corners, squares next
  to empty corners, frontier discs, the positional table, disc count and parity late);
  with few empty squares left (:attr:`HardBot.endgame_empties`) it solves the game
  exactly to the end, maximising the final disc difference.

Every bot reads the position through :class:`~game.games.othello.rules.OthelloState`
and never mutates it; its only state is its private ``random.Random(seed)`` (and the
``hard`` bot's transposition table, a cache).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from game.bots.base import DEFAULT_TIME_BUDGET, LEVELS, Bot, UnknownLevel
from game.games.othello.rules import CORNERS, FULL, OthelloState, bits, flips, legal_mask
from game.rules import State

__all__ = [
    "WEIGHTS",
    "WIN",
    "EasyBot",
    "HardBot",
    "MediumBot",
    "RandomBot",
    "SearchResult",
    "anchored",
    "evaluate",
    "get_bot",
]

WEIGHTS: Final[tuple[int, ...]] = (
    100, -20, 10, 5, 5, 10, -20, 100,
    -20, -50, -2, -2, -2, -2, -50, -20,
    10, -2, -1, -1, -1, -1, -2, 10,
    5, -2, -1, -1, -1, -1, -2, 5,
    5, -2, -1, -1, -1, -1, -2, 5,
    10, -2, -1, -1, -1, -1, -2, 10,
    -20, -50, -2, -2, -2, -2, -50, -20,
    100, -20, 10, 5, 5, 10, -20, 100,
)  # fmt: skip
"""The classic positional table, one weight per cell (corners good, X-squares bad)."""

WIN: Final = 1 << 20
"""A finished game is worth ``WIN + disc difference`` (won) or ``-WIN + difference``
(lost) to the side to move; every heuristic value is strictly smaller in size."""

_NOT_A: Final = 0xFEFEFEFEFEFEFEFE
_NOT_H: Final = 0x7F7F7F7F7F7F7F7F


def _weight_masks() -> tuple[tuple[int, int], ...]:
    by_weight: dict[int, int] = {}
    for cell, w in enumerate(WEIGHTS):
        by_weight[w] = by_weight.get(w, 0) | 1 << cell
    return tuple(sorted(by_weight.items()))


_WEIGHT_MASKS: Final = _weight_masks()


def _corner_zones() -> dict[int, tuple[int, int]]:
    """For every set of empty corners: (X-squares, C-squares) next to those corners."""
    zones = {
        0: (1 << 9, 1 << 1 | 1 << 8),
        7: (1 << 14, 1 << 6 | 1 << 15),
        56: (1 << 49, 1 << 48 | 1 << 57),
        63: (1 << 54, 1 << 55 | 1 << 62),
    }
    out: dict[int, tuple[int, int]] = {}
    corners = tuple(zones)
    for subset in range(16):
        x = c = key = 0
        for i, corner in enumerate(corners):
            if subset >> i & 1:
                key |= 1 << corner
                x |= zones[corner][0]
                c |= zones[corner][1]
        out[key] = (x, c)
    return out


_ZONES: Final = _corner_zones()
_EDGE_ROWS: Final = 0xFF | 0xFF << 56  # rows 1 and 8
_EDGE_COLS: Final = 0x0101010101010101 | 0x8080808080808080  # columns a and h


def anchored(discs: int) -> int:
    """The discs of ``discs`` on an edge joined to an own corner by an unbroken run of
    own discs along that edge: they can never be flipped (stable discs)."""
    stable = discs & CORNERS
    if not stable:
        return 0
    rows, cols = discs & _EDGE_ROWS, discs & _EDGE_COLS
    for _ in range(7):
        grown = stable | ((stable << 1 & _NOT_A) | (stable >> 1 & _NOT_H)) & rows
        grown |= (stable << 8 | stable >> 8) & cols
        if grown == stable:
            break
        stable = grown
    return stable
_ORDER_KEY: Final = tuple(WEIGHTS[i] for i in range(64))


def table_score(me: int, opp: int) -> int:
    """Sum of :data:`WEIGHTS` over ``me``'s discs minus over ``opp``'s."""
    score = 0
    for w, m in _WEIGHT_MASKS:
        score += w * ((me & m).bit_count() - (opp & m).bit_count())
    return score


def final_value(me: int, opp: int) -> int:
    """The exact value of a finished game for the owner of ``me`` (see :data:`WIN`)."""
    diff = me.bit_count() - opp.bit_count()
    return WIN + diff if diff > 0 else -WIN + diff if diff < 0 else 0


def evaluate(me: int, opp: int, my_moves: int | None = None) -> int:
    """Heuristic value of a running position for the side to move (discs ``me``),
    strictly between ``-WIN`` and ``WIN``.

    Sums, each as "mine minus theirs": corners (300 each); edge discs anchored to a
    corner (:func:`anchored`, 40 each); discs on an X-square (-150) or a C-square (-50)
    next to an EMPTY corner; mobility (legal moves, as a share of both sides' moves, up
    to +-800); frontier discs (next to an empty square, a share, up to -+500); twice
    the positional table; and, with 14 or fewer empty
    squares, 20 per disc of difference plus a parity bonus of 30 for the side that would
    play the last move.  ``my_moves``: the mover's legal-move mask, when known.
    """
    empty = ~(me | opp) & FULL
    if my_moves is None:
        my_moves = legal_mask(me, opp)
    mp = my_moves.bit_count()
    mo = legal_mask(opp, me).bit_count()
    score = 0
    if mp + mo:
        score += 800 * (mp - mo) // (mp + mo)
    score += 300 * ((me & CORNERS).bit_count() - (opp & CORNERS).bit_count())
    if (me | opp) & CORNERS:
        score += 40 * (anchored(me).bit_count() - anchored(opp).bit_count())
    x_sq, c_sq = _ZONES[empty & CORNERS]
    score -= 150 * ((me & x_sq).bit_count() - (opp & x_sq).bit_count())
    score -= 50 * ((me & c_sq).bit_count() - (opp & c_sq).bit_count())
    near_empty = (
        ((empty << 1 | empty << 9 | empty >> 7) & _NOT_A)
        | ((empty >> 1 | empty >> 9 | empty << 7) & _NOT_H)
        | empty << 8
        | empty >> 8
    )
    fp, fo = (me & near_empty).bit_count(), (opp & near_empty).bit_count()
    if fp + fo:
        score -= 500 * (fp - fo) // (fp + fo)
    for w, m in _WEIGHT_MASKS:
        score += 2 * w * ((me & m).bit_count() - (opp & m).bit_count())
    n_empty = empty.bit_count()
    if n_empty <= 14:
        score += 20 * (me.bit_count() - opp.bit_count())
        score += 30 if n_empty & 1 else -30
    return max(-WIN + 100, min(WIN - 100, score))


def _sides(state: State) -> tuple[int, int]:
    """(mover's discs, opponent's discs) of a running othello state."""
    assert isinstance(state, OthelloState)
    return (state.black, state.white) if state.to_move == 0 else (state.white, state.black)


class _OthelloBot(Bot):
    game = "othello"

    def _moves(self, state: State) -> tuple[int, ...]:
        legal = self._check(state)
        if not isinstance(state, OthelloState):
            raise ValueError(f"an othello bot cannot play {type(state).__name__}")
        return legal


class RandomBot(_OthelloBot):
    """Plays a uniformly random legal move."""

    level = "random"

    def choose(self, state: State) -> int:
        return self.rng.choice(self._moves(state))


class EasyBot(_OthelloBot):
    """Greedy on flips: the move that flips the most discs (ties at random), except that
    a share :attr:`random_rate` of its moves are uniformly random."""

    level = "easy"
    random_rate = 0.3

    def choose(self, state: State) -> int:
        legal = self._moves(state)
        if self.rng.random() < self.random_rate:
            return self.rng.choice(legal)
        me, opp = _sides(state)
        counts = [flips(me, opp, 1 << m).bit_count() for m in legal]
        most = max(counts)
        return self.rng.choice([m for m, n in zip(legal, counts, strict=True) if n == most])


class MediumBot(_OthelloBot):
    """Two plies over :data:`WEIGHTS`: each move is scored by the table score (mine
    minus theirs) after the opponent's best reply by that table (after the move itself
    when the opponent must pass); a position where the game is over counts as won or
    lost by the final disc count instead.  Ties at random."""

    level = "medium"

    def choose(self, state: State) -> int:
        legal = self._moves(state)
        me, opp = _sides(state)
        best, pool = -(1 << 40), []
        for m in legal:
            bit = 1 << m
            f = flips(me, opp, bit)
            mine, theirs = me | bit | f, opp ^ f
            value = self._after(mine, theirs)
            if value > best:
                best, pool = value, [m]
            elif value == best:
                pool.append(m)
        return self.rng.choice(pool)

    @staticmethod
    def _after(mine: int, theirs: int) -> int:
        """Value for the owner of ``mine`` when the owner of ``theirs`` is to move."""
        replies = legal_mask(theirs, mine)
        if not replies:
            if not legal_mask(mine, theirs):
                return final_value(mine, theirs)
            return table_score(mine, theirs)  # they pass
        worst = 1 << 40
        for r in bits(replies):
            bit = 1 << r
            f = flips(theirs, mine, bit)
            after_mine, after_theirs = mine ^ f, theirs | bit | f
            if legal_mask(after_mine, after_theirs) or legal_mask(after_theirs, after_mine):
                value = table_score(after_mine, after_theirs)
            else:
                value = final_value(after_mine, after_theirs)
            worst = min(worst, value)
        return worst


class SearchTimeout(Exception):
    """Raised inside the search when its time or node budget is spent."""


class SearchResult:
    """What :meth:`HardBot.search` found.

    Attributes:
        move: the chosen cell.
        value: its value for the side to move (``abs(value) > WIN - 100``: a proven
            result, see :data:`WIN`; ``0`` may also be a proven draw when ``exact``).
        depth: the deepest completed iteration (plies).
        exact: the search reached the end of the game on every line.
        nodes: positions visited.
    """

    __slots__ = ("depth", "exact", "move", "nodes", "value")

    def __init__(self, move: int, value: int, depth: int, exact: bool, nodes: int) -> None:
        self.move, self.value, self.depth, self.exact, self.nodes = (
            move, value, depth, exact, nodes)

    def __repr__(self) -> str:
        return (f"SearchResult(move={self.move}, value={self.value}, depth={self.depth}, "
                f"exact={self.exact}, nodes={self.nodes})")


_EXACT: Final = 0
_LOWER: Final = 1
_UPPER: Final = 2


class HardBot(_OthelloBot):
    """Negamax alpha-beta with iterative deepening and a transposition table.

    Args:
        seed: seeds the order in which equal root moves are tried (ties at random).
        time_budget: seconds per move (default :data:`game.bots.DEFAULT_TIME_BUDGET`);
            the deepest completed iteration's move is played (or a better move the
            unfinished iteration already found).
        node_budget: also stop after about this many positions: with a generous time
            budget this makes the play independent of the machine's speed.
        max_depth: also stop after this many plies (a fixed-depth player), except
            for the endgame solve.
        endgame_empties: with this many empty squares or fewer, search straight to
            the end of the game (an exact solve, if the budget allows); ``0``: never.

    Attributes:
        last: the :class:`SearchResult` of the last :meth:`choose` (``None`` when the
            move was forced).
        table: the transposition table, kept from move to move (cleared past about a
            million entries).
    """

    level = "hard"

    def __init__(
        self,
        seed: int | None = None,
        time_budget: float | None = None,
        node_budget: int | None = None,
        max_depth: int | None = None,
        endgame_empties: int = 10,
    ) -> None:
        super().__init__(seed)
        self.time_budget = DEFAULT_TIME_BUDGET if time_budget is None else time_budget
        self.node_budget = node_budget
        self.max_depth = max_depth
        self.endgame_empties = endgame_empties
        self.table: dict[int, tuple[int, int, int, int]] = {}
        self.last: SearchResult | None = None

    def choose(self, state: State) -> int:
        legal = self._moves(state)
        if len(legal) == 1:
            self.last = None
            return legal[0]
        me, opp = _sides(state)
        deadline = time.perf_counter() + self.time_budget
        result = self.search(me, opp, deadline, list(legal))
        self.last = result
        return result.move

    def search(self, me: int, opp: int, deadline: float, root: list[int]) -> SearchResult:
        """Search the running position (``me`` to move, ``root`` its legal moves, at
        least one) until ``deadline`` (``time.perf_counter()``), the node budget or the
        depth limit; always returns a move (when not even one iteration finished, the
        best by a static evaluation of the positions after each move).
        """
        self.rng.shuffle(root)
        if len(self.table) > 1 << 20:
            self.table.clear()
        table = self.table
        clock = time.perf_counter
        nodes = 0
        limit = (1 << 62) if self.node_budget is None else self.node_budget
        order_key = _ORDER_KEY
        horizon = False  # did the current iteration stop anywhere before the end?

        def negamax(p: int, o: int, depth: int, alpha: int, beta: int) -> int:
            nonlocal nodes, horizon
            nodes += 1
            if not nodes & 255 and (nodes > limit or clock() > deadline):
                raise SearchTimeout
            moves = legal_mask(p, o)
            if not moves:
                if not legal_mask(o, p):
                    return final_value(p, o)
                return -negamax(o, p, depth, -beta, -alpha)  # a pass costs no depth
            if depth <= 0:
                horizon = True
                return evaluate(p, o, moves)
            key = p << 64 | o
            entry = table.get(key)
            first = -1
            alpha0 = alpha
            if entry is not None:
                e_depth, e_flag, e_value, first = entry
                if e_depth >= depth:
                    if e_depth < 64 - (p | o).bit_count():
                        horizon = True  # the entry rests on heuristic leaves
                    if e_flag == _EXACT:
                        return e_value
                    if e_flag == _LOWER:
                        if e_value >= beta:
                            return e_value
                    elif e_value <= alpha:
                        return e_value
            cells = bits(moves)
            if len(cells) > 1:
                cells = tuple(sorted(cells, key=lambda c: (c != first, -order_key[c])))
            best, best_cell = -(WIN << 1), cells[0]
            for cell in cells:
                bit = 1 << cell
                f = flips(p, o, bit)
                score = -negamax(o ^ f, p | bit | f, depth - 1, -beta, -alpha)
                if score > best:
                    best, best_cell = score, cell
                    if score > alpha:
                        alpha = score
                        if alpha >= beta:
                            break
            flag = _UPPER if best <= alpha0 else _LOWER if best >= beta else _EXACT
            table[key] = (depth, flag, best, best_cell)
            return best

        empties = (~(me | opp) & FULL).bit_count()
        if empties <= self.endgame_empties:
            depths = [d for d in (1, 2, 3, 4) if d < empties] + [empties]
            if self.max_depth is not None:
                depths = [d for d in depths if d <= self.max_depth or d == empties]
        else:
            depths = list(range(1, empties + 1))
            if self.max_depth is not None:
                depths = depths[: max(1, self.max_depth)]
        result: SearchResult | None = None
        values: dict[int, int] = {}
        for depth in depths:
            horizon = False
            order = sorted(root, key=lambda c: -values.get(c, 0)) if values else root
            alpha, beta = -(WIN << 1), WIN << 1
            best_cell, best = order[0], -(WIN << 1)
            try:
                for cell in order:
                    bit = 1 << cell
                    f = flips(me, opp, bit)
                    score = -negamax(opp ^ f, me | bit | f, depth - 1, -beta, -alpha)
                    values[cell] = score
                    if score > best:
                        best, best_cell = score, cell
                        alpha = max(alpha, score)
            except SearchTimeout:
                if result is None or (best_cell != order[0] and best > -(WIN << 1)):
                    # Nothing finished yet, or a move searched to this depth beat the
                    # previous iteration's best: take it.
                    result = SearchResult(best_cell, best, depth, False, nodes)
                break
            result = SearchResult(best_cell, best, depth, not horizon, nodes)
            if not horizon or abs(best) > WIN - 100:
                break
        assert result is not None
        if result.value == -(WIN << 1):  # timed out before any move was searched
            result = SearchResult(self._fallback(me, opp, root), 0, 0, False, nodes)
        result.nodes = nodes
        return result

    @staticmethod
    def _fallback(me: int, opp: int, root: list[int]) -> int:
        """The best root move by a static evaluation (when no search finished)."""
        def value(cell: int) -> int:
            bit = 1 << cell
            f = flips(me, opp, bit)
            return -evaluate(opp ^ f, me | bit | f)
        return max(root, key=value)


_LEVELS: Final[dict[str, Callable[[int | None], Bot]]] = {
    "random": RandomBot,
    "easy": EasyBot,
    "medium": MediumBot,
}


def get_bot(level: str, seed: int | None = None, time_budget: float | None = None,
            **options: int) -> Bot:
    """A new othello bot at ``level`` (one of :data:`game.bots.LEVELS`).

    Args:
        level: ``"random"``, ``"easy"``, ``"medium"`` or ``"hard"``.
        seed: seeds the bot's private ``random.Random``.
        time_budget: seconds per move for ``hard`` (default
            :data:`game.bots.DEFAULT_TIME_BUDGET`); the other levels answer at once.
        options: ``node_budget``, ``max_depth``, ``endgame_empties`` for ``hard``.

    Raises:
        game.bots.UnknownLevel: ``level`` is not a level.
    """
    if level not in LEVELS:
        raise UnknownLevel(level)
    if level == "hard":
        return HardBot(seed, time_budget, **options)
    return _LEVELS[level](seed)
