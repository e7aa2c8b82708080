"""Two things the match runtime must notice about itself, not about any one client.

* `StallWatch`: the whole process stood still (SIGSTOP, a paused VM, a disk that
  blocked the loop, a long GC). Deadlines are wall-clock times, so a player whose
  move sat unread in a socket buffer while we were stopped would otherwise lose on
  time for our pause. A loop callback stamps the time every `period`; whoever runs
  first after a pause (that callback, a deadline timer, a command) sees the gap and
  reports it, so the hub credits it to the clocks before applying anything.
* `StoreOutage`: the store fails every commit (disk full, a file locked by another
  process). Logged once with its cause, then one summary line per interval and one
  when it recovers, so a failing store cannot flood the log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog

from game.server.clock import Clock

log = structlog.get_logger("game.hub")


class StallWatch:
    def __init__(self, clock: Clock, threshold_ms: int, on_stall: Callable[[int], None]) -> None:
        self.clock = clock
        self.threshold_ms = threshold_ms
        self.period_ms = max(10, threshold_ms // 4)
        self.on_stall = on_stall
        self._last = clock.now_ms()
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._last = self.clock.now_ms()
        self._handle = asyncio.get_running_loop().call_later(self.period_ms / 1000, self._beat)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _beat(self) -> None:
        self.check()
        self._handle = asyncio.get_running_loop().call_later(self.period_ms / 1000, self._beat)

    def check(self) -> None:
        """Report the time since the loop was last seen running, when it is a stall.
        Cheap: it runs before every command. Nothing until started."""
        if self._handle is None:
            return
        now = self.clock.now_ms()
        gap = now - self._last
        self._last = now
        # the beat keeps gaps under `period` while the loop runs; a clock stepped back
        # gives a negative gap, which is no stall
        if gap > self.threshold_ms + self.period_ms:
            self.on_stall(gap)


class StoreOutage:
    def __init__(self, summary_seconds: float) -> None:
        self.summary_seconds = summary_seconds
        self.since: float | None = None
        """monotonic() of the first failure of the current outage, None while healthy."""
        self.failures = 0
        self._logged_at = 0.0
        self._unlogged = 0

    def failed(self, event: str, exc: BaseException, **context: Any) -> None:
        now = time.monotonic()
        self.failures += 1
        if self.since is None:
            self.since, self._logged_at, self._unlogged = now, now, 0
            log.error(event, error=repr(exc), **context, exc_info=exc)
            return
        self._unlogged += 1
        if now - self._logged_at >= self.summary_seconds:
            log.error("store_failing", failures=self.failures, since_last=self._unlogged,
                      seconds=round(now - self.since, 1), error=repr(exc), last=event)
            self._logged_at, self._unlogged = now, 0

    def succeeded(self) -> None:
        """Called after each successful store call; logs the end of an outage."""
        if self.since is None:
            return
        log.warning("store_recovered", failures=self.failures,
                    seconds=round(time.monotonic() - self.since, 1))
        self.since, self.failures = None, 0
