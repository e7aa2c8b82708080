"""Benchmark: the CPU one move costs in the server's sans-I/O path, stage by stage,
against the whole per-message cost of the bare FastAPI relay, in the same run.

    python benchmarks/bench_move_path.py [--matches 100] [--moves 200000] [--blocks 10]
                                         [--relay-seconds 10] [--server-seconds 0]

The relay half starts `benchmarks/relay_app.py` on one core and `game loadtest
--target relay` on the other, and reads the relay's CPU per relayed message (one
frame in, two out, the socket calls included). The game half runs in this process,
with no sockets: K connect-four matches played interleaved with random legal moves,
each move taken through the stages the server runs for it:

- decode: the JSON text of a `move` frame decoded and validated (`parse_client`);
- core: `handle(match, PlayMove, now)`, the new immutable match record;
- views: `updates`, the next views, each viewer's ops and its view's CRC-32;
- encode: the mover's patch and ack and the opponent's patch, encoded and framed.

The moves are played in `--blocks` runs, and each figure is the fastest run's: on a
shared machine other processes only ever add time. The whole (all stages with no clock
reads between them) is this process's CPU time per move.

The budget's relay ratio (at least half the relay's moves per second, one core
each) allows a move twice the relay's CPU per message, socket calls included. The
sans-I/O stages alone are what this prints against that allowance: if they exceed
it, no change to the transport can meet the target.

`--server-seconds S` adds the whole move as the server runs it: the game server
(memory store) on core 0 under `game loadtest` on core 1, K matches, its CPU per move
with everything around the stages (sockets, event loop, session, hub, match set-up).
`--moves 0` skips the in-process half. `--dispatch-turns N` adds the native endpoint's
message driver alone (`game.server.inbox`, on uvloop): K inboxes each handed one
message per loop turn, N turns, each handled by a coroutine that returns at once (as
the memory store's commands do); its CPU per message.

`--tree PATH` measures the code of another checkout (e.g. a `git worktree` of an
earlier commit) with this benchmark: PATH's `game` in this process, and for the
server and its load generator. `--compare PATH --rounds N` runs this checkout and
PATH alternately (ABBA), N rounds each, in fresh processes, and prints the median
and the range of every figure side by side:

    git worktree add --detach /tmp/before HEAD
    python benchmarks/bench_move_path.py --compare /tmp/before --rounds 5 \
        --relay-seconds 0 --moves 100000 --server-seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]


def _tree(argv: list[str]) -> Path:
    """The checkout measured: `--tree PATH`, read before any of its code is imported."""
    for index, arg in enumerate(argv):
        if arg == "--tree" and index + 1 < len(argv):
            return Path(argv[index + 1]).resolve()
        if arg.startswith("--tree="):
            return Path(arg.partition("=")[2]).resolve()
    return ROOT


TREE = _tree(sys.argv)
sys.path.insert(0, str(TREE))
sys.path.insert(0, str(ROOT / "benchmarks"))
if TREE != ROOT:  # the server and the load generator too: PATH's, not the current directory's
    os.environ.update(PYTHONPATH=str(TREE), PYTHONSAFEPATH="1")

import orjson  # noqa: E402
import uvloop  # noqa: E402
from benchlib import loadtest, server, summary  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from game.core.match import Match, PlayMove, Seat, TimeControl, handle, new_match  # noqa: E402
from game.core.views import Step, Views, updates, views_of  # noqa: E402
from game.protocol.codec import decode_json, encode_json_bytes  # noqa: E402
from game.protocol.messages import Move, parse_client  # noqa: E402
from game.protocol.patch import apply_patch, view_hash  # noqa: E402
from game.rules import get_rules  # noqa: E402
from game.server.connection import frame_bytes, unframe  # noqa: E402
from game.server.inbox import Inbox  # noqa: E402

STAGES = ("decode", "core", "views", "encode")


class StageTimes:
    """Per-stage CPU seconds, summed over every move played."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.moves = 0


def _games(count: int, seed: int, game: str) -> list[list[int]]:
    """Random legal games, played out by the rules ahead of the run so that choosing
    moves costs the measured loop nothing."""
    rng = random.Random(seed)
    rules = get_rules(game)
    games = []
    for _ in range(count):
        state, moves = rules.initial(), []
        while state.outcome is None:
            move = rng.choice(list(state.legal_moves()))
            moves.append(move)
            state = state.apply(move)
        games.append(moves)
    return games


class _Slot:
    """One of the K interleaved matches: its record, views, game and the move texts."""

    __slots__ = ("frames", "index", "match", "players", "views")

    def __init__(self, number: int, game: str, moves: list[int], now: int) -> None:
        seats = (Seat(f"p{number}a", "A"), Seat(f"p{number}b", "B"))
        self.match = new_match(f"m{number:06d}", game, TimeControl(), now, seats)
        self.views = views_of(self.match)
        self.players = (seats[0].player, seats[1].player)
        first = self.match.version
        self.frames = [orjson.dumps({"type": "move", "match": self.match.id, "move": move,
                                     "version": first + ply, "id": number * 100 + ply}).decode()
                       for ply, move in enumerate(moves)]
        self.index = 0


def _frames(match: Match, step: dict[Any, Step], ack_ref: Any) -> list[bytes]:
    out = []
    for viewer in (0, 1):
        patch = {"type": "patch", "match": match.id, "version": match.version,
                 "ops": step[viewer].ops, "hash": step[viewer].hash, "at": 0}
        out.append(frame_bytes(0x81, encode_json_bytes(patch)))
    ack = {"type": "ack", "ref": ack_ref, "match": match.id, "version": match.version}
    out.append(frame_bytes(0x81, encode_json_bytes(ack)))
    return out


def check_step(before: Views, after: Views, step: dict[Any, Step], frames: list[bytes]) -> None:
    """Each viewer's ops carry its view from `before` to `after`, its hash is that
    view's CRC-32, and the frames carry those patches (a `--check` run; untimed)."""
    for viewer in (0, 1, None):
        patched = apply_patch(before.of(viewer), step[viewer].ops)
        if patched != after.of(viewer) or view_hash(patched) != step[viewer].hash:
            raise AssertionError(f"viewer {viewer}: wrong patch at version {after.match.version}")
    for viewer, frame in zip((0, 1), frames, strict=False):
        if orjson.loads(unframe(frame)[1])["ops"] != step[viewer].ops:
            raise AssertionError(f"viewer {viewer}: the frame does not carry the patch")


def play(matches: int, moves: int, games: list[list[int]], timed: bool,
         check: bool = False, game: str = "connect4") -> StageTimes:
    """Play `moves` moves over `matches` interleaved matches; with `timed`, each stage
    is timed on its own (a `perf_counter` read between stages, about 0.05 µs); with
    `check`, every move's patches are verified."""
    clock: Callable[[], float] = time.perf_counter if timed else (lambda: 0.0)
    table = StageTimes()
    now = 1_800_000_000_000
    slots = [_Slot(i, game, games[i % len(games)], now) for i in range(matches)]
    started = matches
    while table.moves < moves:
        for number, slot in enumerate(slots):
            match = slot.match
            t0 = clock()
            msg = parse_client(decode_json(slot.frames[slot.index]))
            t1 = clock()
            assert isinstance(msg, Move)
            seat = match.position.to_move
            assert seat is not None  # the slot's game is not over
            player = slot.players[seat]
            transition = handle(match, PlayMove(player, msg.move, msg.version, msg.id), now)
            t2 = clock()
            before = slot.views
            slot.views, step = updates(before, transition.match)
            t3 = clock()
            frames = _frames(transition.match, step, msg.id)
            t4 = clock()
            if check:
                check_step(before, slot.views, step, frames)
            seconds = table.seconds
            seconds["decode"] += t1 - t0
            seconds["core"] += t2 - t1
            seconds["views"] += t3 - t2
            seconds["encode"] += t4 - t3
            table.moves += 1
            now += 1
            slot.match, slot.index = transition.match, slot.index + 1
            if transition.match.result is not None:
                slots[number] = _Slot(started, game, games[started % len(games)], now)
                started += 1
    return table


def stage_us_per_move(matches: int, moves: int, games: list[list[int]], game: str,
                      blocks: int) -> dict[str, float]:
    """Each stage's µs per move, timed apart: the least over `blocks` runs of
    `moves / blocks` moves (other processes on a shared machine only ever add time)."""
    best = dict.fromkeys(STAGES, math.inf)
    for _ in range(blocks):
        table = play(matches, max(1, moves // blocks), games, timed=True, game=game)
        for name, seconds in table.seconds.items():
            best[name] = min(best[name], seconds / table.moves * 1e6)
    return best


def untimed_us_per_move(matches: int, moves: int, games: list[list[int]], game: str,
                        blocks: int) -> float:
    """All stages together, with no clock reads between them (match set-up included,
    about one new match per 20 moves): this process's CPU time per move, the least over
    `blocks` runs of `moves / blocks` moves."""
    best = math.inf
    for _ in range(blocks):
        start = time.process_time()
        table = play(matches, max(1, moves // blocks), games, timed=False, game=game)
        best = min(best, (time.process_time() - start) / table.moves * 1e6)
    return best


def relay_us_per_message(seconds: int, matches: int, workdir: Path) -> dict[str, Any]:
    with server("relay", 0, 0, workdir) as (url, pid):
        result = summary(loadtest(url, pid, 1, 0, "--target", "relay", "--matches",
                                  str(matches), "--duration", str(seconds), "--warmup", "2"))
    per_cpu = result["moves_per_cpu_second"]
    if not per_cpu:
        raise RuntimeError("the relay's CPU was not measured")
    return {"moves_per_second": result["moves_per_second"], "moves_per_cpu_second": per_cpu,
            "us_per_message": 1e6 / per_cpu}


def server_us_per_move(seconds: int, matches: int, game: str, workdir: Path) -> dict[str, Any]:
    """The whole move in the game server (memory store, json), sockets included."""
    with server("memory", 0, 0, workdir) as (url, pid):
        result = summary(loadtest(url, pid, 1, 0, "--game", game, "--matches", str(matches),
                                  "--duration", str(seconds), "--warmup", "2"))
    per_cpu = result["moves_per_cpu_second"]
    if not per_cpu or result["errors"]:
        raise RuntimeError(f"the server's CPU was not measured: {result}")
    return {"moves_per_second": result["moves_per_second"], "moves_per_cpu_second": per_cpu,
            "us_per_move": 1e6 / per_cpu}


class _Conn:
    """What the inbox reads of a connection."""

    reading = True

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.on_close, self.player, self.address = loop, None, "p", "127.0.0.1"

    def close(self, code: int, reason: str = "") -> None:
        raise RuntimeError(f"a handler failed: {code} {reason}")


class _Session:
    """What the inbox drives of a session: a handler that awaits a command which
    returns at once, as the memory store's do."""

    endpoint = SimpleNamespace(settings=SimpleNamespace(redis_url=None))  # read by older trees

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.conn = _Conn(loop)
        self.handled = 0

    async def handle(self, frame: str | bytes) -> None:
        self.handled += await self._command(frame)

    async def _command(self, frame: str | bytes) -> int:
        return 1

    async def end(self) -> None:
        return None


def dispatch_us_per_message(connections: int, turns: int) -> float:
    """The message driver alone: CPU µs per message, the least of 5 runs."""

    async def run() -> float:
        loop = asyncio.get_running_loop()
        inboxes = [Inbox(cast(Any, _Session(loop)), lambda pause: None)
                   for _ in range(connections)]
        done: asyncio.Future[None] = loop.create_future()

        def turn(left: int) -> None:  # one loop turn's messages, one per connection
            for inbox in inboxes:
                inbox.put('{"type":"move"}')
            if left:
                loop.call_soon(turn, left - 1)
            else:
                done.set_result(None)

        start = time.process_time()
        loop.call_soon(turn, turns - 1)
        await done
        while not all(inbox.idle for inbox in inboxes):
            await asyncio.sleep(0)
        return (time.process_time() - start) / (connections * turns) * 1e6

    return min(uvloop.run(run()) for _ in range(5))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path("/tmp") / f"bench-move-path-{os.getpid()}-{int(time.time())}"
    workdir.mkdir(parents=True, exist_ok=True)
    relay = (relay_us_per_message(args.relay_seconds, args.matches, workdir)
             if args.relay_seconds else None)
    whole_server = (server_us_per_move(args.server_seconds, args.matches, args.game, workdir)
                    if args.server_seconds else None)
    report: dict[str, Any] = {"tree": str(TREE), "game": args.game, "matches": args.matches,
                              "moves": 0, "checked": args.check, "us_per_move": None,
                              "us_per_move_untimed": None, "relay": relay,
                              "server": whole_server, "dispatch": None}
    if args.dispatch_turns:
        report["dispatch"] = {"us_per_message": round(
            dispatch_us_per_message(args.matches, args.dispatch_turns), 3)}
    if args.moves:
        gc.collect()
        games = _games(1000, args.seed, args.game)
        if args.check:
            play(args.matches, args.moves, games, timed=False, check=True, game=args.game)
        play(args.matches, min(args.moves, 20_000), games, timed=False, game=args.game)  # warm
        stages = stage_us_per_move(args.matches, args.moves, games, args.game, args.blocks)
        whole = untimed_us_per_move(args.matches, args.moves, games, args.game, args.blocks)
        report.update(moves=args.moves, blocks=args.blocks, us_per_move={
            name: round(value, 2) for name, value in stages.items()},
            us_per_move_untimed=round(whole, 2))
        if relay is not None:
            allowance = 2 * relay["us_per_message"]
            report["allowance_us"] = round(allowance, 2)
            report["sans_io_share_of_allowance"] = round(whole / allowance, 3)
    return report


def figures(report: dict[str, Any]) -> dict[str, float]:
    """The figures of one report worth comparing across runs, in µs per move."""
    out: dict[str, float] = {}
    for name, value in (report["us_per_move"] or {}).items():
        out[name] = value
    if report["us_per_move_untimed"] is not None:
        out["sans-I/O move (no clock reads)"] = report["us_per_move_untimed"]
    if report["server"] is not None:
        out["server: whole move"] = report["server"]["us_per_move"]
    if report.get("dispatch") is not None:
        out["dispatch: one message"] = report["dispatch"]["us_per_message"]
    if report["relay"] is not None:
        out["relay: one message"] = report["relay"]["us_per_message"]
    return out


def compare(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Run this checkout and `--compare` alternately (ABBA), each run in a fresh process."""
    passed = _without(argv, {"--compare", "--rounds", "--tree"}, {"--json"})
    trees = (TREE, args.compare.resolve())
    runs: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
    for round_ in range(args.rounds):
        for tree in trees if round_ % 2 == 0 else trees[::-1]:
            done = subprocess.run([sys.executable, __file__, *passed, "--json", "--tree",
                                   str(tree)], capture_output=True, text=True, check=False,
                                  env={**os.environ, "PYTHONHASHSEED": "0"})  # same layouts
            if done.returncode != 0:
                raise RuntimeError(f"the run of {tree} failed:\n{done.stderr[-3000:]}")
            runs[tree].append(figures(orjson.loads(done.stdout)))
    medians = {name: statistics.median(run[name] for run in runs[trees[0]])
               for name in runs[trees[0]][0]}
    rows = []
    for name in medians:
        a, b = ([run[name] for run in runs[tree]] for tree in trees)
        difference = statistics.median(b) - statistics.median(a)
        whole = medians[_WHOLE.get(name, name)]
        rows.append({"figure": name, "runs": len(a), "this": _spread(a), "other": _spread(b),
                     "difference": round(difference, 2),
                     "percent_of_move": round(100 * difference / whole, 1)})
    return {"this": str(trees[0]), "other": str(trees[1]), "rounds": args.rounds, "rows": rows}


_WHOLE = dict.fromkeys(STAGES, "sans-I/O move (no clock reads)")
"""The whole move a stage's difference is a share of (any other figure: of itself)."""


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2)}


def _without(argv: list[str], valued: set[str], flags: set[str]) -> list[str]:
    """`argv` less the options in `valued` (with their values) and in `flags`."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in valued:
            skip = True
        elif arg not in flags and arg.partition("=")[0] not in valued:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matches", type=int, default=100)
    parser.add_argument("--moves", type=int, default=200_000, help="0: skip the sans-I/O half")
    parser.add_argument("--blocks", type=int, default=10,
                        help="the moves are played in this many runs; the fastest counts")
    parser.add_argument("--relay-seconds", type=int, default=10, help="0: skip the relay")
    parser.add_argument("--server-seconds", type=int, default=0,
                        help="the whole move in the game server, sockets included (0: skip)")
    parser.add_argument("--dispatch-turns", type=int, default=0,
                        help="the message driver alone, this many loop turns (0: skip)")
    parser.add_argument("--game", default="connect4")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--check", action="store_true",
                        help="first play the moves once more verifying every patch and hash")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the checkout whose code is measured (default: this one)")
    parser.add_argument("--compare", type=Path, metavar="PATH",
                        help="run this checkout and PATH alternately, side by side")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each with --compare")
    args = parser.parse_args(argv)
    console = Console(stderr=args.json)
    report = compare(args, argv) if args.compare else measure(args)
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif args.compare:
        render_comparison(report, console)
    else:
        render(report, console)
    return 0


def render(report: dict[str, Any], console: Console) -> None:
    table = Table(title=f"one {report['game']} move's CPU, K = {report['matches']} interleaved "
                        f"matches ({report['moves']:,} moves)")
    table.add_column("stage")
    table.add_column("µs per move", justify="right")
    for name, value in (report["us_per_move"] or {}).items():
        table.add_row(name, f"{value:.2f}")
    if report["us_per_move"]:
        table.add_row("all four, timed apart", f"{sum(report['us_per_move'].values()):.2f}")
        table.add_row("all four, no clock reads", f"{report['us_per_move_untimed']:.2f}")
    if report["server"] is not None:
        table.add_row("the server's whole move, sockets included",
                      f"{report['server']['us_per_move']:.2f}")
    if report["dispatch"] is not None:
        table.add_row("the message driver alone, per message",
                      f"{report['dispatch']['us_per_message']:.2f}")
    relay = report["relay"]
    if relay is not None:
        table.add_row("relay: one message, sockets included",
                      f"{relay['us_per_message']:.2f}")
    if "allowance_us" in report:
        table.add_row("allowance for 0.5 x relay (2 x relay)", f"{report['allowance_us']:.2f}")
        table.add_row("sans-I/O path / allowance", f"{report['sans_io_share_of_allowance']:.2f}")
    console.print(table)


def render_comparison(report: dict[str, Any], console: Console) -> None:
    table = Table(title=f"µs per move, median (min-max) of {report['rounds']} alternating runs")
    table.add_column("figure")
    table.add_column(report["this"], justify="right")
    table.add_column(report["other"], justify="right")
    table.add_column("other - this", justify="right")
    table.add_column("% of this move", justify="right")
    for row in report["rows"]:
        this, other = row["this"], row["other"]
        table.add_row(row["figure"], f"{this['median']:.2f} ({this['min']:.2f}-{this['max']:.2f})",
                      f"{other['median']:.2f} ({other['min']:.2f}-{other['max']:.2f})",
                      f"{row['difference']:+.2f}", f"{row['percent_of_move']:+.1f}")
    console.print(table)


if __name__ == "__main__":
    raise SystemExit(main())
