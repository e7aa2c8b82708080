"""Perfect tic-tac-toe: depth-adjusted minimax over every position, cached.

:func:`value` scores a position for the side to move: ``10 - ply`` of the final
position for a win, minus that for a loss, 0 for a draw.  Maximising it takes the
fastest win and delays a loss as long as possible.
"""

from __future__ import annotations

from functools import cache

from game.bots.base import Bot
from game.games.tictactoe.rules import TicTacToeState
from game.rules import State

__all__ = ["PerfectTicTacToe", "minimax_value", "value"]


@cache
def value(state: TicTacToeState) -> int:
    """Depth-adjusted minimax value for the side to move (for the last mover if over).

    Positive: the side to move wins, larger is sooner; negative: it loses, closer to 0
    is later; 0: a draw.  A finished game is scored for the seat that would move next,
    i.e. ``-(10 - ply)`` if someone has won.
    """
    outcome = state.outcome
    if outcome is not None:
        return 0 if outcome.winner is None else -(10 - state.ply)
    return max(-value(state.apply(m)) for m in state.legal_moves())


def minimax_value(state: TicTacToeState) -> int:
    """+1 if the side to move wins with perfect play, 0 for a draw, -1 if it loses."""
    v = value(state)
    return (v > 0) - (v < 0)


class PerfectTicTacToe(Bot):
    """Never loses, wins as fast as possible, loses (if ever lost) as late as possible.

    Among equally good moves it picks one at random with its private generator.
    """

    game = "tictactoe"
    level = "hard"

    def choose(self, state: State) -> int:
        legal = self._check(state)
        assert isinstance(state, TicTacToeState)
        scores = {m: -value(state.apply(m)) for m in legal}
        best = max(scores.values())
        return self.rng.choice([m for m in legal if scores[m] == best])
