"""The strongest connect-four bot: exact when it can be, a timed heuristic search otherwise.

For each move the ``hard`` bot

1. plays a winning move if it has one, the only move that does not lose at once when
   there is a single one, and the centre on an empty board (the only winning first
   move: Allen, Allis 1988);
2. from :data:`EXACT_FROM_PLY` stones on, tries to solve the position exactly
   (:class:`~game.games.connect4.solver.Solver`) within a share of its time budget, and
   returns as soon as it has: every move that achieves the exact score is equally
   good.  When that score is a draw or a loss, the rest of the exact share may go to
   finding, among those moves, the ones that leave the opponent the most replies that
   throw the result away; remaining ties go to the static evaluation;
3. otherwise runs the iterative-deepening heuristic search
   (:class:`~game.games.connect4.search.HeuristicSearch`) until the budget is spent; it also
   uses every bound the exact solver proved on the way.

Both engines keep their fixed-size transposition tables between moves, and between
games and bots of the same process (the tables hold facts about positions, never about
a game), so a worker process gets faster as it plays.  Sharing them between threads is
safe: each entry is one int written at once.
"""

from __future__ import annotations

import time
from typing import Final

from game.bots.base import DEFAULT_TIME_BUDGET, Bot
from game.games.connect4.rules import Connect4State, column_mask
from game.games.connect4.search import HeuristicSearch, evaluate
from game.games.connect4.solver import ORDER, SearchTimeout, Solver, non_losing_moves
from game.rules import State

__all__ = [
    "EXACT_FROM_PLY",
    "HardConnect4",
    "exact_share",
    "shared_search",
    "shared_solver",
    "solve_exact",
]

EXACT_FROM_PLY: Final = 8
"""Below this many stones the exact solver is not even tried (it cannot finish)."""


def exact_share(ply: int) -> float:
    """The default part of the budget given to the exact solver with ``ply`` stones down."""
    if ply < 12:
        return 0.25
    if ply < 16:
        return 0.5
    return 0.8


_solver: Solver | None = None
_search: HeuristicSearch | None = None


def shared_solver() -> Solver:
    """The process-wide exact solver (created on first use)."""
    global _solver
    if _solver is None:
        _solver = Solver()
    return _solver


def shared_search() -> HeuristicSearch:
    """The process-wide heuristic search (created on first use)."""
    global _search
    if _search is None:
        _search = HeuristicSearch()
    return _search


def solve_exact(state: Connect4State, deadline: float | None = None) -> int:
    """Exact score of ``state`` in Pons' convention (also for a finished game).

    A finished game is scored for the seat that would move next: ``0`` for a draw,
    ``stones the winner played - 22`` after a win.
    """
    outcome = state.outcome
    if outcome is not None:
        if outcome.winner is None:
            return 0
        return (state.ply + 1) // 2 - 22
    return shared_solver().solve(state.position, state.mask, state.ply, deadline=deadline)


class HardConnect4(Bot):
    """Exact when the position can be solved in time, else a timed alpha-beta search.

    Args:
        seed: seeds the generator that breaks exact ties between equal moves.
        time_budget: seconds per move, wall clock (default :data:`DEFAULT_TIME_BUDGET`).
            The bot returns at once when it has solved the position, and otherwise
            within a few milliseconds of the budget.
        exact_share: the part of the budget the exact solver may use before the
            heuristic search takes over; default :func:`exact_share` of the ply.
        node_budget: also stop after about this many positions per move, shared like
            the time.  With a generous ``time_budget`` play no longer depends on the
            machine's speed (reproducible experiments).

    Attributes:
        use_exact_bounds: let the timed search use the exact solver's bounds (default on).
        set_traps: in drawn or lost positions prefer moves that give the opponent more
            ways to go wrong (default on).
        last_info: how the last move was found, e.g. ``{"how": "exact", "score": 3,
            "best": [2, 3]}`` or ``{"how": "search", "depth": 9, ...}``; ``how`` is one
            of ``win``, ``forced``, ``lost``, ``book``, ``exact``, ``search``, ``timeout``.
    """

    game = "connect4"
    level = "hard"

    def __init__(
        self,
        seed: int | None = None,
        time_budget: float | None = None,
        exact_share: float | None = None,
        node_budget: int | None = None,
    ) -> None:
        super().__init__(seed)
        self.time_budget = DEFAULT_TIME_BUDGET if time_budget is None else float(time_budget)
        if self.time_budget <= 0:
            raise ValueError("time_budget must be positive")
        self.exact_share = exact_share
        self.node_budget = node_budget
        self.use_exact_bounds = True
        self.set_traps = True
        self.last_info: dict[str, object] = {}

    def choose(self, state: State) -> int:
        start = time.perf_counter()
        legal = self._check(state)
        assert isinstance(state, Connect4State)
        pos, mask, ply = state.position, state.mask, state.ply
        wins = state.winning_moves()
        if wins:
            self.last_info = {"how": "win"}
            return self._central(wins)
        safe = non_losing_moves(pos, mask)
        safe_cols = [c for c in legal if safe & column_mask(c)]
        if len(safe_cols) <= 1:
            self.last_info = {"how": "forced" if safe_cols else "lost"}
            return safe_cols[0] if safe_cols else self._central(legal)
        if ply == 0:
            # Book: the centre is the only first move that wins (Allen, Allis 1988).
            self.last_info = {"how": "book"}
            return 3
        deadline = start + self.time_budget
        share = exact_share(ply) if self.exact_share is None else self.exact_share
        if ply >= EXACT_FROM_PLY:
            try:
                score, best = shared_solver().best_moves(
                    pos,
                    mask,
                    ply,
                    deadline=start + share * self.time_budget,
                    max_nodes=self._nodes(share),
                )
            except SearchTimeout:
                pass
            else:
                self.last_info = {"how": "exact", "score": score, "best": best}
                if score <= 0 and len(best) > 1 and self.set_traps:
                    best = self._traps(pos, mask, ply, score, best, start, share)
                return self._tie_break(pos, mask, ply, best)
        result = shared_search().search(
            pos,
            mask,
            ply,
            deadline,
            safe_cols,
            self._nodes(1 - share),
            shared_solver() if self.use_exact_bounds else None,
        )
        if result is None:
            self.last_info = {"how": "timeout"}
            return self._central(safe_cols)
        self.last_info = {
            "how": "search",
            "value": result.value,
            "depth": result.depth,
            "exact": result.exact,
            "nodes": result.nodes,
        }
        return result.move

    def _nodes(self, share: float) -> int | None:
        return None if self.node_budget is None else int(self.node_budget * share)

    def _central(self, moves: tuple[int, ...] | list[int]) -> int:
        return min(moves, key=ORDER.index)

    def _traps(
        self,
        pos: int,
        mask: int,
        ply: int,
        score: int,
        best: list[int],
        start: float,
        share: float,
    ) -> list[int]:
        """Keep the equal-valued moves that give the opponent the most ways to go wrong."""
        try:
            counts = shared_solver().opponent_mistakes(
                pos,
                mask,
                ply,
                score,
                best,
                deadline=start + share * self.time_budget,
                max_nodes=self._nodes(share / 2),
            )
        except SearchTimeout:
            return best
        top = max(counts.values())
        self.last_info["mistakes"] = counts
        return [c for c in best if counts[c] == top]

    def _tie_break(self, pos: int, mask: int, ply: int, best: list[int]) -> int:
        """Among equally good moves prefer the one the evaluation likes, then at random."""
        if len(best) == 1:
            return best[0]
        scores = {}
        for col in best:
            m = (mask + (1 << col * 7)) & column_mask(col)
            scores[col] = -evaluate(pos ^ mask, mask | m, ply + 1)
        top = max(scores.values())
        return self.rng.choice([c for c in best if scores[c] == top])
