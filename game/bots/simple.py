"""The weaker levels, written once for every game over the public rules API.

* ``random``: a uniformly random legal move.
* ``easy``: takes a win in one; blocks the opponent's win in one only half of the
  time; otherwise random.
* ``medium``: takes a win in one, always blocks a win in one, avoids moves that hand
  the opponent a win in one when it can, and otherwise prefers moves the game weighs
  more (:func:`move_weights`: by default, nearer the centre) at random.

They fit any game whose :meth:`~game.rules.State.winning_moves` lists the moves that
win at once; a game offers them with :func:`shared_bot` as its bot factory (or for some
of its levels, as tic-tac-toe and connect-four do).

>>> from game.bots.simple import move_weights
>>> move_weights("connect4")
(1, 2, 3, 4, 3, 2, 1)
"""

from __future__ import annotations

from typing import Final

from game.bots.base import Bot
from game.games import get_game
from game.rules import State

__all__ = ["SHARED_LEVELS", "EasyBot", "MediumBot", "RandomBot", "move_weights", "shared_bot"]

SHARED_LEVELS: Final[tuple[str, ...]] = ("random", "easy", "medium")
"""The levels :func:`shared_bot` plays."""


def _closeness(index: int, size: int) -> int:
    """1 at either edge of ``size`` rows (or columns), one more for each step inward."""
    return (size - 1 - abs(2 * index - (size - 1))) // 2 + 1


def move_weights(game: str) -> tuple[int, ...]:
    """How much the ``medium`` level likes each move of ``game``, a positive weight by
    move: the game's own (:attr:`~game.games.GameDefinition.move_weights`) or else
    larger nearer the centre: by column for a game whose move is a column, by ring of
    cells around the centre for a game whose move is a cell.

    Raises:
        game.rules.UnknownGame: unknown game.
    """
    definition = get_game(game)
    if definition.move_weights is not None:
        return definition.move_weights
    rows, cols = definition.rules.rows, definition.rules.cols
    if definition.move == "column":
        return tuple(_closeness(col, cols) for col in range(cols))
    return tuple(min(_closeness(row, rows), _closeness(col, cols))
                 for row in range(rows) for col in range(cols))


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
    """Never misses a win in one nor a block; otherwise safe, preferred, random moves."""

    level = "medium"

    def __init__(self, game: str, seed: int | None = None) -> None:
        super().__init__(game, seed)
        self.weights = move_weights(game)

    def choose(self, state: State) -> int:
        legal = self._check(state)
        forced = self._win_or_block(state, 1.0)
        if forced is not None:
            return forced
        safe = [m for m in legal if not state.apply(m).winning_moves()]
        pool = safe or list(legal)
        weights = [self.weights[m] for m in pool]
        return self.rng.choices(pool, weights)[0]


_SHARED: Final[dict[str, type[RandomBot]]] = {
    "random": RandomBot, "easy": EasyBot, "medium": MediumBot}


def shared_bot(game: str, level: str, seed: int | None = None,
               time_budget: float | None = None) -> Bot:
    """A bot factory (:data:`game.games.BotFactory`) for the levels of
    :data:`SHARED_LEVELS`; ``time_budget`` is ignored (they answer at once).

    Raises:
        ValueError: ``level`` is not one of :data:`SHARED_LEVELS`.
    """
    if level not in _SHARED:
        raise ValueError(f"the shared bots play {', '.join(SHARED_LEVELS)}, not {level!r}")
    return _SHARED[level](game, seed)
