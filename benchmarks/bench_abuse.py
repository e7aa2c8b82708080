"""Abuse benchmark: a bystander match's move latency and the server's memory while
RELIABILITY.md cases 9 and 19-21 run against a real server (uvicorn, real sockets).

    python benchmarks/bench_abuse.py [--seconds 5] [--idle 3000] [--json out.json]
    python benchmarks/bench_abuse.py --round2 [--server-root ../before]

For each phase it prints the bystander's per-move latency (send -> the opponent has
the patch: p50 / p95 / p99 / max, in ms) and the server's RSS before, during (peak
sampled every 100 ms) and after the phase. The phases:

* quiet      - the bystander alone (the reference latency);
* flood      - 20 clients at 1000 messages/s each, reconnecting whenever closed (1008);
* sloths     - 50 spectators that never read (1 KiB receive buffers) on 4 busy matches;
* oversize   - 400 sockets announcing 16 MiB frames and sending 64 KiB of them (1009);
* idle       - `--idle` idle connections (hello, then silence), from 16 addresses;
* churn      - connect / hello / leave, 50 at a time, for the whole phase;
* half-open  - 200 peers that never read nor answer pings (ping 2 s + timeout 2 s):
               the time until the server has reaped them all.

`--round2` runs instead the attacks of RELIABILITY.md cases 24-30 (issue "hostile peers,
round two"), whose phases live beside this file in `abuse_*.py` (each exposes `PHASES`
and the server `SETTINGS` they need), with the server's defaults otherwise.
`--server-root DIR` starts the server from another checkout (e.g. a worktree of the
commit before a fix), so the same attacks measure the server before and after.
`--phases a,b` runs only those phases.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile.harness import (
    Bystander,
    HandshakeRefused,
    RawPeer,
    ahealthz,
    frame,
    frame_header,
    player_pair,
    server_rss,
)
from tests.support import ServerProcess, start_server

MB = 2**20
SETTINGS: dict[str, Any] = {"ping_interval": 2.0, "ping_timeout": 2.0, "close_timeout": 2.0,
                            "log_level": "warning"}
ROUND_ONE = ("quiet", "flood", "sloths", "oversize", "idle", "churn", "half-open",
             "quiet-after")
ROUND_TWO_MODULES = ("abuse_transport", "abuse_lobby", "abuse_hub", "abuse_bots")
PhaseMaker = Callable[[ServerProcess], Callable[[float], Awaitable[dict[str, Any]]]]


def round_two() -> tuple[dict[str, PhaseMaker], dict[str, Any]]:
    """The phases of `abuse_*.py` beside this file, and the server settings they need."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    phases: dict[str, PhaseMaker] = {}
    settings: dict[str, Any] = {"log_level": "warning"}
    for name in ROUND_TWO_MODULES:
        module = importlib.import_module(name)
        phases.update(module.PHASES)
        settings.update(getattr(module, "SETTINGS", {}))
    return phases, settings


class Sampler:
    """Peak server RSS while a phase runs."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.peak = server_rss(server)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, server_rss(self.server))
            await asyncio.sleep(0.1)

    def __enter__(self) -> Sampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def latency(samples: list[float]) -> dict[str, float]:
    data = sorted(samples)
    if not data:
        return {"moves": 0}

    def pct(p: float) -> float:
        return round(data[min(len(data) - 1, int(p * len(data)))] * 1000, 2)

    return {"moves": len(data), "p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99),
            "max": round(data[-1] * 1000, 2)}


def _child(name: str, port: int, seconds: float, idle_count: int, out: Any) -> None:
    """Runs one phase's abuse in its own process, so the bystander's client loop is not
    starved by the abusers' (the latency measured is the server's, not ours)."""
    server = ServerProcess(port, {}, Path("/dev/null"))
    makers: dict[str, Callable[[], Callable[[float], Awaitable[dict[str, Any]]]]] = {
        "quiet": lambda: quiet, "quiet-after": lambda: quiet,
        "flood": lambda: flood(server), "sloths": lambda: sloths(server),
        "oversize": lambda: oversize(server), "idle": lambda: idle(server, idle_count),
        "churn": lambda: churn(server), "half-open": lambda: half_open(server),
    }
    if name not in makers:
        maker = round_two()[0][name]
        makers[name] = lambda: maker(server)

    async def run() -> dict[str, Any]:
        return await asyncio.wait_for(makers[name]()(seconds), seconds + 120)

    try:
        out.put(asyncio.run(run()))
    except BaseException as exc:
        out.put({"error": repr(exc)})


async def phase(
    name: str, server: ServerProcess, bystander: Bystander, seconds: float, idle_count: int
) -> dict[str, Any]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    before = server_rss(server)
    first = len(bystander.latencies)
    with Sampler(server) as sampler:
        child = context.Process(target=_child, args=(name, server.port, seconds, idle_count,
                                                     out))
        child.start()
        loop = asyncio.get_running_loop()
        extra = await loop.run_in_executor(None, out.get)
        await loop.run_in_executor(None, child.join)
    during = latency(bystander.latencies[first:])
    await settle(server)
    after = server_rss(server)
    row = {"phase": name, "latency_ms": during, "rss_before_mb": round(before / MB, 1),
           "rss_peak_mb": round(sampler.peak / MB, 1), "rss_after_mb": round(after / MB, 1),
           **extra}
    print(json.dumps(row), flush=True)
    return row


async def settle(server: ServerProcess, deadline: float = 30) -> None:
    """Wait until only the bystander's two connections are left."""
    end = time.monotonic() + deadline
    while (await ahealthz(server))["connections"] > 2 and time.monotonic() < end:
        await asyncio.sleep(0.1)


async def quiet(seconds: float) -> dict[str, Any]:
    await asyncio.sleep(seconds)
    return {}


def flood(server: ServerProcess) -> Callable[[float], Awaitable[dict[str, Any]]]:
    async def run(seconds: float) -> dict[str, Any]:
        end = time.monotonic() + seconds
        counts: dict[str, int] = {"sent": 0, "connections": 0}
        burst = b"".join(frame(1, json.dumps({"type": "unqueue", "id": i}).encode())
                         for i in range(10))

        async def flooder(index: int) -> None:
            host = f"127.0.1.{index + 1}"
            while time.monotonic() < end:
                peer = await RawPeer.open(server, host=host)
                counts["connections"] += 1
                try:
                    await peer.send_json({"type": "hello", "name": f"flood{index}"})
                    while time.monotonic() < end:
                        await peer.send(burst)  # ten every 10 ms: 1000 messages a second
                        counts["sent"] += 10
                        await asyncio.sleep(0.01)
                except OSError:
                    pass
                code = await peer.close_code()
                counts[f"closed_{code}"] = counts.get(f"closed_{code}", 0) + 1
                peer.close()

        await asyncio.gather(*(flooder(i) for i in range(20)))
        return counts

    return run


def sloths(server: ServerProcess) -> Callable[[float], Awaitable[dict[str, Any]]]:
    async def run(seconds: float) -> dict[str, Any]:
        end = time.monotonic() + seconds
        peers = []
        for index in range(50):
            peer = await RawPeer.open(server, rcvbuf=1024, host=f"127.0.2.{index % 8 + 1}")
            await peer.send_json({"type": "hello", "name": f"sloth{index}"})
            peers.append(peer)
        moves = 0

        async def busy(seed: int) -> None:
            nonlocal moves
            rng = random.Random(seed)
            while time.monotonic() < end:
                async with player_pair(server, "connect4", host="127.0.3.1") as (match, seats):
                    for peer in peers:
                        with contextlib.suppress(OSError):
                            await peer.send_json({"type": "watch", "match": match})
                    while seats[0].views[match]["status"] == "active":
                        view = seats[0].views[match]
                        mover = seats[view["turn"]]
                        await mover.request({"type": "move", "match": match,
                                             "move": rng.choice(mover.views[match]["legal"]),
                                             "version": mover.versions[match]})
                        moves += 1

        await asyncio.gather(*(busy(i) for i in range(4)))
        left = (await ahealthz(server))["connections"]
        for peer in peers:
            peer.close()
        return {"busy_moves": moves, "connections_left_at_end": left}

    return run


def oversize(server: ServerProcess) -> Callable[[float], Awaitable[dict[str, Any]]]:
    async def run(seconds: float) -> dict[str, Any]:
        codes: dict[str, int] = {}
        for round_ in range(20):
            peers = await asyncio.gather(*(RawPeer.open(server, host=f"127.0.4.{round_ + 1}")
                                           for _ in range(20)))
            chunk = frame_header(2, 16 * MB) + b"\0" * 65536
            await asyncio.gather(*(p.send(chunk) for p in peers))
            for code in await asyncio.gather(*(p.close_code() for p in peers)):
                codes[str(code)] = codes.get(str(code), 0) + 1
            for peer in peers:
                peer.close()
        return {"close_codes": codes}

    return run


async def open_idle(server: ServerProcess, count: int, prefix: str) -> list[RawPeer]:
    peers: list[RawPeer] = []
    for start in range(0, count, 200):
        batch = await asyncio.gather(
            *(RawPeer.open(server, host=f"{prefix}.{(start + i) % 16 + 1}")
              for i in range(min(200, count - start))), return_exceptions=True)
        ok = [p for p in batch if isinstance(p, RawPeer)]
        await asyncio.gather(*(p.send_json({"type": "hello", "name": "idle"}) for p in ok))
        peers.extend(ok)
    return peers


def idle(server: ServerProcess, count: int) -> Callable[[float], Awaitable[dict[str, Any]]]:
    async def run(seconds: float) -> dict[str, Any]:
        peers = await open_idle(server, count, "127.0.5")
        await asyncio.sleep(seconds)  # the crowd idles while the bystander plays
        connected = (await ahealthz(server))["connections"] - 2
        for peer in peers:
            peer.close()
        return {"idle_connections": connected}

    return run


def churn(server: ServerProcess) -> Callable[[float], Awaitable[dict[str, Any]]]:
    async def run(seconds: float) -> dict[str, Any]:
        end = time.monotonic() + seconds
        cycles = refused = 0
        while time.monotonic() < end:
            batch = await asyncio.gather(*(RawPeer.open(server, host="127.0.6.1")
                                           for _ in range(50)), return_exceptions=True)
            ok = [p for p in batch if isinstance(p, RawPeer)]
            refused += sum(isinstance(p, HandshakeRefused) for p in batch)
            await asyncio.gather(*(p.send_json({"type": "hello"}) for p in ok))
            for peer in ok:
                peer.close()
            cycles += len(ok)
        return {"churned": cycles, "refused_by_cap": refused}

    return run


def half_open(server: ServerProcess) -> Callable[[float], Awaitable[dict[str, Any]]]:
    async def run(seconds: float) -> dict[str, Any]:
        peers = []
        for index in range(200):
            peer = await RawPeer.open(server, rcvbuf=1024, host=f"127.0.7.{index % 4 + 1}")
            await peer.send_json({"type": "hello", "name": "ghost"})
            peers.append(peer)
        start = time.monotonic()
        while (await ahealthz(server))["connections"] > 2:
            await asyncio.sleep(0.05)
        reaped = time.monotonic() - start
        for peer in peers:
            peer.close()
        return {"half_open": len(peers), "reaped_after_s": round(reaped, 2),
                "ping_interval_plus_timeout_s": SETTINGS["ping_interval"]
                + SETTINGS["ping_timeout"]}

    return run


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.server_root is not None:
        os.environ["GAME_TEST_SERVER_ROOT"] = str(args.server_root.resolve())
    settings, names = SETTINGS, list(ROUND_ONE)
    if args.round2:
        phases, settings = round_two()
        names = args.phases.split(",") if args.phases else ["quiet", *phases]
        return [await isolated(name, settings, args) for name in names]
    if args.phases:
        names = args.phases.split(",")
    server = start_server(Path(tempfile.mkdtemp()), **settings)
    rows = []
    try:
        async with Bystander(server, pace=0.005, min_moves_after=2) as bystander:
            for name in names:
                rows.append(await phase(name, server, bystander, args.seconds, args.idle))
        print(f"bystander: {bystander.moves} moves in {bystander.matches} matches, "
              "no patch missed, no error", flush=True)
    finally:
        server.stop()
    return rows


async def isolated(name: str, settings: dict[str, Any], args: argparse.Namespace
                   ) -> dict[str, Any]:
    """One phase on a server of its own, so what an attack leaves behind on an unfixed
    server (memory, sockets, a stuck loop) is not billed to the next; a bystander that
    fails (disconnected, refused, stalled past its deadline) is reported, not raised."""
    server = start_server(Path(tempfile.mkdtemp()), **settings)
    bystander = Bystander(server, pace=0.005, min_moves_after=2)
    row: dict[str, Any] = {"phase": name, "latency_ms": {}, "rss_before_mb": "-",
                           "rss_peak_mb": "-", "rss_after_mb": "-"}
    try:
        async with bystander:
            row = await phase(name, server, bystander, args.seconds, args.idle)
    except Exception as exc:  # the unfixed server may well break the bystander
        row["latency_ms"] = latency(bystander.latencies)
        row["bystander_failed"] = repr(exc)[:200]
        print(json.dumps(row), flush=True)
    finally:
        with contextlib.suppress(Exception):
            server.stop()
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| phase | moves | p50 ms | p95 ms | p99 ms | max ms | RSS before / peak / after "
             "(MB) | notes |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lat = row["latency_ms"]
        notes = {k: v for k, v in row.items() if k not in (
            "phase", "latency_ms", "rss_before_mb", "rss_peak_mb", "rss_after_mb")}
        lines.append(
            f"| {row['phase']} | {lat.get('moves', 0)} | {lat.get('p50', '-')} | "
            f"{lat.get('p95', '-')} | {lat.get('p99', '-')} | {lat.get('max', '-')} | "
            f"{row['rss_before_mb']} / {row['rss_peak_mb']} / {row['rss_after_mb']} | "
            f"{json.dumps(notes) if notes else ''} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    parser.add_argument("--idle", type=int, default=3000, help="idle connections")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--round2", action="store_true",
                        help="the attacks of RELIABILITY.md 24-30 (abuse_*.py)")
    parser.add_argument("--server-root", type=Path,
                        help="start the server from this checkout instead of this one")
    parser.add_argument("--phases", help="comma-separated phases to run")
    arguments = parser.parse_args()
    result = asyncio.run(main(arguments))
    print(markdown(result))
    if arguments.json:
        arguments.json.write_text(json.dumps(result, indent=2))
