"""The latency histogram: buckets cover every value, percentiles and merges are exact enough."""

from __future__ import annotations

import random

from game.loadtest.histogram import Histogram, bucket_of, bucket_range
from game.loadtest.stats import WorkerResult, merge


def test_every_value_lands_in_a_bucket_that_contains_it() -> None:
    for value in [*range(0, 5000), *range(5000, 10**7, 997)]:
        low, high = bucket_range(bucket_of(value))
        assert low <= value <= high
        assert (high - low) <= max(1, value // 64)


def test_percentiles_within_one_percent_of_the_exact_ones() -> None:
    rng = random.Random(7)
    samples = [rng.lognormvariate(-7, 1) for _ in range(20_000)]
    histogram = Histogram()
    for sample in samples:
        histogram.record(sample)
    ordered = sorted(samples)
    for q in (50, 90, 99):
        exact = ordered[int(q / 100 * len(ordered)) - 1] * 1000
        assert abs(histogram.percentile(q) - exact) <= exact * 0.01 + 0.001
    assert histogram.max_us == int(max(samples) * 1_000_000)


def test_merging_equals_recording_everything_in_one() -> None:
    rng = random.Random(3)
    parts = [[rng.expovariate(500) for _ in range(1000)] for _ in range(3)]
    whole = Histogram()
    results = []
    for index, part in enumerate(parts):
        histogram = Histogram()
        for sample in part:
            histogram.record(sample)
            whole.record(sample)
        result = WorkerResult(index=index, moves=len(part), latency=histogram)
        results.append(WorkerResult.from_dict(result.to_dict()))  # as sent between processes
    total = merge(results)
    assert total.moves == 3000
    assert total.latency.summary() == whole.summary()
