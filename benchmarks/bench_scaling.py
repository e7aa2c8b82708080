"""Benchmark: the cores budget of the Redis mode (issue 16), in one run.

Side by side, each started fresh for every run: the embedded SQLite store in one
process (`sqlite-1`); the Redis mode in one process (`redis-1`); two processes on one
Redis with each match's two players on different processes, so every patch crosses
Redis pub/sub (`redis-2`); two processes with both players of a match on one
(`redis-2-same`); and two processes with half the matches each way (`redis-2-mixed`:
what a load balancer without sticky sessions does, placing each connection on either
process at random). The redis-server is started by the benchmark on a free port with
`appendonly yes` and `appendfsync everysec` (`--fsync always` or `no` to compare).

`game loadtest` drives the same K matches in every setup and measures, over the same
steady window (after the warm-up): moves/s, the move-to-opponent latency, the CPU
seconds of every server process (psutil, user + sys), of redis-server (its own rusage,
from INFO) and of the load generator, and Redis's commands, socket reads (round trips)
and bytes per move. From these: CPU per move, moves per CPU-second with and without
Redis, and the two targets:

- Redis mode CPU per move (server + Redis) <= 1.5 x the embedded store's (redis-1 /
  sqlite-1);
- scaling efficiency: moves per CPU-second of all server processes and Redis with two
  processes >= 85 % of the same with one (redis-2 / redis-1).

    python benchmarks/bench_scaling.py                          # 3 rounds, ~5 minutes
    python benchmarks/bench_scaling.py --rounds 1 --setups redis-1,redis-2 --matches 50
    python benchmarks/bench_scaling.py --fsync always --quiet-load 1.5 --out scaling.json

Rounds alternate the order of the setups and every figure is reported as the median of
the rounds with its range, so the noise of a shared machine shows. Processes are pinned
to cores (`taskset`) only when there are enough for two servers, Redis and the
generator; with fewer everything runs unpinned and competes, which "moves per
CPU-second" is meant to see through better than moves/s. docs/scaling.md explains the
figures and holds the latest results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import loadtest_many, redis_server, server
from rich.console import Console
from rich.table import Table

CPU_RATIO_TARGET = 1.5
SCALING_TARGET = 0.85


@dataclass(frozen=True)
class Setup:
    name: str
    store: str
    processes: int
    spread: str
    what: str


SETUPS = {setup.name: setup for setup in (
    Setup("sqlite-1", "sqlite", 1, "cross", "embedded SQLite, one process"),
    Setup("redis-1", "redis", 1, "cross", "Redis, one process"),
    Setup("redis-2", "redis", 2, "cross", "Redis, two processes, a match's players on both"),
    Setup("redis-2-same", "redis", 2, "same", "Redis, two processes, a match's players on one"),
    Setup("redis-2-mixed", "redis", 2, "mixed",
          "Redis, two processes, half the matches' players on both, half on one"),
)}


@dataclass(frozen=True)
class Cores:
    """Where each process runs: taskset core lists, or None for anywhere."""

    servers: tuple[str | None, ...]
    redis: str | None
    load: str | None

    @staticmethod
    def plan(pin: bool) -> Cores:
        count = os.cpu_count() or 1
        if not pin or shutil.which("taskset") is None or count < 4:
            return Cores((None, None), None, None)
        load = "3" if count == 4 else f"3-{count - 1}"
        return Cores(("0", "1"), "2", load)

    @property
    def pinned(self) -> bool:
        return self.redis is not None


# ---- one run -----------------------------------------------------------------------


def run_once(setup: Setup, args: argparse.Namespace, cores: Cores, workdir: Path,
             ) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        settings: dict[str, str] = {}
        extra = ["--matches", str(args.matches), "--codec", args.codec, "--game", args.game,
                 "--duration", str(args.duration), "--warmup", str(args.warmup),
                 "--procs", str(args.procs)]
        if setup.store == "redis":
            url, _ = stack.enter_context(redis_server(workdir, args.fsync, cores.redis))
            settings = {"GAME_REDIS_URL": url, "GAME_REDIS_NAMESPACE": "bench"}
            extra += ["--redis", url, "--spread", setup.spread]
        servers = [stack.enter_context(server(setup.store, cores.servers[index], 0, workdir,
                                              settings))
                   for index in range(setup.processes)]
        load = os.getloadavg()[0]
        before = [scrape(url) for url, _ in servers]
        result = loadtest_many([url for url, _ in servers], [pid for _, pid in servers],
                               cores.load, 0, *extra)
        after = [scrape(url) for url, _ in servers]
    return {**figures(result, load), **operations(before, after)}


def scrape(ws_url: str) -> dict[str, float]:
    """The counters of one server's /metrics that say what its moves cost in Redis:
    moves applied, Redis calls and scripts by operation, the pub/sub lag."""
    http = ws_url.replace("ws://", "http://", 1).removesuffix("/ws")
    with urllib.request.urlopen(f"{http}/metrics", timeout=10) as response:
        text = response.read().decode()
    counters: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name.startswith(("game_moves_total{", "game_redis_seconds_count{",
                            "game_redis_pubsub_lag_seconds_count",
                            "game_redis_pubsub_lag_seconds_sum")):
            counters[name] = float(value)
    return counters


def operations(before: list[dict[str, float]], after: list[dict[str, float]],
               ) -> dict[str, Any]:
    """Redis round trips a move by the server operation that made them, and the mean
    pub/sub lag, over the whole run (warm-up included) of every server process."""
    delta: dict[str, float] = {}
    for first, last in zip(before, after, strict=True):
        for name, value in last.items():
            delta[name] = delta.get(name, 0.0) + value - first.get(name, 0.0)
    moves = sum(value for name, value in delta.items() if name.startswith("game_moves_total"))
    trips = {_label(name): round(value / moves, 3) for name, value in delta.items()
             if name.startswith("game_redis_seconds_count") and moves and value > 0}
    lags = delta.get("game_redis_pubsub_lag_seconds_count", 0.0)
    lag_sum = delta.get("game_redis_pubsub_lag_seconds_sum", 0.0)
    return {"redis_trips": dict(sorted(trips.items(), key=lambda item: -item[1])),
            "pubsub_lag_ms": round(1000 * lag_sum / lags, 2) if lags else None}


def _label(metric: str) -> str:
    """`game_redis_seconds_count{kind="script",op="X.y"}` -> `X.y (script)`."""
    pairs = (part.split("=", 1) for part in metric[metric.index("{") + 1:-1].split(","))
    labels = {key: value.strip('"') for key, value in pairs}
    return f"{labels['op']} ({labels['kind']})"


def figures(result: dict[str, Any], load: float) -> dict[str, Any]:
    """The figures of one run, per move and per CPU-second."""
    moves = max(1, int(result["moves"]))
    serving = result["server"]
    redis = result.get("redis") or {}
    server_cpu = float(serving["cpu_seconds"])
    redis_cpu = float(redis.get("cpu_seconds", 0.0))
    latency = result["latency_ms"]
    return {
        "moves": result["moves"],
        "moves_per_second": result["moves_per_second"],
        "errors": result["errors"]["total"],
        "error_kinds": result["errors"]["by_kind"],
        "server_cpu_seconds": server_cpu,
        "server_cpu_percent_each": serving.get("cpu_percent_each"),
        "redis_cpu_seconds": redis_cpu,
        "generator_cpu_seconds": result["generator"]["cpu_seconds"],
        "generator_saturated": result["generator"]["saturated"],
        "server_us_per_move": round(1e6 * server_cpu / moves, 1),
        "redis_us_per_move": round(1e6 * redis_cpu / moves, 1),
        "total_us_per_move": round(1e6 * (server_cpu + redis_cpu) / moves, 1),
        "moves_per_server_cpu_second": round(moves / server_cpu) if server_cpu else None,
        "moves_per_cpu_second": round(moves / (server_cpu + redis_cpu))
        if server_cpu else None,
        "p50_ms": latency["p50_ms"],
        "p99_ms": latency["p99_ms"],
        "max_ms": latency["max_ms"],
        "redis_per_move": redis.get("per_move"),
        "redis_commands": redis.get("commands") or {},
        "load_average": round(load, 2),
    }


def wait_for_quiet(limit: float, patience: float, console: Console) -> None:
    """Prefer a quieter machine: wait (at most `patience` s) for the 1-minute load
    average to fall below `limit`."""
    if limit <= 0:
        return
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(5)  # the load average is a slow figure: nothing to wait on but time
    if os.getloadavg()[0] >= limit:
        console.log(f"[yellow]load average still {os.getloadavg()[0]:.1f}: running anyway")


def run_rounds(args: argparse.Namespace, cores: Cores, workdir: Path,
               console: Console) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in args.setups}
    for round_no in range(args.rounds):
        shift = round_no % len(args.setups)
        for name in args.setups[shift:] + args.setups[:shift]:
            wait_for_quiet(args.quiet_load, args.quiet_wait, console)
            run = run_once(SETUPS[name], args, cores, workdir)
            runs[name].append(run)
            console.log(f"round {round_no + 1} {name}: {run['moves_per_second']:,.0f} moves/s, "
                        f"{run['total_us_per_move']:.0f} µs CPU a move "
                        f"(server {run['server_us_per_move']:.0f}, Redis "
                        f"{run['redis_us_per_move']:.0f}), p99 {run['p99_ms']} ms, "
                        f"errors {run['errors']}, load {run['load_average']}")
    return runs


# ---- across rounds -----------------------------------------------------------------

SUMMED = ("moves_per_second", "server_cpu_seconds", "redis_cpu_seconds",
          "generator_cpu_seconds", "server_us_per_move", "redis_us_per_move",
          "total_us_per_move", "moves_per_server_cpu_second", "moves_per_cpu_second",
          "p50_ms", "p99_ms", "pubsub_lag_ms", "errors", "load_average")


def spread(values: list[float]) -> dict[str, float]:
    """Median, range and the range as a share of the median."""
    middle = statistics.median(values)
    low, high = min(values), max(values)
    return {"median": round(middle, 3), "min": round(low, 3), "max": round(high, 3),
            "spread": round((high - low) / middle, 3) if middle else 0.0}


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for name, rows in runs.items():
        entry: dict[str, Any] = {key: spread([float(row[key]) for row in rows])
                                 for key in SUMMED if all(row[key] is not None for row in rows)}
        commands: dict[str, list[dict[str, float]]] = {}
        for row in rows:
            for command, data in row["redis_commands"].items():
                commands.setdefault(command, []).append(data)
        entry["redis_commands"] = {
            command: {key: round(statistics.median(d[key] for d in data), 3)
                      for key in ("per_move", "usec_per_call")}
            for command, data in commands.items()}
        trips: dict[str, list[float]] = {}
        for row in rows:
            for operation, per_move in row["redis_trips"].items():
                trips.setdefault(operation, []).append(per_move)
        entry["redis_trips"] = {operation: round(statistics.median(values), 3)
                                for operation, values in trips.items()}
        totals = [row["redis_per_move"] for row in rows if row["redis_per_move"]]
        if totals:
            entry["redis_per_move"] = {key: statistics.median(t[key] for t in totals)
                                       for key in totals[0]}
        summary[name] = entry
    return summary


def paired(runs: dict[str, list[dict[str, Any]]], top: str, bottom: str, key: str,
           ) -> dict[str, float] | None:
    """`top / bottom` of `key`, round by round (the two ran minutes apart at most)."""
    if top not in runs or bottom not in runs:
        return None
    ratios = [a[key] / b[key] for a, b in zip(runs[top], runs[bottom], strict=True)
              if a[key] and b[key]]
    return spread(ratios) if ratios else None


def budget(runs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    cpu = paired(runs, "redis-1", "sqlite-1", "total_us_per_move")
    if cpu is not None:
        checks.append({"target": "Redis mode CPU a move (server + Redis) <= 1.5 x embedded "
                       "(redis-1 / sqlite-1)", "measured": cpu,
                       "ok": cpu["median"] <= CPU_RATIO_TARGET})
    for two in ("redis-2", "redis-2-same", "redis-2-mixed"):
        scaling = paired(runs, two, "redis-1", "moves_per_cpu_second")
        if scaling is not None:
            checks.append({"target": f"scaling efficiency >= 85 % ({two} / redis-1, moves "
                           "per CPU-second of servers + Redis)", "measured": scaling,
                           "ok": scaling["median"] >= SCALING_TARGET})
    return checks


def capacity(summary: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Moves/s one Redis core would carry at the Redis CPU a move measured across
    processes; a Cluster of N masters about N times that when the matches spread evenly
    over the slots."""
    entry = summary.get("redis-2") or summary.get("redis-1")
    if entry is None or "redis_us_per_move" not in entry:
        return None
    per_move = entry["redis_us_per_move"]["median"]
    one = round(1e6 / per_move) if per_move else None
    return {"redis_us_per_move": per_move, "moves_per_second_one_redis_core": one}


# ---- output ------------------------------------------------------------------------


def cell(figure: dict[str, float] | None, digits: int = 0) -> str:
    if figure is None:
        return "-"
    middle = f"{figure['median']:,.{digits}f}"
    if figure["min"] == figure["max"]:
        return middle
    return f"{middle} [{figure['min']:,.{digits}f}-{figure['max']:,.{digits}f}]"


ROWS = (("moves/s", "moves_per_second", 0),
        ("server CPU s (all processes)", "server_cpu_seconds", 2),
        ("Redis CPU s", "redis_cpu_seconds", 2), ("generator CPU s", "generator_cpu_seconds", 2),
        ("server CPU µs a move", "server_us_per_move", 0),
        ("Redis CPU µs a move", "redis_us_per_move", 0),
        ("server + Redis CPU µs a move", "total_us_per_move", 0),
        ("moves per server CPU-s", "moves_per_server_cpu_second", 0),
        ("moves per CPU-s, Redis included", "moves_per_cpu_second", 0),
        ("latency p50 ms", "p50_ms", 1), ("latency p99 ms", "p99_ms", 1),
        ("pub/sub lag ms (mean)", "pubsub_lag_ms", 2),
        ("errors", "errors", 0), ("load average at start", "load_average", 1))


def render(summary: dict[str, dict[str, Any]], checks: list[dict[str, Any]],
           window: float, console: Console) -> None:
    table = Table(title=f"median \\[min-max] of the rounds; CPU over the {window:g} s window; "
                  "latency: move sent -> opponent has the patch")
    table.add_column("figure")
    for name in summary:
        table.add_column(name, justify="right")
    for title, key, digits in ROWS:
        table.add_row(title, *(cell(entry.get(key), digits) for entry in summary.values()))
    console.print(table)
    verdicts = Table(title="budget (median \\[min-max] of the per-round ratios)")
    verdicts.add_column("target")
    verdicts.add_column("measured", justify="right")
    verdicts.add_column("verdict")
    for check in checks:
        verdicts.add_row(check["target"], cell(check["measured"], 2),
                         "[green]met[/green]" if check["ok"] else "[red]missed[/red]")
    console.print(verdicts)
    render_commands(summary, console)
    render_trips(summary, console)


def render_trips(summary: dict[str, dict[str, Any]], console: Console) -> None:
    names = [name for name, entry in summary.items() if entry.get("redis_trips")]
    if not names:
        return
    table = Table(title="Redis round trips a move by the server operation that made them "
                  "(medians; whole run, warm-up included; from each server's /metrics)")
    table.add_column("operation")
    for name in names:
        table.add_column(name, justify="right")
    operations = sorted({op for n in names for op in summary[n]["redis_trips"]},
                        key=lambda op: -max(summary[n]["redis_trips"].get(op, 0) for n in names))
    for operation in operations:
        if max(summary[n]["redis_trips"].get(operation, 0) for n in names) >= 0.005:
            table.add_row(operation, *(f"{summary[n]['redis_trips'].get(operation, 0):.3f}"
                                       for n in names))
    table.add_row("total", *(f"{sum(summary[n]['redis_trips'].values()):.2f}" for n in names))
    console.print(table)


def render_commands(summary: dict[str, dict[str, Any]], console: Console) -> None:
    names = [name for name, entry in summary.items() if entry.get("redis_per_move")]
    if not names:
        return
    table = Table(title="Redis per move (medians): round trips (socket reads), writes, "
                  "bytes, and commands by type (those run by Lua scripts included; Redis's "
                  "own µs a call in brackets)")
    table.add_column("per move")
    for name in names:
        table.add_column(name, justify="right")
    for key in ("reads", "writes", "bytes_in", "bytes_out"):
        table.add_row(key, *(f"{summary[n]['redis_per_move'][key]:,}" for n in names))
    def per_move(name: str, command: str) -> float:
        data = summary[name]["redis_commands"].get(command)
        return 0.0 if data is None else float(data["per_move"])

    commands = sorted({c for n in names for c in summary[n]["redis_commands"]},
                      key=lambda c: -max(per_move(n, c) for n in names))
    for command in commands:
        if max(per_move(n, command) for n in names) < 0.01:
            continue
        data = [summary[n]["redis_commands"].get(command) for n in names]
        table.add_row(command, *("-" if d is None else
                                 f"{d['per_move']:.3f} ({d['usec_per_call']:.1f})" for d in data))
    console.print(table)


def show(path: Path) -> int:
    report = json.loads(path.read_text())
    console = Console(width=180)
    console.print(f"{report['command']}  ({report['started']}, {report['machine']})")
    render(report["summary"], report["budget"], report["settings"]["duration"], console)
    print_capacity(report["capacity"], console)
    return 0


def print_capacity(room: dict[str, Any] | None, console: Console) -> None:
    if room is not None:
        console.print(f"one Redis core at {room['redis_us_per_move']:.0f} µs a move: about "
                      f"{room['moves_per_second_one_redis_core']:,} moves/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setups", type=lambda s: s.split(","), default=list(SETUPS),
                        help=f"which of {','.join(SETUPS)}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--matches", type=int, default=50, help="concurrent matches K")
    parser.add_argument("--codec", default="json", choices=("json", "msgpack"))
    parser.add_argument("--game", default="connect4")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--procs", type=int, default=1, help="generator processes")
    parser.add_argument("--fsync", default="everysec", choices=("always", "everysec", "no"),
                        help="Redis appendfsync (AOF is always on)")
    parser.add_argument("--no-pin", action="store_true", help="never pin to cores")
    parser.add_argument("--quiet-load", type=float, default=0.0, metavar="L",
                        help="before each run wait for the 1-minute load average below L")
    parser.add_argument("--quiet-wait", type=float, default=120.0, metavar="S",
                        help="...but at most S seconds")
    parser.add_argument("--out", type=Path, default=Path("bench-scaling.json"))
    parser.add_argument("--show", type=Path, metavar="FILE",
                        help="print the tables of a saved result instead of running")
    args = parser.parse_args(argv)
    if args.show is not None:
        return show(args.show)
    unknown = [name for name in args.setups if name not in SETUPS]
    if unknown or args.rounds < 1:
        parser.error(f"unknown setups {unknown}" if unknown else "--rounds must be >= 1")
    console = Console(width=180)
    cores = Cores.plan(not args.no_pin)
    if not cores.pinned:
        console.log(f"[yellow]{os.cpu_count()} cores: running unpinned (pinning needs 4: two "
                    "servers, Redis, the generator)[/yellow]")
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        runs = run_rounds(args, cores, Path(tmp), console)
    summary = summarize(runs)
    checks = budget(runs)
    render(summary, checks, args.duration, console)
    room = capacity(summary)
    print_capacity(room, console)
    report = {
        "command": " ".join(["python", "benchmarks/bench_scaling.py", *sys.argv[1:]]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": {"cpus": os.cpu_count(), "pinned": cores.pinned,
                    "load_average_end": os.getloadavg(), "python": sys.version.split()[0]},
        "settings": {key: (str(value) if isinstance(value, Path) else value)
                     for key, value in vars(args).items()},
        "setups": {name: SETUPS[name].what for name in args.setups},
        "summary": summary, "budget": checks, "capacity": room, "runs": runs,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    console.log(f"wrote {args.out}")
    return 1 if any(run["errors"] for rows in runs.values() for run in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
