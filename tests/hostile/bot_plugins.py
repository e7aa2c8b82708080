"""Bot strategies that misbehave, loaded by a test server through GAME_BOT_PLUGINS.

Each runs in the server's bot worker process, exactly where a built-in search runs.
"""

from __future__ import annotations

import time

from game.rules import get_rules


def raises(game: str, moves: tuple[int, ...], seed: int | None, time_budget: float) -> int:
    raise RuntimeError("this bot always fails")


def overruns(game: str, moves: tuple[int, ...], seed: int | None, time_budget: float) -> int:
    """A runaway search: burns CPU and never answers."""
    total = 0
    while True:
        total += 1


def thinks(game: str, moves: tuple[int, ...], seed: int | None, time_budget: float) -> int:
    """A search that uses its whole budget (busy, not sleeping), then plays legally."""
    state = get_rules(game).replay(moves)
    end = time.monotonic() + time_budget
    while time.monotonic() < end:
        pass
    return state.legal_moves()[0]
