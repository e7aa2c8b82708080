"""Benchmark of the connect-four engines (not a test).

    python benchmarks/bench_bots.py [--limit N] [--budget SECONDS] [--moves N]

Reports, for Pascal Pons' test sets (tests/data/connect4-pons/): the mean and maximum
time of ``game.bots.solve`` per position and the positions (nodes) searched per
second; then the time the ``hard`` bot takes per move from the opening with its
default budget, and how it found each move.

Every position is solved with a fresh transposition table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from game.bots import DEFAULT_TIME_BUDGET, get_bot  # noqa: E402
from game.games.connect4.bots import HardConnect4  # noqa: E402
from game.games.connect4.rules import Connect4State  # noqa: E402
from game.games.connect4.solver import Solver  # noqa: E402
from game.rules import get_rules  # noqa: E402

DATA = ROOT / "tests" / "data" / "connect4-pons"
SETS = (
    ("Test_L3_R1", "End-Easy"),
    ("Test_L2_R1", "Middle-Easy"),
    ("Test_L2_R2", "Middle-Medium"),
)


def load(name: str, limit: int) -> list[tuple[Connect4State, int]]:
    rules = get_rules("connect4")
    out = []
    for line in (DATA / name).read_text().split("\n")[:limit]:
        if line.strip():
            moves, score = line.split()
            state = rules.replay(int(c) - 1 for c in moves)
            assert isinstance(state, Connect4State)
            out.append((state, int(score)))
    return out


def bench_set(positions: list[tuple[Connect4State, int]]) -> tuple[float, float, float, int, int]:
    """Returns mean s, max s, nodes per second, mean nodes, wrong answers."""
    times, nodes, wrong = [], [], 0
    for state, score in positions:
        solver = Solver()
        before = solver.nodes
        start = time.perf_counter()
        got = solver.solve(state.position, state.mask, state.ply)
        times.append(time.perf_counter() - start)
        nodes.append(solver.nodes - before)
        wrong += got != score
    nps = sum(nodes) / sum(times)
    return statistics.mean(times), max(times), nps, round(statistics.mean(nodes)), wrong


def bench_hard(moves: int, budget: float | None) -> list[tuple[int, float, str, str]]:
    """The hard bot plays both sides from the opening; one row per move."""
    rows = []
    bot = get_bot("connect4", "hard", seed=0, time_budget=budget)
    assert isinstance(bot, HardConnect4)
    state = get_rules("connect4").initial()
    for _ in range(moves):
        if state.outcome is not None:
            break
        start = time.perf_counter()
        move = bot.choose(state)
        elapsed = time.perf_counter() - start
        info = bot.last_info
        detail = ""
        if info.get("how") == "search":
            detail = f"depth {info['depth']}, {info['nodes']} nodes, value {info['value']}"
        elif info.get("how") == "exact":
            detail = f"score {info['score']}"
        rows.append((state.ply, elapsed, f"{info.get('how')}", f"col {move}  {detail}"))
        state = state.apply(move)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=100, help="lines per set (default 100)")
    parser.add_argument(
        "--budget", type=float, default=None, help=f"hard bot s/move ({DEFAULT_TIME_BUDGET})"
    )
    parser.add_argument("--moves", type=int, default=24, help="hard bot moves (default 24)")
    args = parser.parse_args()

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"\nsolve(), first {args.limit} positions of each Pons set")
    header = f"{'set':<12} {'name':<14} {'mean ms':>9} {'max ms':>9}"
    header += f" {'nodes/s':>9} {'nodes/pos':>9} {'wrong':>5}"
    print(header)
    print("-" * len(header))
    for name, title in SETS:
        mean, worst, nps, mean_nodes, wrong = bench_set(load(name, args.limit))
        print(
            f"{name:<12} {title:<14} {mean * 1e3:>9.1f} {worst * 1e3:>9.1f}"
            f" {nps:>9.0f} {mean_nodes:>9} {wrong:>5}",
            flush=True,
        )

    budget = DEFAULT_TIME_BUDGET if args.budget is None else args.budget
    print(f"\nhard bot from the opening, playing both sides, budget {budget} s per move")
    header = f"{'ply':>3} {'seconds':>8}  {'how':<7} move"
    print(header)
    print("-" * 60)
    rows = bench_hard(args.moves, args.budget)
    for ply, elapsed, how, detail in rows:
        print(f"{ply:>3} {elapsed:>8.3f}  {how:<7} {detail}", flush=True)
    times = [r[1] for r in rows]
    print(f"mean {statistics.mean(times):.3f} s, max {max(times):.3f} s per move")


if __name__ == "__main__":
    main()
