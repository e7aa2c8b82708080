"""Bot strategies that misbehave, loaded by a test server through GAME_BOT_PLUGINS.

Each runs in the server's bot worker process, exactly where a built-in search runs.
"""

from __future__ import annotations

import signal
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


def stalls(game: str, moves: tuple[int, ...], seed: int | None, time_budget: float) -> int:
    """An overrunning search that costs no CPU: waits until its worker interrupts it."""
    while True:
        time.sleep(60)


def stuck(game: str, moves: tuple[int, ...], seed: int | None, time_budget: float) -> int:
    """A search stuck where the worker's own timer cannot interrupt it (as in C code):
    the deadline signal is blocked, so only the server killing the worker ends it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    while True:
        time.sleep(60)


def slow(game: str, moves: tuple[int, ...], seed: int | None, time_budget: float) -> int:
    """A legal bot that takes nearly its whole deadline (2 * budget + 1) to answer,
    sleeping rather than burning CPU: a search that is in progress most of the time."""
    state = get_rules(game).replay(moves)
    time.sleep(time_budget * 2 + 0.5)
    return state.legal_moves()[0]
