"""Abuse phases for the match runtime (RELIABILITY.md cases 28-30), run by
`bench_abuse.py --round2`.

* stall   - the server process is stopped (SIGSTOP) for 2 s once, across the deadline
            of a short-turn match of the phase's own; a move sent during the stop must
            be accepted after SIGCONT (the stall credited to the clocks), and the
            opponent's deadline moves later by about the stall.
* rematch - pairs of players finish tic-tac-toe matches and rematch back to back for
            the phase: rematches started a second and the time from the agreeing offer
            to the new match's snapshot, the path that now commits the offer, the
            pointer and the new match in one commit.

Case 29 (a store that fails every commit) needs the server's own SQLite file locked
from outside, which a benchmark server shared by all phases does not offer: it is
measured by tests/hostile/test_stalls_and_crashes.py instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]

from tests.support import Client, ServerProcess, connect

Phase = Callable[[float], Awaitable[dict[str, Any]]]
HOST = "127.0.0.5"
TURN_SECONDS = 5  # the shortest turn a room may ask for
STOP_SECONDS = 2.0
TTT_WIN = [0, 3, 1, 4, 2]
REMATCH_PAIRS = 4
SETTINGS: dict[str, Any] = {}


def server_pid(server: ServerProcess) -> int:
    """The server's pid: its process when we started it, else whoever listens on its port."""
    if server.process is not None:
        return server.process.pid
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == server.port and conn.pid:
            return int(conn.pid)
    raise RuntimeError(f"nothing listens on port {server.port}")


async def _pair(server: ServerProcess, stack: contextlib.AsyncExitStack,
                **room: Any) -> tuple[str, dict[int, Client]]:
    a = await stack.enter_async_context(connect(server, local_addr=(HOST, 0)))
    b = await stack.enter_async_context(connect(server, local_addr=(HOST, 0)))
    await a.hello("hub-a")
    await b.hello("hub-b")
    opened = await a.request({"type": "create_room", "game": "tictactoe", **room})
    if opened.get("type") != "room":
        raise RuntimeError(f"no room: {opened}")
    await b.request({"type": "join_room", "code": opened["code"]})
    match: str = opened["match"]
    for client in (a, b):
        await client.until_view(match, lambda v: v["status"] == "active")
    return match, {a.views[match]["you"]: a, b.views[match]["you"]: b}


def stall(server: ServerProcess) -> Phase:
    async def run(seconds: float) -> dict[str, Any]:
        pid = server_pid(server)
        started = time.monotonic()
        async with contextlib.AsyncExitStack() as stack:
            match, seats = await _pair(server, stack, turn_seconds=TURN_SECONDS)
            x, o = seats[0], seats[1]
            await x.request({"type": "move", "match": match, "move": 4,
                             "version": x.versions[match]})
            await o.until_view(match, lambda v: v["moves"] == [4])
            deadline = o.views[match]["deadline"]
            x.inbox.clear()
            # stop from 1.5 s before the deadline to 0.5 s after it; the move is sent
            # 1 s before the deadline, while the server is stopped
            await asyncio.sleep(max(0.0, deadline / 1000 - time.time() - 1.5))
            os.kill(pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(0.5)
                await o.send({"type": "move", "match": match, "move": 0,
                              "version": o.versions[match], "id": "during-stop"})
                await asyncio.sleep(STOP_SECONDS - 0.5)
            finally:
                os.kill(pid, signal.SIGCONT)
            answer = await o.expect(lambda m: m.get("ref") == "during-stop", timeout=30)
            shifts = [op["value"] - deadline for m in x.inbox if m.get("type") == "patch"
                      for op in m["ops"]
                      if op["path"] == "/deadline" and isinstance(op.get("value"), int)]
            survived = answer.get("type") == "ack"
            await asyncio.sleep(max(0.0, started + seconds - time.monotonic()))
        return {"stopped_s": STOP_SECONDS, "move_answer": answer.get("code", answer["type"]),
                "match_survived": survived,
                "deadline_shift_ms": shifts[0] if shifts and survived else None}

    return run


def _snapshot_of_another(match: str) -> Callable[[dict[str, Any]], bool]:
    def check(message: dict[str, Any]) -> bool:
        return bool(message.get("type") == "snapshot" and message["match"] != match)

    return check


def rematch(server: ServerProcess) -> Phase:
    async def run(seconds: float) -> dict[str, Any]:
        end = time.monotonic() + seconds
        waits: list[float] = []
        errors: list[str] = []

        async def pair() -> None:
            async with contextlib.AsyncExitStack() as stack:
                match, seats = await _pair(server, stack)
                while time.monotonic() < end and len(errors) < 10:
                    for turn, move in enumerate(TTT_WIN):
                        mover = seats[turn % 2]
                        await mover.request({"type": "move", "match": match, "move": move,
                                             "version": mover.versions[match]})
                    await seats[1].until_view(match, lambda v: v["status"] == "finished")
                    await seats[1].request({"type": "rematch", "match": match})
                    sent = time.perf_counter()
                    agreed = await seats[0].request({"type": "rematch", "match": match})
                    if agreed.get("type") != "ack":
                        errors.append(str(agreed))
                        return
                    fresh = await seats[0].expect(_snapshot_of_another(match))
                    waits.append(time.perf_counter() - sent)
                    old, match = match, fresh["match"]
                    await seats[1].until_view(match, lambda v: v["status"] == "active")
                    seats = {1 - seat: client for seat, client in seats.items()}
                    for client in seats.values():
                        client.views.pop(old, None)
                        client.inbox.clear()

        results = await asyncio.gather(*(pair() for _ in range(REMATCH_PAIRS)),
                                       return_exceptions=True)
        errors += [repr(r)[:200] for r in results if isinstance(r, BaseException)]
        waits.sort()
        return {"rematches": len(waits), "per_s": round(len(waits) / seconds, 1),
                "offer_to_snapshot_p50_ms": round(waits[len(waits) // 2] * 1000, 2)
                if waits else None,
                "offer_to_snapshot_max_ms": round(waits[-1] * 1000, 2) if waits else None,
                "errors": errors[:3]}

    return run


PHASES: dict[str, Callable[[ServerProcess], Phase]] = {"stall": stall, "rematch": rematch}
