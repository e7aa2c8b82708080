"""One generator process: opens its share of the load, plays it on uvloop, reports.

The coordinator starts every worker, waits until all have connected, then sets one
start time on the shared monotonic clock (CLOCK_MONOTONIC is system-wide on Linux),
so the warm-up and the measuring window are the same in every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import resource
import time
from collections.abc import Sequence
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any, Protocol

from game.loadtest.config import Config
from game.loadtest.fanout import FanoutDuel
from game.loadtest.idle import Crowd
from game.loadtest.play import Duel
from game.loadtest.relay import RelayDuel
from game.loadtest.stats import Recorder, WorkerResult
from game.loadtest.wire import Link

PROGRESS_SECONDS = 0.5
DRAIN_SECONDS = 3.0
OPEN_CONCURRENCY = 32


class Driver(Protocol):
    links: list[Link]
    done: bool

    async def open(self) -> None: ...

    def start(self) -> None: ...

    def check_stall(self, now: float) -> None: ...

    async def close(self) -> None: ...


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def frames(drivers: Sequence[Driver]) -> tuple[int, int]:
    links = [link for driver in drivers for link in driver.links]
    return sum(link.frames_in for link in links), sum(link.frames_out for link in links)


class Signals:
    """What the coordinator shares with a worker."""

    def __init__(self, queue: Queue[Any], go: Event, go_time: Synchronized[float],
                 release: Event) -> None:
        self.queue = queue
        self.go = go
        self.go_time = go_time
        self.release = release


def main(config: Config, index: int, signals: Signals) -> None:
    """Process entry point."""
    raise_file_limit()
    try:
        import uvloop

        uvloop.run(run(config, index, signals))
    except BaseException as exc:
        signals.queue.put(("failed", index, f"{type(exc).__name__}: {exc}"))


async def run(config: Config, index: int, signals: Signals) -> None:
    rec = Recorder()
    seed = None if config.seed is None else config.seed * 1000 + index
    rng = random.Random(seed)
    if config.mode == "idle":
        await _idle(config, index, signals, rec)
        return
    drivers = _build(config, rec, index, rng)
    try:
        await _open_all(drivers)
    except Exception as exc:
        signals.queue.put(("failed", index, f"could not connect: {type(exc).__name__}: {exc}"))
        await asyncio.gather(*(d.close() for d in drivers), return_exceptions=True)
        return
    signals.queue.put(("ready", index, None))
    await asyncio.to_thread(signals.go.wait)
    start = signals.go_time.value
    rec.start, rec.end = start + config.warmup, start + config.warmup + config.duration
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    for driver in drivers:
        driver.start()
    result = await _measure(config, index, signals, rec, drivers)
    signals.queue.put(("result", index, result.to_dict()))
    await asyncio.gather(*(d.close() for d in drivers), return_exceptions=True)


def _build(config: Config, rec: Recorder, index: int, rng: random.Random) -> list[Driver]:
    if config.mode == "fanout":
        return [FanoutDuel(config, rec, index, rng)]
    kind: type[Duel] | type[RelayDuel] = RelayDuel if config.target == "relay" else Duel
    base = sum(config.share(i) for i in range(index))
    return [kind(config, rec, base + n, rng) for n in range(config.share(index))]


async def _open_all(drivers: Sequence[Driver]) -> None:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one(driver: Driver) -> None:
        async with gate:
            await driver.open()

    await asyncio.gather(*(one(driver) for driver in drivers))


async def _measure(config: Config, index: int, signals: Signals, rec: Recorder,
                   drivers: Sequence[Driver]) -> WorkerResult:
    loop = asyncio.get_running_loop()
    marks: dict[str, tuple[float, int, int]] = {}

    def mark(name: str) -> None:
        marks[name] = (cpu_seconds(), *frames(drivers))

    loop.call_at(loop.time() + rec.start - time.monotonic(), mark, "start")
    while True:
        now = time.monotonic()
        if now >= rec.end and "end" not in marks:
            mark("end")
        if now >= rec.end + DRAIN_SECONDS or (now >= rec.end and all(d.done for d in drivers)):
            break
        for driver in drivers:
            driver.check_stall(now)
        signals.queue.put(("progress", index, _progress(rec)))
        await asyncio.sleep(min(PROGRESS_SECONDS, max(0.01, rec.end - now)))
    rec.stopping = True
    first = marks.get("start", (0.0, 0, 0))
    last = marks["end"]
    return WorkerResult(
        index=index, moves=rec.moves, matches=rec.matches, verified=rec.verified,
        frames_in=last[1] - first[1], frames_out=last[2] - first[2],
        cpu_seconds=last[0] - first[0], window=config.duration,
        connections=sum(len(d.links) for d in drivers), latency=rec.latency,
        opponent=rec.opponent, errors=dict(rec.errors),
    )


def _progress(rec: Recorder) -> dict[str, Any]:
    return {"moves": rec.moves, "moves_total": rec.moves_total,
            "errors": sum(rec.errors.values()), "latency": rec.latency.to_dict()}


async def _idle(config: Config, index: int, signals: Signals, rec: Recorder) -> None:
    """Open the share after the coordinator has taken the server's baseline memory,
    hold the connections until it has measured again, then close them."""
    crowd = Crowd(config, rec, index, config.share(index))
    if index == 0:  # touch every code path once so the baseline includes it
        await crowd.open(min(8, config.connections))
        await crowd.close()
        crowd.welcomed = 0
    signals.queue.put(("ready", index, None))
    await asyncio.to_thread(signals.go.wait)
    started = time.monotonic()
    opened = await crowd.open()
    signals.queue.put(("opened", index, {"connections": opened,
                                         "seconds": time.monotonic() - started}))
    await asyncio.to_thread(signals.release.wait)
    rec.stopping = True
    result = WorkerResult(index=index, connections=opened, errors=dict(rec.errors))
    signals.queue.put(("result", index, result.to_dict()))
    await crowd.close()
