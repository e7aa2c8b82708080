"""Runs built-in bots off the event loop, in worker processes.

A search never runs on the event loop, so no bot can delay another match; a bot
that raises or overruns its budget only affects its own match.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import structlog

from game.bots import choose_move

log = structlog.get_logger("game.bots")


def _warm_up() -> int:
    return 0


class BotFailed(Exception):
    """The bot raised, crashed its worker, or overran its time."""


class BotRunner:
    def __init__(self, workers: int, time_budget: float) -> None:
        self._workers = max(1, workers)
        self.time_budget = time_budget
        self._pool: ProcessPoolExecutor | None = None

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
        future = loop.run_in_executor(
            self._executor(), choose_move, game, level, tuple(moves), seed, self.time_budget
        )
        try:
            return await asyncio.wait_for(future, timeout=self.time_budget * 3 + 5)
        except BrokenProcessPool as exc:
            self._pool = None
            raise BotFailed("bot worker crashed") from exc
        except TimeoutError as exc:
            raise BotFailed("bot overran its time") from exc
        except Exception as exc:
            raise BotFailed(f"bot raised {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
