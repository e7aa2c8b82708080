"""Starts the generator processes, runs the phases, samples the server, merges results."""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from game.loadtest import worker
from game.loadtest.config import Config
from game.loadtest.histogram import Histogram
from game.loadtest.probe import Sample, ServerProbes
from game.loadtest.redisprobe import RedisProbe, RedisSample, window_figures
from game.loadtest.report import build_result
from game.loadtest.stats import WorkerResult, merge

READY_TIMEOUT = 120.0
RESULT_GRACE = 30.0
IDLE_SETTLE_SECONDS = 1.0


class LoadTestFailed(RuntimeError):
    pass


@dataclass
class Status:
    """What the progress display shows; refreshed from the workers' reports."""

    phase: str = "connecting"
    started: float = field(default_factory=time.monotonic)
    window_start: float = 0.0
    window_end: float = 0.0
    moves: dict[int, int] = field(default_factory=dict)
    moves_total: dict[int, int] = field(default_factory=dict)
    errors: dict[int, int] = field(default_factory=dict)
    latency: dict[int, Histogram] = field(default_factory=dict)
    rate: float = 0.0
    server_cpu: float | None = None
    server_rss: int | None = None
    connections: int = 0
    _last: tuple[float, int] = (0.0, 0)

    def update(self, index: int, data: dict[str, Any]) -> None:
        self.moves[index] = data["moves"]
        self.moves_total[index] = data["moves_total"]
        self.errors[index] = data["errors"]
        self.latency[index] = Histogram.from_dict(data["latency"])

    def tick(self, now: float) -> None:
        total = sum(self.moves_total.values())
        last_time, last_total = self._last
        if now - last_time >= 0.5:
            if last_time:
                self.rate = (total - last_total) / (now - last_time)
            self._last = (now, total)

    def histogram(self) -> Histogram:
        merged = Histogram()
        for histogram in self.latency.values():
            merged.merge(histogram)
        return merged


Refresh = Callable[[Status], None]


@dataclass(frozen=True)
class Edge:
    server: Sample | None
    redis: RedisSample | None


class Coordinator:
    def __init__(self, config: Config, refresh: Refresh | None = None) -> None:
        self.config = config
        self.refresh = refresh or (lambda status: None)
        self.status = Status()
        pids = (config.server_pid, *config.more_pids) if config.server_pid else config.more_pids
        self.probe = ServerProbes.find(config.urls, pids)
        self.redis = RedisProbe(config.redis) if config.redis else None
        context = multiprocessing.get_context("spawn")
        self.signals = worker.Signals(context.Queue(), context.Event(), context.Value("d", 0.0),
                                      context.Event())
        self.processes = [
            context.Process(target=worker.main, args=(config, index, self.signals), daemon=True,
                            name=f"loadtest-{index}")
            for index in range(config.workers)
        ]

    def run(self) -> dict[str, Any]:
        for process in self.processes:
            process.start()
        try:
            self._wait_for("ready", READY_TIMEOUT)
            if self.config.mode == "idle":
                return self._run_idle()
            return self._run_load()
        finally:
            self.signals.go.set()
            self.signals.release.set()
            for process in self.processes:
                process.join(10)
                if process.is_alive():
                    process.terminate()
            if self.redis is not None:
                self.redis.close()

    # ---- messages from workers ---------------------------------------------------------

    def _next(self, timeout: float) -> tuple[str, int, Any] | None:
        try:
            message: tuple[str, int, Any] = self.signals.queue.get(timeout=timeout)
        except queue_module.Empty:
            return None
        kind, index, data = message
        if kind == "failed":
            raise LoadTestFailed(f"generator {index}: {data}")
        if kind == "progress":
            self.status.update(index, data)
        return message

    def _wait_for(self, wanted: str, timeout: float) -> dict[int, Any]:
        got: dict[int, Any] = {}
        deadline = time.monotonic() + timeout
        while len(got) < len(self.processes):
            if time.monotonic() > deadline:
                raise LoadTestFailed(f"generators did not report {wanted!r} in {timeout:.0f} s")
            message = self._next(0.25)
            if message is not None and message[0] == wanted:
                got[message[1]] = message[2]
            self._refresh()
            if message is None and not any(p.is_alive() for p in self.processes):
                raise LoadTestFailed("every generator process exited")
        return got

    def _refresh(self) -> None:
        now = time.monotonic()
        self.status.tick(now)
        if self.status.window_start and now >= self.status.window_start:
            self.status.phase = "measuring" if now < self.status.window_end else "draining"
        if self.probe is not None:
            sample = self.probe.sample()
            if sample is not None:
                self.status.server_rss = sample.rss
        self.refresh(self.status)

    # ---- phases ------------------------------------------------------------------------

    def _go(self) -> float:
        start = time.monotonic() + 0.2
        self.signals.go_time.value = start
        self.signals.go.set()
        return start

    def _run_load(self) -> dict[str, Any]:
        config = self.config
        start = self._go()
        self.status.phase = "warming up"
        self.status.window_start = start + config.warmup
        self.status.window_end = self.status.window_start + config.duration
        first: Edge | None = None
        last: Edge | None = None
        results: dict[int, WorkerResult] = {}
        deadline = self.status.window_end + worker.DRAIN_SECONDS + RESULT_GRACE
        while len(results) < len(self.processes):
            now = time.monotonic()
            if now > deadline:
                raise LoadTestFailed("generators did not report their results")
            if first is None and now >= self.status.window_start:
                first = self._edge()
            if last is None and now >= self.status.window_end:
                last = self._edge()
            wait = 0.25
            for mark in (self.status.window_start, self.status.window_end):
                if now < mark:
                    wait = min(wait, mark - now)
            message = self._next(max(0.001, wait))
            if message is not None and message[0] == "result":
                results[message[1]] = WorkerResult.from_dict(message[2])
            self._refresh()
        if last is None and first is not None:
            # the last result can arrive in the same wake-up as the window's end; the
            # server has had nothing to do since, so a sample now measures the window
            last = self._edge()
        ordered = [results[index] for index in sorted(results)]
        total = merge(ordered)
        server = self._server_figures(None if first is None else first.server,
                                      None if last is None else last.server)
        redis = None
        if first is not None and last is not None and first.redis and last.redis:
            redis = window_figures(first.redis, last.redis, config.duration, total.moves)
        return build_result(config, total, ordered, server, redis=redis)

    def _edge(self) -> Edge:
        """The server processes and Redis sampled together at one edge of the window."""
        return Edge(self.probe.sample() if self.probe is not None else None,
                    self.redis.sample() if self.redis is not None else None)

    def _server_figures(self, first: Sample | None, last: Sample | None) -> dict[str, Any] | None:
        if self.probe is None:
            return None
        figures: dict[str, Any] = {"pid": self.probe.pid, "pids": self.probe.pids,
                                   "rss_peak_mib": round(self.probe.peak_rss / 2**20, 1)}
        if first is not None and last is not None:
            window = self.config.duration
            cpu = last.cpu_seconds - first.cpu_seconds
            figures["cpu_seconds"] = round(cpu, 3)
            figures["cpu_percent"] = round(100 * cpu / window, 1)
            figures["cpu_percent_each"] = [round(100 * (b - a) / window, 1)
                                           for a, b in zip(first.each, last.each, strict=True)]
            figures["rss_mib"] = round(last.rss / 2**20, 1)
        return figures

    def _run_idle(self) -> dict[str, Any]:
        config = self.config
        time.sleep(IDLE_SETTLE_SECONDS)
        before = self.probe.sample() if self.probe is not None else None
        self.status.phase = "connecting idle clients"
        self._go()
        opened = self._wait_for("opened", READY_TIMEOUT)
        count = sum(int(data["connections"]) for data in opened.values())
        seconds = max(float(data["seconds"]) for data in opened.values())
        self.status.connections = count
        self.status.phase = "holding"
        settle_until = time.monotonic() + max(IDLE_SETTLE_SECONDS, config.duration)
        while time.monotonic() < settle_until:
            self._next(0.25)
            self._refresh()
        after = self.probe.sample() if self.probe is not None else None
        self.signals.release.set()
        results = self._wait_for("result", RESULT_GRACE)
        ordered = [WorkerResult.from_dict(results[index]) for index in sorted(results)]
        idle: dict[str, Any] = {"connections": count, "connect_seconds": round(seconds, 2)}
        if before is not None and after is not None:
            delta = after.rss - before.rss
            idle.update(rss_before_mib=round(before.rss / 2**20, 1),
                        rss_after_mib=round(after.rss / 2**20, 1),
                        bytes_per_connection=round(delta / max(count, 1)),
                        kib_per_connection=round(delta / max(count, 1) / 1024, 2))
        server = self._server_figures(None, None)
        return build_result(config, merge(ordered), ordered, server, idle=idle)
