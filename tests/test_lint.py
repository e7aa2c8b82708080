"""The code passes `ruff` and `mypy --strict` (the style guide's bar), checked by the
suite so that it holds at every commit. The examples are left out of mypy on purpose:
they are short scripts for people to read, in any style a bot writer might use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True,
                          text=True, timeout=240)


def test_ruff_finds_nothing() -> None:
    done = run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_mypy_strict_on_the_package_the_tests_and_the_benchmarks() -> None:
    done = run("mypy", "--strict", "--no-incremental", "game", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout
