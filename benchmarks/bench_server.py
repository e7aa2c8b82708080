"""Benchmark: the game server against a bare FastAPI relay, on one core each side.

Runs every server pinned to one core (`taskset -c 0`) and the load generator
(`game loadtest`) on the other (`taskset -c 1`), and in the same run drives the
minimal relay of benchmarks/relay_app.py the same way, so the game server's
figures are read as ratios to it. For each codec (json, msgpack) and each number
of concurrent matches K (1, 10, 100, 1000) it measures moves per second and the
move-to-opponent latency against: the relay, the game server with the in-memory
store (GAME_DB=:memory:) and the game server with its default SQLite file (group
commit, synchronous=FULL). Then it checks the budget: fan-out to 1000 watchers,
memory per idle connection, and boardgame.io 0.50's tic-tac-toe server against ours
(bench_boardgameio.py; needs Node). It prints the tables and writes JSON.

    python benchmarks/bench_server.py                       # everything, ~6 minutes
    python benchmarks/bench_server.py --matches 100 --codecs json --stores memory
    python benchmarks/bench_server.py --duration 10 --warmup 3 --out results.json

Each server is started fresh for every row (its own port, its own SQLite file),
with the rate limit and the per-address connection cap raised (a load test is one
very fast client address). Needs Linux with two cores for the pinning; with fewer
it runs unpinned and says so. The machine's load average is recorded with every
row: figures taken while other processes compete for the cores are noisy, which
is why "moves per server CPU-second" (moves/s divided by the server's measured
CPU share) is reported beside the raw rate. docs/performance.md explains the
figures and holds the latest results.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_boardgameio import compare_boardgameio, install, verdict_boardgameio
from bench_boardgameio import render as render_boardgameio
from benchlib import loadtest, server, summary
from rich.console import Console
from rich.table import Table

TARGETS = ("relay", "memory", "sqlite")


def run_matrix(args: argparse.Namespace, cores: tuple[int | None, int | None], workdir: Path,
               console: Console) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    server_core, load_core = cores
    for codec in args.codecs:
        for matches in args.matches:
            row: dict[str, Any] = {"codec": codec, "matches": matches}
            for target in args.stores:
                with server(target, server_core, args.nice, workdir) as (url, pid):
                    extra = ["--matches", str(matches), "--codec", codec, "--game", args.game,
                             "--duration", str(args.duration), "--warmup", str(args.warmup),
                             "--procs", str(args.procs)]
                    if target == "relay":
                        extra += ["--target", "relay"]
                    row[target] = summary(loadtest(url, pid, load_core, args.nice, *extra))
                console.log(f"{codec} K={matches} {target}: "
                            f"{row[target]['moves_per_second']:,.0f} moves/s, "
                            f"p99 {row[target]['latency_ms']['p99_ms']} ms, "
                            f"errors {row[target]['errors']}")
            relay = row.get("relay", {}).get("moves_per_second")
            for target in ("memory", "sqlite"):
                if target in row and relay:
                    row[target]["ratio_to_relay"] = round(row[target]["moves_per_second"] / relay,
                                                          3)
                    relay_cpu = row["relay"]["moves_per_cpu_second"]
                    game_cpu = row[target]["moves_per_cpu_second"]
                    row[target]["ratio_per_cpu_to_relay"] = (
                        round(game_cpu / relay_cpu, 3) if game_cpu and relay_cpu else None)
                    frames = row["relay"]["frames_per_second"]
                    row[target]["frame_ratio_to_relay"] = round(
                        row[target]["frames_per_second"] / frames, 3) if frames else None
            rows.append(row)
    return rows


def run_extras(args: argparse.Namespace, cores: tuple[int | None, int | None], workdir: Path,
               console: Console) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    server_core, load_core = cores
    if args.watchers:
        with server("memory", server_core, args.nice, workdir) as (url, pid):
            result = loadtest(url, pid, load_core, args.nice, "--mode", "fanout", "--watchers",
                              str(args.watchers), "--duration", str(max(args.duration, 5)),
                              "--warmup", str(args.warmup), "--codec", args.codecs[0])
        extras["fanout"] = {"watchers": args.watchers, "codec": args.codecs[0],
                            "moves": result["moves"],
                            "last_watcher_ms": result["latency_ms"],
                            "opponent_ms": result["opponent_latency_ms"],
                            "errors": result["errors"]["total"],
                            "server": result["server"], "generator": result["generator"]}
        console.log(f"fanout {args.watchers}: last watcher {result['latency_ms']}")
    if args.idle:
        with server("memory", server_core, args.nice, workdir) as (url, pid):
            result = loadtest(url, pid, load_core, args.nice, "--mode", "idle", "--connections",
                              str(args.idle), "--duration", "2", "--codec", args.codecs[0])
        extras["idle"] = {**result["idle"], "errors": result["errors"]["total"]}
        console.log(f"idle {args.idle}: {result['idle']}")
    if args.boardgameio and install(console):
        extras["boardgameio"] = compare_boardgameio(args, cores, workdir, console,
                                                    args.boardgameio)
    return extras


def verdicts(rows: list[dict[str, Any]], extras: dict[str, Any]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    for row in rows:
        if row["matches"] != 100 or "memory" not in row:
            continue
        game = row["memory"]
        label = f"K=100 {row['codec']} (memory store)"
        if "ratio_to_relay" in game:
            checks.append({"target": f"{label}: >= 0.5 x relay moves/s",
                           "measured": game["ratio_to_relay"],
                           "ok": game["ratio_to_relay"] >= 0.5})
            if game.get("ratio_per_cpu_to_relay") is not None:
                checks.append({"target": f"{label}: >= 0.5 x relay moves per CPU-second",
                               "measured": game["ratio_per_cpu_to_relay"],
                               "ok": game["ratio_per_cpu_to_relay"] >= 0.5})
        checks.append({"target": f"{label}: >= 12,000 moves/s",
                       "measured": game["moves_per_second"],
                       "ok": game["moves_per_second"] >= 12_000})
        checks.append({"target": f"{label}: p99 <= 10 ms", "measured": game["latency_ms"]["p99_ms"],
                       "ok": game["latency_ms"]["p99_ms"] <= 10})
    if "fanout" in extras:
        fanout = extras["fanout"]["last_watcher_ms"]
        checks.append({"target": f"fan-out {extras['fanout']['watchers']}: last watcher <= 50 ms"
                       " (max)", "measured": fanout["max_ms"], "ok": fanout["max_ms"] <= 50})
    if "idle" in extras and "kib_per_connection" in extras["idle"]:
        kib = extras["idle"]["kib_per_connection"]
        checks.append({"target": "idle connection <= 40 KiB", "measured": kib, "ok": kib <= 40})
    if "boardgameio" in extras:
        checks.append(verdict_boardgameio(extras["boardgameio"]))
    return checks


def render(rows: list[dict[str, Any]], checks: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="game server vs bare relay, one core each (x = ratio to the relay)")
    for name in ("codec", "K", "server", "moves/s", "x relay", "frames x", "p50 ms", "p99 ms",
                 "max ms", "CPU %", "moves/CPU-s", "x relay/CPU", "errors"):
        table.add_column(name, justify="left" if name in ("codec", "server") else "right")
    for row in rows:
        relay_cpu = row.get("relay", {}).get("moves_per_cpu_second")
        for target in TARGETS:
            data = row.get(target)
            if data is None:
                continue
            latency = data["latency_ms"]
            per_cpu = data["moves_per_cpu_second"]
            table.add_row(
                row["codec"], str(row["matches"]), target, f"{data['moves_per_second']:,.0f}",
                _ratio(data.get("ratio_to_relay")), _ratio(data.get("frame_ratio_to_relay")),
                f"{latency['p50_ms']:.2f}", f"{latency['p99_ms']:.2f}", f"{latency['max_ms']:.1f}",
                str(data["server_cpu_percent"]), f"{per_cpu:,.0f}" if per_cpu else "-",
                _ratio(per_cpu / relay_cpu if per_cpu and relay_cpu and target != "relay"
                       else None),
                f"[red]{data['errors']}[/red]" if data["errors"] else "0",
                end_section=target == TARGETS[-1],
            )
    console.print(table)
    budget = Table(title="budget")
    budget.add_column("target")
    budget.add_column("measured", justify="right")
    budget.add_column("verdict")
    for check in checks:
        budget.add_row(check["target"], str(check["measured"]),
                       "[green]met[/green]" if check["ok"] else "[red]missed[/red]")
    console.print(budget)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--codecs", type=lambda s: s.split(","), default=["json", "msgpack"])
    parser.add_argument("--matches", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 10, 100, 1000])
    parser.add_argument("--stores", type=lambda s: s.split(","), default=list(TARGETS),
                        help="which servers: relay,memory,sqlite")
    parser.add_argument("--game", default="connect4")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--procs", type=int, default=1, help="generator processes")
    parser.add_argument("--watchers", type=int, default=1000, help="fan-out run (0: skip)")
    parser.add_argument("--idle", type=int, default=2000, help="idle run connections (0: skip)")
    parser.add_argument("--boardgameio", type=int, default=100, metavar="K",
                        help="boardgame.io tic-tac-toe comparison at K matches (0: skip)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternating rounds of the boardgame.io comparison")
    parser.add_argument("--nice", type=int, default=0,
                        help="run servers and generators at this niceness (negative needs root)")
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args(argv)
    console = Console(width=150)
    can_pin = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    cores: tuple[int | None, int | None] = (0, 1) if can_pin else (None, None)
    if not can_pin:
        console.log("[yellow]fewer than 2 cores or no taskset: running unpinned[/yellow]")
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        rows = run_matrix(args, cores, Path(tmp), console)
        extras = run_extras(args, cores, Path(tmp), console)
    checks = verdicts(rows, extras)
    render(rows, checks, console)
    if "boardgameio" in extras:
        render_boardgameio([extras["boardgameio"]], console)
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": {"cpus": os.cpu_count(), "pinned": can_pin, "load_average_end":
                    os.getloadavg(), "python": sys.version.split()[0]},
        "settings": {key: (str(value) if isinstance(value, Path) else value)
                     for key, value in vars(args).items()},
        "rows": rows, **extras, "budget": checks,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    console.log(f"wrote {args.out}")
    errors = sum(row[t]["errors"] for row in rows for t in TARGETS if t in row)
    errors += sum(entry[name]["errors"] for entry in extras.get("boardgameio", {}).get("rounds", [])
                  for name in ("boardgameio", "ours"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
