"""What one generator process counts during the measuring window, and how results merge."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from game.loadtest.histogram import Histogram


@dataclass
class Recorder:
    """Counters of one generator process. Only the measuring window counts:
    `start` is the end of the warm-up and `end` the end of the run."""

    start: float = float("inf")
    end: float = float("inf")
    stopping: bool = False
    latency: Histogram = field(default_factory=Histogram)
    opponent: Histogram = field(default_factory=Histogram)
    moves: int = 0
    moves_total: int = 0
    matches: int = 0
    verified: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def active(self, now: float) -> bool:
        """New moves and matches start only before the end of the run."""
        return not self.stopping and now < self.end

    def move_done(self, sent: float, now: float) -> None:
        """A move has fully landed: count it and record its latency."""
        self.moves_total += 1
        if self.start <= now <= self.end:
            self.moves += 1
            self.latency.record(now - sent)

    def sample(self, histogram: Histogram, sent: float, now: float) -> None:
        """Record a secondary latency (not a move) inside the window."""
        if self.start <= now <= self.end:
            histogram.record(now - sent)

    def match_done(self, now: float) -> None:
        if self.start <= now <= self.end:
            self.matches += 1

    def error(self, kind: str) -> None:
        self.errors[kind] += 1


@dataclass
class WorkerResult:
    """One generator process's figures, as sent back to the coordinator."""

    index: int
    moves: int = 0
    matches: int = 0
    verified: int = 0
    frames_in: int = 0
    frames_out: int = 0
    cpu_seconds: float = 0.0
    window: float = 0.0
    connections: int = 0
    latency: Histogram = field(default_factory=Histogram)
    opponent: Histogram = field(default_factory=Histogram)
    errors: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["latency"] = self.latency.to_dict()
        data["opponent"] = self.opponent.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerResult:
        fields = dict(data)
        fields["latency"] = Histogram.from_dict(data["latency"])
        fields["opponent"] = Histogram.from_dict(data["opponent"])
        return cls(**fields)


def merge(results: list[WorkerResult]) -> WorkerResult:
    total = WorkerResult(index=-1)
    errors: Counter[str] = Counter()
    for result in results:
        total.moves += result.moves
        total.matches += result.matches
        total.verified += result.verified
        total.frames_in += result.frames_in
        total.frames_out += result.frames_out
        total.cpu_seconds += result.cpu_seconds
        total.window = max(total.window, result.window)
        total.connections += result.connections
        total.latency.merge(result.latency)
        total.opponent.merge(result.opponent)
        errors.update(result.errors)
    total.errors = dict(errors)
    return total
