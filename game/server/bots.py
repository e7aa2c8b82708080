"""Runs built-in bots off the event loop, in worker processes.

A search never runs on the event loop, so no bot can delay another match; a bot
that raises or overruns its budget only affects its own match.

A worker enforces each bot's deadline itself (an interval timer raises inside the
search), so an overrunning bot frees its worker and no other match waits behind
it; should a worker still not answer (stuck in C code), the pool is replaced.

`plugins` maps a level to `"module:function"`, a function
`(game, moves, seed, time_budget) -> move` that plays that level instead of the
built-in bot: for tests (a bot that raises or never returns) and experiments.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import multiprocessing
import signal
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import FrameType

import structlog

from game.bots import choose_move

log = structlog.get_logger("game.bots")


def _warm_up() -> int:
    return 0


class BotFailed(Exception):
    """The bot raised, crashed its worker, or overran its time."""


class BotOverran(Exception):
    """Raised inside a worker when a bot's deadline passes."""


def _on_deadline(signum: int, frame: FrameType | None) -> None:
    raise BotOverran("the bot overran its deadline")


def run_bot(
    plugin: str | None,
    game: str,
    level: str,
    moves: tuple[int, ...],
    seed: int | None,
    time_budget: float,
    deadline: float,
) -> int:
    """In a worker: the bot's move, raising BotOverran after `deadline` seconds."""
    choose: Callable[..., int]
    if plugin is None:
        def choose(*args: object) -> int:
            return choose_move(game, level, moves, seed, time_budget)
    else:
        module_name, _, function = plugin.partition(":")
        choose = getattr(importlib.import_module(module_name), function)
    previous = signal.signal(signal.SIGALRM, _on_deadline)
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        return int(choose(game, moves, seed, time_budget))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class BotRunner:
    def __init__(
        self, workers: int, time_budget: float, plugins: Mapping[str, str] | None = None
    ) -> None:
        self._workers = max(1, workers)
        self.time_budget = time_budget
        self.plugins = dict(plugins or {})
        self._pool: ProcessPoolExecutor | None = None

    @property
    def deadline(self) -> float:
        """Seconds a worker lets a bot think before interrupting it."""
        return self.time_budget * 2 + 1

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor(), _warm_up)

    async def choose(
        self, game: str, level: str, moves: Sequence[int], seed: int | None = None
    ) -> int:
        loop = asyncio.get_running_loop()
        pool = self._executor()
        future = loop.run_in_executor(
            pool, run_bot, self.plugins.get(level), game, level, tuple(moves), seed,
            self.time_budget, self.deadline,
        )
        try:
            return await asyncio.wait_for(future, timeout=self.deadline + 5)
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self._pool = None
            raise BotFailed("bot worker crashed") from exc
        except TimeoutError as exc:
            self._replace(pool)
            raise BotFailed("bot worker did not answer; replaced") from exc
        except BotOverran as exc:
            raise BotFailed("bot overran its time") from exc
        except Exception as exc:
            raise BotFailed(f"bot raised {type(exc).__name__}: {exc}") from exc

    def _replace(self, pool: ProcessPoolExecutor) -> None:
        """Kill a pool whose worker is stuck beyond its own deadline."""
        if self._pool is pool:
            self._pool = None
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            with contextlib.suppress(Exception):
                process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        log.error("bot_pool_replaced")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
