"""The weaker levels, written once for every game over the public rules API.

* ``random``: a uniformly random legal move.
* ``easy``: takes a win in one; blocks the opponent's win in one only half of the
  time; otherwise random.
* ``medium``: takes a win in one, always blocks a win in one, avoids moves that hand
  the opponent a win in one when it can, and otherwise prefers central moves at random.
"""

from __future__ import annotations

from game.bots.base import Bot
from game.rules import State

__all__ = ["EasyBot", "MediumBot", "RandomBot", "centrality"]


def centrality(game: str, move: int) -> int:
    """A small positive weight, larger for moves nearer the centre of the board.

    Only for the games these levels serve (tic-tac-toe, connect-four): another game has
    bots of its own (see :func:`game.bots.get_bot`).

    Raises:
        ValueError: any other game.
    """
    if game == "connect4":
        return 4 - abs(move - 3)  # columns 0..6 -> 1, 2, 3, 4, 3, 2, 1
    if game == "tictactoe":
        return 3 if move == 4 else 2 if move % 2 == 0 else 1  # centre, corners, edges
    raise ValueError(f"the shared medium bot does not know the centre of {game!r}")


class RandomBot(Bot):
    """Plays a uniformly random legal move."""

    level = "random"

    def __init__(self, game: str, seed: int | None = None) -> None:
        super().__init__(seed)
        self.game = game

    def choose(self, state: State) -> int:
        return self.rng.choice(self._check(state))

    def _win_or_block(self, state: State, block_probability: float) -> int | None:
        """A win in one if there is one; else, with `block_probability`, a block of the
        opponent's win in one; else None. (Draws from the RNG exactly as the levels
        always did, so seeded games stay the same.)"""
        wins = state.winning_moves()
        if wins:
            return self.rng.choice(wins)
        me = state.to_move
        assert me is not None
        threats = state.winning_moves(1 - me)
        if threats and (block_probability >= 1 or self.rng.random() < block_probability):
            return self.rng.choice(threats)
        return None


class EasyBot(RandomBot):
    """Wins in one when it can, blocks half of the time, otherwise plays at random."""

    level = "easy"
    block_probability = 0.5

    def choose(self, state: State) -> int:
        legal = self._check(state)
        forced = self._win_or_block(state, self.block_probability)
        return forced if forced is not None else self.rng.choice(legal)


class MediumBot(RandomBot):
    """Never misses a win in one nor a block; otherwise safe, central, random moves."""

    level = "medium"

    def choose(self, state: State) -> int:
        legal = self._check(state)
        forced = self._win_or_block(state, 1.0)
        if forced is not None:
            return forced
        safe = [m for m in legal if not state.apply(m).winning_moves()]
        pool = safe or list(legal)
        weights = [centrality(self.game, m) for m in pool]
        return self.rng.choices(pool, weights)[0]
