"""Benchmark: the CPU one move costs in the server's sans-I/O path, stage by stage,
against the whole per-message cost of the bare FastAPI relay, in the same run.

    python benchmarks/bench_move_path.py [--matches 100] [--moves 200000] [--relay-seconds 10]

The relay half starts `benchmarks/relay_app.py` on one core and `game loadtest
--target relay` on the other, and reads the relay's CPU per relayed message (one
frame in, two out, the socket calls included). The game half runs in this process,
with no sockets: K connect-four matches played interleaved with random legal moves,
each move taken through the stages the server runs for it:

- decode: the JSON text of a `move` frame decoded and validated (`parse_client`);
- core: `handle(match, PlayMove, now)`, the new immutable match record;
- views: `updates`, the next views, each viewer's ops and its view's CRC-32;
- encode: the mover's patch and ack and the opponent's patch, encoded and framed.

The budget's relay ratio (at least half the relay's moves per second, one core
each) allows a move twice the relay's CPU per message, socket calls included. The
sans-I/O stages alone are what this prints against that allowance: if they exceed
it, no change to the transport can meet the target.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import orjson  # noqa: E402
from benchlib import loadtest, server, summary  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from game.core.match import Clocks, Match, PlayMove, Seat, handle, new_match  # noqa: E402
from game.core.views import Step, Views, updates, views_of  # noqa: E402
from game.protocol.codec import decode_json, encode_json_bytes  # noqa: E402
from game.protocol.messages import Move, parse_client  # noqa: E402
from game.protocol.patch import apply_patch, view_hash  # noqa: E402
from game.rules import get_rules  # noqa: E402
from game.server.connection import frame_bytes, unframe  # noqa: E402

STAGES = ("decode", "core", "views", "encode")


class StageTimes:
    """Per-stage CPU seconds, summed over every move played."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.moves = 0


def _games(count: int, seed: int) -> list[list[int]]:
    """Random legal connect-four games, played out by the rules ahead of the run so
    that choosing moves costs the measured loop nothing."""
    rng = random.Random(seed)
    rules = get_rules("connect4")
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

    def __init__(self, number: int, game: list[int], now: int) -> None:
        seats = (Seat(f"p{number}a", "A"), Seat(f"p{number}b", "B"))
        self.match = new_match(f"m{number:06d}", "connect4", Clocks(), now, seats)
        self.views = views_of(self.match)
        self.players = (seats[0].player, seats[1].player)
        first = self.match.version
        self.frames = [orjson.dumps({"type": "move", "match": self.match.id, "move": move,
                                     "version": first + ply, "id": number * 100 + ply}).decode()
                       for ply, move in enumerate(game)]
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
         check: bool = False) -> StageTimes:
    """Play `moves` moves over `matches` interleaved matches; with `timed`, each stage
    is timed on its own (a `perf_counter` read between stages, about 0.05 µs); with
    `check`, every move's patches are verified."""
    clock: Callable[[], float] = time.perf_counter if timed else (lambda: 0.0)
    table = StageTimes()
    now = 1_800_000_000_000
    slots = [_Slot(i, games[i % len(games)], now) for i in range(matches)]
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
                slots[number] = _Slot(started, games[started % len(games)], now)
                started += 1
    return table


def untimed_us_per_move(matches: int, moves: int, games: list[list[int]]) -> float:
    """All stages together, with no clock reads between them (match set-up included,
    about one new match per 20 moves)."""
    start = time.perf_counter()
    table = play(matches, moves, games, timed=False)
    return (time.perf_counter() - start) / table.moves * 1e6


def relay_us_per_message(seconds: int, matches: int, workdir: Path) -> dict[str, Any]:
    with server("relay", 0, 0, workdir) as (url, pid):
        result = summary(loadtest(url, pid, 1, 0, "--target", "relay", "--matches",
                                  str(matches), "--duration", str(seconds), "--warmup", "2"))
    per_cpu = result["moves_per_cpu_second"]
    if not per_cpu:
        raise RuntimeError("the relay's CPU was not measured")
    return {"moves_per_second": result["moves_per_second"], "moves_per_cpu_second": per_cpu,
            "us_per_message": 1e6 / per_cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matches", type=int, default=100)
    parser.add_argument("--moves", type=int, default=200_000)
    parser.add_argument("--relay-seconds", type=int, default=10, help="0: skip the relay")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--check", action="store_true",
                        help="first play the moves once more verifying every patch and hash")
    args = parser.parse_args(argv)
    console = Console(stderr=args.json)
    workdir = Path("/tmp") / f"bench-move-path-{int(time.time())}"
    workdir.mkdir(parents=True, exist_ok=True)
    relay = (relay_us_per_message(args.relay_seconds, args.matches, workdir)
             if args.relay_seconds else None)
    gc.collect()
    games = _games(1000, args.seed)
    if args.check:
        play(args.matches, args.moves, games, timed=False, check=True)
    play(args.matches, min(args.moves, 20_000), games, timed=False)  # warm up
    table = play(args.matches, args.moves, games, timed=True)
    whole = untimed_us_per_move(args.matches, args.moves, games)
    stages = {name: seconds / table.moves * 1e6 for name, seconds in table.seconds.items()}
    report: dict[str, Any] = {"matches": args.matches, "moves": table.moves,
                              "checked": args.check,
                              "us_per_move": {k: round(v, 2) for k, v in stages.items()},
                              "us_per_move_untimed": round(whole, 2), "relay": relay}
    if relay is not None:
        allowance = 2 * relay["us_per_message"]
        report["allowance_us"] = round(allowance, 2)
        report["sans_io_share_of_allowance"] = round(whole / allowance, 3)
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    render(report, console)
    return 0


def render(report: dict[str, Any], console: Console) -> None:
    table = Table(title=f"one move's CPU, K = {report['matches']} interleaved matches "
                        f"({report['moves']:,} moves)")
    table.add_column("stage")
    table.add_column("µs per move", justify="right")
    for name, value in report["us_per_move"].items():
        table.add_row(name, f"{value:.2f}")
    table.add_row("all four, timed apart", f"{sum(report['us_per_move'].values()):.2f}")
    table.add_row("all four, no clock reads", f"{report['us_per_move_untimed']:.2f}")
    relay = report["relay"]
    if relay is not None:
        table.add_row("relay: one message, sockets included",
                      f"{relay['us_per_message']:.2f}")
        table.add_row("allowance for 0.5 x relay (2 x relay)", f"{report['allowance_us']:.2f}")
        table.add_row("sans-I/O path / allowance", f"{report['sans_io_share_of_allowance']:.2f}")
    console.print(table)


if __name__ == "__main__":
    raise SystemExit(main())
