"""The server's built-in bots (:mod:`game.bots`), run locally as SDK bots.

>>> bot = BuiltinBot("medium", seed=1)
>>> bot.choose({"game": "connect4", "moves": [3, 0, 3, 0, 3, 1]})  # complete the column
3
>>> bot.choose({"game": "connect4", "moves": [3, 0, 3, 0, 3]})  # block it
3
"""

from __future__ import annotations

from game.client.bot import Bot
from game.client.events import View


class BuiltinBot(Bot):
    """Plays like ``level`` of :mod:`game.bots` (``random``, ``easy``, ``medium``,
    ``hard``), rebuilding the position from ``view["moves"]`` with :mod:`game.rules`.
    ``time_budget`` bounds the hard connect-four bot's thinking per move (seconds)."""

    def __init__(self, level: str, seed: int | None = None,
                 time_budget: float | None = None) -> None:
        from game.bots import LEVELS

        if level not in LEVELS:
            raise ValueError(f"unknown bot level {level!r}; levels: {', '.join(LEVELS)}")
        self.level = level
        self.name = f"{level}-sdk"
        self.seed = seed
        self.time_budget = time_budget
        self._bots: dict[str, object] = {}

    def choose(self, view: View) -> int:
        from game.bots import Bot as Engine
        from game.bots import get_bot
        from game.rules import get_rules

        game = str(view["game"])
        engine = self._bots.get(game)
        if not isinstance(engine, Engine):
            engine = get_bot(game, self.level, seed=self.seed, time_budget=self.time_budget)
            self._bots[game] = engine
        return engine.choose(get_rules(game).replay(view["moves"]))
