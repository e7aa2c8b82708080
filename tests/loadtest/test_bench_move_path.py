"""benchmarks/bench_move_path.py measures the real move path: a short run with
`--check` verifies every patch, hash and frame it times. No timing thresholds."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import ROOT


def test_the_move_path_benchmark_plays_verified_moves_through_every_stage() -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_move_path.py", "--matches", "7", "--moves", "700",
         "--relay-seconds", "0", "--check", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["checked"] is True
    assert report["moves"] == 700 and report["matches"] == 7
    assert set(report["us_per_move"]) == {"decode", "core", "views", "encode"}
    assert all(value > 0 for value in report["us_per_move"].values())
    assert report["us_per_move_untimed"] > 0
    assert report["relay"] is None
