"""One clock for every process: Redis `TIME`, estimated locally.

`now_ms()` is cheap (no round trip): the local clock plus an offset measured against
Redis' `TIME` by `sync()`, which keeps the sample with the shortest round trip (its
error is at most half that round trip). `start()` resyncs periodically. On a Cluster
the offset is measured against one node (nodes are expected to run NTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog

from game.store.redis.client import RedisClient
from game.store.redis.errors import StoreUnavailable

log = structlog.get_logger("game.store.redis.clock")


class RedisClock:
    """A `Clock` (`now_ms()`) that reads Redis time, corrected for the local offset."""

    def __init__(
        self, redis: RedisClient, samples: int = 5, resync_seconds: float = 30.0,
        local_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.redis = redis
        self.samples = samples
        self.resync_seconds = resync_seconds
        self._local_ns = local_ns
        self.offset_ms = 0.0
        """Redis time minus local time."""
        self.error_ms: float | None = None
        """Half the best round trip of the last sync: a bound on the offset's error."""
        self._task: asyncio.Task[None] | None = None

    def now_ms(self) -> int:
        return int(self._local_ns() / 1_000_000 + self.offset_ms)

    async def server_ms(self) -> int:
        """Redis `TIME` right now, in epoch ms (one round trip)."""
        seconds, micros = await self.redis.call(lambda r: r.time())
        return int(seconds) * 1000 + int(micros) // 1000

    async def sync(self) -> float:
        """Measure the offset again; returns it (ms). Raises StoreUnavailable."""
        best: tuple[float, float] | None = None  # (round trip, offset)
        for _ in range(self.samples):
            before = self._local_ns()
            server = await self.server_ms()
            after = self._local_ns()
            trip = (after - before) / 1_000_000
            offset = server + 0.5 - (before + after) / 2_000_000  # TIME truncates to ms
            if best is None or trip < best[0]:
                best = (trip, offset)
        assert best is not None
        self.error_ms = best[0] / 2 + 0.5
        self.offset_ms = best[1]
        return self.offset_ms

    def start(self) -> None:
        """Resync every `resync_seconds` in the background (after a first `sync`)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.resync_seconds)
            try:
                await self.sync()
            except StoreUnavailable as exc:  # keep the last offset
                log.warning("clock_sync_failed", error=str(exc))
