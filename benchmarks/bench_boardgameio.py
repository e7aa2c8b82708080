"""boardgame.io 0.50's tic-tac-toe server against ours, in the same run, one core each.

The budget's 12,000 moves/s is "3x boardgame.io 0.50's TicTacToe server measured on
this machine"; machines here differ by 2x from one day to the next, so this measures
the 3x itself. Both servers are pinned to core 0 and their load generators to core 1,
alternately, `rounds` times:

- boardgame.io: `benchmarks/boardgameio/server.cjs` (its `Server`, in-memory store,
  lobby API and socket.io transport), driven by `loadgen.cjs`: K matches created and
  joined through the lobby API, two bare socket.io clients each, random legal moves
  as fast as the server answers, a new match when one ends.
- ours: the in-memory game server, driven by `game loadtest --game tictactoe --codec
  json` with the same K.

Latency is from sending a move to the opponent holding the new state in both.

    python benchmarks/bench_boardgameio.py                 # K=100, 3 rounds
    python benchmarks/bench_boardgameio.py --matches 10,100 --rounds 1

`bench_server.py` runs one round of it at K=100 (`--boardgameio 0` skips it). The
first run installs boardgame.io with `npm ci` in benchmarks/boardgameio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchlib import ROOT, free_port, loadtest, pinned, server, started, summary
from rich.console import Console
from rich.table import Table

BGIO = ROOT / "benchmarks" / "boardgameio"
FACTOR = 3.0
"""The budget: at least this many times boardgame.io's rate."""


def install(console: Console) -> bool:
    """boardgame.io's node_modules, installed on first use; False when Node is missing
    or the install fails."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        console.log("[yellow]no node/npm: skipping the boardgame.io comparison[/yellow]")
        return False
    if not (BGIO / "node_modules" / "boardgame.io").is_dir():
        console.log("installing boardgame.io (npm ci in benchmarks/boardgameio)")
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=BGIO, capture_output=True, text=True)
        if done.returncode != 0:  # no registry, say: the rest of a long run still counts
            console.log(f"[yellow]npm ci failed, skipping the boardgame.io comparison:[/yellow]"
                        f" {done.stderr.strip()[-500:]}")
            return False
    return True


def run_boardgameio(matches: int, cores: tuple[int | None, int | None], args: argparse.Namespace,
                    workdir: Path) -> dict[str, Any]:
    server_core, load_core = cores
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = pinned(server_core, ["node", "server.cjs", str(port)], args.nice)
    with started(command, f"{url}/games", workdir / f"bgio-{port}.log", cwd=BGIO) as pid:
        load = pinned(load_core, ["node", "loadgen.cjs", "--url", url, "--matches", str(matches),
                                  "--duration", str(args.duration), "--warmup", str(args.warmup),
                                  "--server-pid", str(pid)], args.nice)
        done = subprocess.run(load, cwd=BGIO, capture_output=True, text=True, timeout=600)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"boardgame.io loadgen failed ({done.returncode}): "
                           f"{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    cpu = result["server"]["cpu_percent"]
    rate = result["moves_per_second"]
    return {
        "moves_per_second": rate,
        "latency_ms": result["latency_ms"],
        "errors": result["errors"]["total"],
        "error_kinds": result["errors"]["by_kind"],
        "server_cpu_percent": cpu,
        "moves_per_cpu_second": round(rate * 100 / cpu, 1) if cpu else None,
        "server_rss_mib": result["server"]["rss_mib"],
        "generator_cpu_percent": max(result["generator"]["cpu_percent"]),
        "matches_finished": result["matches_finished"],
    }


def run_ours(matches: int, cores: tuple[int | None, int | None], args: argparse.Namespace,
             workdir: Path) -> dict[str, Any]:
    server_core, load_core = cores
    with server("memory", server_core, args.nice, workdir) as (url, pid):
        result = loadtest(url, pid, load_core, args.nice, "--matches", str(matches), "--codec",
                          "json", "--game", "tictactoe", "--duration", str(args.duration),
                          "--warmup", str(args.warmup))
    return summary(result)


def compare_boardgameio(args: argparse.Namespace, cores: tuple[int | None, int | None],
                        workdir: Path, console: Console, matches: int) -> dict[str, Any]:
    """`rounds` alternating runs of boardgame.io and ours at K = `matches`."""
    rounds: list[dict[str, Any]] = []
    for number in range(args.rounds):
        bgio = run_boardgameio(matches, cores, args, workdir)
        ours = run_ours(matches, cores, args, workdir)
        ratio = round(ours["moves_per_second"] / bgio["moves_per_second"], 2)
        per_cpu = (round(ours["moves_per_cpu_second"] / bgio["moves_per_cpu_second"], 2)
                   if ours["moves_per_cpu_second"] and bgio["moves_per_cpu_second"] else None)
        rounds.append({"boardgameio": bgio, "ours": ours, "ratio": ratio,
                       "ratio_per_cpu": per_cpu})
        console.log(f"tictactoe K={matches} round {number + 1}: boardgame.io "
                    f"{bgio['moves_per_second']:,.0f} moves/s, ours "
                    f"{ours['moves_per_second']:,.0f} moves/s, x{ratio}")
    return {"matches": matches, "game": "tictactoe", "codec": "json", "rounds": rounds,
            "median_ratio": statistics.median(r["ratio"] for r in rounds)}


def verdict_boardgameio(comparison: dict[str, Any]) -> dict[str, Any]:
    ratio = comparison["median_ratio"]
    return {"target": f"K={comparison['matches']} tictactoe: >= {FACTOR:g} x boardgame.io 0.50 "
                      "moves/s (same run, median of rounds)",
            "measured": ratio, "ok": ratio >= FACTOR}


def render(comparisons: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="tic-tac-toe: boardgame.io 0.50 vs ours (memory store, json), "
                        "one core each")
    for name in ("K", "round", "server", "moves/s", "x bgio", "p50 ms", "p99 ms", "max ms",
                 "CPU %", "moves/CPU-s", "gen CPU %", "errors"):
        table.add_column(name, justify="left" if name == "server" else "right")
    for comparison in comparisons:
        for number, entry in enumerate(comparison["rounds"], 1):
            for name in ("boardgameio", "ours"):
                data = entry[name]
                latency = data["latency_ms"]
                per_cpu = data["moves_per_cpu_second"]
                table.add_row(
                    str(comparison["matches"]), str(number), name,
                    f"{data['moves_per_second']:,.0f}",
                    f"{entry['ratio']:.2f}" if name == "ours" else "-",
                    f"{latency['p50_ms']:.2f}", f"{latency['p99_ms']:.2f}",
                    f"{latency['max_ms']:.1f}", str(data["server_cpu_percent"]),
                    f"{per_cpu:,.0f}" if per_cpu else "-", str(data["generator_cpu_percent"]),
                    str(data["errors"]), end_section=name == "ours")
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--matches", type=lambda s: [int(x) for x in s.split(",")],
                        default=[100])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--nice", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench-boardgameio.json"))
    args = parser.parse_args(argv)
    console = Console(width=150)
    if not install(console):
        return 1
    can_pin = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    cores: tuple[int | None, int | None] = (0, 1) if can_pin else (None, None)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        comparisons = [compare_boardgameio(args, cores, Path(tmp), console, k)
                       for k in args.matches]
    render(comparisons, console)
    checks = [verdict_boardgameio(c) for c in comparisons]
    for check in checks:
        console.print(f"{check['target']}: {check['measured']} -> "
                      f"{'[green]met[/green]' if check['ok'] else '[red]missed[/red]'}")
    args.out.write_text(json.dumps({"comparisons": comparisons, "budget": checks}, indent=2) + "\n")
    console.log(f"wrote {args.out}")
    errors = sum(r[name]["errors"] for c in comparisons for r in c["rounds"]
                 for name in ("boardgameio", "ours"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
