"""The bot interface shared by every built-in strategy."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Final

from game.rules import State

__all__ = ["DEFAULT_TIME_BUDGET", "LEVELS", "Bot", "UnknownLevel"]

LEVELS: Final[tuple[str, ...]] = ("random", "easy", "medium", "hard")
"""Bot levels from weakest to strongest."""

DEFAULT_TIME_BUDGET: Final = 1.0
"""Seconds the ``hard`` connect-four bot may think per move unless told otherwise."""


class UnknownLevel(ValueError):
    """Raised by :func:`game.bots.get_bot` for a level not in :data:`LEVELS`."""

    def __init__(self, level: object) -> None:
        self.level = level
        super().__init__(f"unknown bot level {level!r}; levels: {', '.join(LEVELS)}")


class Bot(ABC):
    """A strategy for one game.

    ``choose`` never mutates anything but the bot's private random generator (and
    caches); given the same seed and the same sequence of calls a bot without a time
    budget makes the same choices.

    Attributes:
        game: the game name (see :data:`game.rules.GAMES`).
        level: one of :data:`LEVELS`.
        rng: the bot's private ``random.Random(seed)``.
    """

    game: str
    level: str

    def __init__(self, seed: int | None = None) -> None:
        self.rng = random.Random(seed)

    @abstractmethod
    def choose(self, state: State) -> int:
        """Return a legal move for the side to move in ``state``.

        Raises:
            ValueError: the game is over or ``state`` belongs to another game.
        """

    def _check(self, state: State) -> tuple[int, ...]:
        if state.rules.name != self.game:
            raise ValueError(f"a {self.game} bot cannot play {state.rules.name}")
        legal = state.legal_moves()
        if not legal:
            raise ValueError("the game is over: there is no move to choose")
        return legal

    def __repr__(self) -> str:
        return f"<{type(self).__name__} game={self.game!r} level={self.level!r}>"
