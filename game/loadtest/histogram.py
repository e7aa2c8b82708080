"""A log-bucketed latency histogram that merges exactly across processes.

HdrHistogram-like: values (microseconds) below 128 have their own bucket, larger
ones share 64 buckets per power of two, so any reported value is within 0.8% of a
recorded one. Histograms from several generator processes add bucket by bucket, so
merged percentiles are the percentiles of all samples, not an average of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SUB_BITS = 7
HALF = 1 << (SUB_BITS - 1)


def bucket_of(value: int) -> int:
    if value < (1 << SUB_BITS):
        return max(value, 0)
    shift = value.bit_length() - SUB_BITS
    return shift * HALF + (value >> shift)


def bucket_range(index: int) -> tuple[int, int]:
    """The lowest and highest value that land in bucket `index`."""
    if index < (1 << SUB_BITS):
        return index, index
    shift, mantissa = divmod(index, HALF)
    mantissa += HALF
    shift -= 1
    return mantissa << shift, ((mantissa + 1) << shift) - 1


@dataclass
class Histogram:
    counts: dict[int, int] = field(default_factory=dict)
    total: int = 0
    sum_us: int = 0
    min_us: int = 0
    max_us: int = 0

    def record(self, seconds: float) -> None:
        value = int(seconds * 1_000_000)
        index = bucket_of(value)
        counts = self.counts
        counts[index] = counts.get(index, 0) + 1
        if self.total == 0 or value < self.min_us:
            self.min_us = value
        if value > self.max_us:
            self.max_us = value
        self.total += 1
        self.sum_us += value

    def merge(self, other: Histogram) -> None:
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count
        if other.total:
            self.min_us = other.min_us if not self.total else min(self.min_us, other.min_us)
            self.max_us = max(self.max_us, other.max_us)
        self.total += other.total
        self.sum_us += other.sum_us

    def percentile(self, q: float) -> float:
        """The q-th percentile in milliseconds (0 when empty)."""
        if not self.total:
            return 0.0
        rank = max(1, math.ceil(q / 100 * self.total))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                low, high = bucket_range(index)
                value = min(max((low + high) / 2, self.min_us), self.max_us)
                return value / 1000
        return self.max_us / 1000

    def summary(self) -> dict[str, float | int]:
        return {
            "count": self.total,
            "p50_ms": round(self.percentile(50), 3),
            "p90_ms": round(self.percentile(90), 3),
            "p99_ms": round(self.percentile(99), 3),
            "max_ms": round(self.max_us / 1000, 3),
            "mean_ms": round(self.sum_us / self.total / 1000, 3) if self.total else 0.0,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"counts": {str(k): v for k, v in self.counts.items()}, "total": self.total,
                "sum_us": self.sum_us, "min_us": self.min_us, "max_us": self.max_us}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Histogram:
        return cls({int(k): int(v) for k, v in data["counts"].items()}, int(data["total"]),
                   int(data["sum_us"]), int(data["min_us"]), int(data["max_us"]))
