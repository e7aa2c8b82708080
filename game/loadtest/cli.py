"""`game loadtest URL ...`: throughput, latency, fan-out and memory of a running server.

    game loadtest ws://127.0.0.1:8000/ws --matches 100 --duration 10 --warmup 2
    game loadtest ws://127.0.0.1:8000/ws --mode fanout --watchers 1000
    game loadtest ws://127.0.0.1:8000/ws --mode idle --connections 2000
    game loadtest ws://127.0.0.1:8100/ws --target relay --matches 100   # benchmarks/relay_app.py
    game loadtest ws://127.0.0.1:8001/ws ws://127.0.0.1:8002/ws --redis redis://127.0.0.1:6379/0

Several URLs (processes of one `--redis` deployment) share the players: by default a
match's two players sit on two processes (`--spread cross`); `--redis` adds what Redis
did over the window (CPU, commands and round trips per move).

Raise the server's GAME_RATE_PER_SECOND / GAME_RATE_BURST,
GAME_MAX_CONNECTIONS_PER_ADDRESS, GAME_NEW_PLAYERS_PER_ADDRESS_PER_MINUTE,
GAME_MAX_OPEN_ROOMS_PER_ADDRESS, GAME_HTTP_REQUESTS_PER_SECOND and GAME_HTTP_REQUEST_BURST
first: a load test is one very fast client address.
Exit status: 0 when the run had no error, 1 otherwise, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from game.loadtest.config import CLIENTS, MODES, SPREADS, TARGETS, Config
from game.loadtest.coordinator import Coordinator, LoadTestFailed, Status
from game.loadtest.report import render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", nargs="+", help="the server's WebSocket URL, e.g. "
                        "ws://127.0.0.1:8000/ws; several: processes sharing one Redis")
    parser.add_argument("--spread", choices=SPREADS, default="cross",
                        help="with several URLs: cross puts a match's two players on two "
                        "processes, same puts them on one, mixed does each for half the "
                        "matches")
    parser.add_argument("--mode", choices=MODES, default="play",
                        help="play: K matches; fanout: 1 match, W watchers; idle: N sockets")
    parser.add_argument("--target", choices=TARGETS, default="game",
                        help="game server, or the bare relay of benchmarks/relay_app.py")
    parser.add_argument("--game", default="connect4", help="tictactoe or connect4")
    parser.add_argument("--codec", choices=("json", "msgpack"), default="json")
    parser.add_argument("--matches", type=int, default=10, help="concurrent matches (play)")
    parser.add_argument("--watchers", type=int, default=100, help="watchers (fanout)")
    parser.add_argument("--connections", type=int, default=1000, help="idle connections")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--procs", type=int, default=1, help="generator processes (play, idle)")
    parser.add_argument("--server-pid", type=int, action="append", default=[],
                        help="the server's pid, when it cannot be found from the port "
                        "(repeat for several processes: their CPU and memory are summed)")
    parser.add_argument("--redis", action="append", default=[], metavar="URL",
                        help="the servers' Redis (repeat for each Cluster master): report "
                        "its CPU and commands over the window")
    parser.add_argument("--client", choices=CLIENTS, default="raw",
                        help="raw: our own frame parser (default, cheapest); websockets")
    parser.add_argument("--verify-every", type=int, default=10,
                        help="check every patch hash of 1 match (or watcher) in N; 0: none")
    parser.add_argument("--stall-timeout", type=float, default=10.0,
                        help="seconds without an answer before a match counts a stall")
    parser.add_argument("--seed", type=int, default=None, help="seed the random moves")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def config_from(args: argparse.Namespace) -> Config:
    pids: list[int] = args.server_pid
    return Config(
        url=args.url[0], mode=args.mode, target=args.target, game=args.game, codec=args.codec,
        matches=args.matches, watchers=args.watchers, connections=args.connections,
        duration=args.duration, warmup=args.warmup, procs=args.procs,
        server_pid=pids[0] if pids else None, client=args.client,
        verify_every=args.verify_every, stall_timeout=args.stall_timeout, seed=args.seed,
        more_urls=tuple(args.url[1:]), spread=args.spread, more_pids=tuple(pids[1:]),
        redis=tuple(args.redis),
    )


def status_table(status: Status) -> Table:
    now = time.monotonic()
    table = Table(show_header=False, title=f"game loadtest - {status.phase}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("elapsed", f"{now - status.started:5.1f} s")
    if status.window_end:
        left = max(0.0, status.window_end - now)
        table.add_row("left", f"{left:5.1f} s")
    table.add_row("moves / s (now)", f"{status.rate:,.0f}")
    table.add_row("moves measured", f"{sum(status.moves.values()):,}")
    latency = status.histogram()
    table.add_row("latency p50 / p99 / max",
                  f"{latency.percentile(50):.2f} / {latency.percentile(99):.2f} / "
                  f"{latency.max_us / 1000:.2f} ms")
    errors = sum(status.errors.values())
    table.add_row("errors", f"[red]{errors}[/red]" if errors else "0")
    if status.connections:
        table.add_row("idle connections", f"{status.connections:,}")
    if status.server_rss is not None:
        table.add_row("server RSS", f"{status.server_rss / 2**20:,.1f} MiB")
    return table


def run(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    try:
        config = config_from(args)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        return 2
    show = err.is_terminal
    try:
        if show:
            with Live(status_table(Status()), console=err, refresh_per_second=4,
                      transient=True) as live:
                result = Coordinator(config, lambda s: live.update(status_table(s))).run()
        else:
            result = Coordinator(config).run()
    except LoadTestFailed as exc:
        err.print(f"[red]load test failed:[/red] {exc}")
        return 2
    emit(result, args.json)
    return 0 if result["errors"]["total"] == 0 else 1


def emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render(result, Console())
