"""Abuse phases for issue 15, findings 4 and 7: guests and rooms by the thousand from
one address, and pollers hammering the live-match list.

* guest-rooms   - guests (hello without a token) from one address, 20 at a time, each
                  opening rooms until refused, then leaving (its rooms stay open), as
                  fast as the server lets them. Reports guests welcomed and refused,
                  rooms opened and refused (by error code), and what the server holds
                  at the end (`healthz` matches).
* list-pollers  - first (at most half the phase) as many live matches as the server
                  allows, from 16 addresses, each a room opened by one guest and joined
                  by another (both stay connected), up to 2000; then 16 pollers
                  GET /api/matches back to back for the rest of the phase. Reports the
                  matches built, answers a second, answer bytes and answer latency.

Run by `python benchmarks/bench_abuse.py --round2 --phases guest-rooms,list-pollers`.
Bounded on any server: at most GUESTS guests and ROOMS rooms, MATCHES matches, and
everything stops and closes `seconds` (plus the answers in flight) after the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import ServerProcess

GUESTS = 1500  # the finding's flood: 1500 guests, 15,000 rooms on the old server
ROOMS = 15_000
ROOMS_PER_GUEST = 10  # the old server's max_live_matches_per_player
FLOOD_HOST = "127.0.40.1"
WORKERS = 20
MATCHES = 2000
BUILD_HOSTS = 16
POLLERS = 16
ANSWER_TIMEOUT = 10.0

SETTINGS: dict[str, Any] = {}
PhaseRun = Callable[[float], Awaitable[dict[str, Any]]]


class Peer:
    """A bare JSON client: pipelined requests, answers matched by `ref`."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._next = 0

    @classmethod
    async def open(cls, server: ServerProcess, host: str) -> Peer:
        ws = await websockets.connect(server.ws, subprotocols=["game.v1.json"],  # type: ignore[list-item]
                                      local_addr=(host, 0), max_size=2**20,
                                      open_timeout=ANSWER_TIMEOUT)
        return cls(ws)

    async def requests(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send all, then the answer to each (in order), skipping anything unasked."""
        refs = []
        for message in messages:
            self._next += 1
            refs.append(self._next)
            await self.ws.send(json.dumps({**message, "id": self._next}))
        answers: dict[int, dict[str, Any]] = {}
        while len(answers) < len(refs):
            raw = await asyncio.wait_for(self.ws.recv(), ANSWER_TIMEOUT)
            message = json.loads(raw)
            if message.get("ref") in refs:
                answers[message["ref"]] = message
        return [answers[ref] for ref in refs]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 2)


def _count(table: dict[str, int], key: str) -> None:
    table[key] = table.get(key, 0) + 1


def _kind(answer: dict[str, Any]) -> str:
    return str(answer.get("code") or answer.get("type"))


# ---- guest-rooms -----------------------------------------------------------------------


@dataclass
class RoomStats:
    guests: int = 0
    hello_refused: dict[str, int] = field(default_factory=dict)
    rooms: int = 0
    room_refused: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)


def guest_rooms(server: ServerProcess) -> PhaseRun:
    async def run(seconds: float) -> dict[str, Any]:
        end = time.monotonic() + seconds
        stats = RoomStats()

        async def guest() -> None:
            peer = await Peer.open(server, FLOOD_HOST)
            try:
                (welcome,) = await peer.requests([{"type": "hello", "name": "flood"}])
                if welcome["type"] != "welcome":
                    _count(stats.hello_refused, _kind(welcome))
                    return
                stats.guests += 1
                wanted = min(ROOMS_PER_GUEST, ROOMS - stats.rooms)
                answers = await peer.requests(
                    [{"type": "create_room", "game": "tictactoe"}] * wanted)
                for answer in answers:
                    if answer["type"] == "room":
                        stats.rooms += 1
                    else:
                        _count(stats.room_refused, _kind(answer))
            finally:
                await peer.close()

        async def worker() -> None:
            while (time.monotonic() < end and stats.guests < GUESTS
                   and stats.rooms < ROOMS):
                try:
                    await guest()
                except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                    _count(stats.errors, type(exc).__name__)
                    await asyncio.sleep(0.05)  # refused at the door: do not spin

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        elapsed = time.monotonic() - started
        async with httpx.AsyncClient(timeout=ANSWER_TIMEOUT) as http:
            held = (await http.get(f"{server.http}/healthz")).json()["matches"]
        return {"guests": stats.guests, "hello_refused": stats.hello_refused,
                "rooms_opened": stats.rooms, "room_refused": stats.room_refused,
                "rooms_per_s": round(stats.rooms / elapsed, 1),
                "server_live_matches_at_end": held, "socket_errors": stats.errors}

    return run


# ---- list-pollers ----------------------------------------------------------------------


async def _build_matches(
    server: ServerProcess, until: float, peers: list[Peer]
) -> dict[str, Any]:
    """Pairs of guests from BUILD_HOSTS addresses: one opens rooms, the other joins
    them. Both stay connected (kept in `peers`), so the matches stay live."""
    made = refused = 0
    codes: dict[str, int] = {}

    async def pair(host: str) -> bool:
        nonlocal made, refused
        a, b = await Peer.open(server, host), await Peer.open(server, host)
        peers.extend((a, b))
        hellos = [(await a.requests([{"type": "hello"}]))[0],
                  (await b.requests([{"type": "hello"}]))[0]]
        if any(h["type"] != "welcome" for h in hellos):
            for h in hellos:
                _count(codes, _kind(h))
            return False
        wanted = min(ROOMS_PER_GUEST, MATCHES - made)
        rooms = await a.requests([{"type": "create_room", "game": "tictactoe"}] * wanted)
        codes_ = [r["code"] for r in rooms if r["type"] == "room"]
        for answer in rooms:
            if answer["type"] != "room":
                _count(codes, _kind(answer))
        joins = await b.requests([{"type": "join_room", "code": c} for c in codes_])
        for answer in joins:
            if answer["type"] == "ack":
                made += 1
            else:
                refused += 1
                _count(codes, _kind(answer))
        return True

    async def host_worker(index: int) -> None:
        host = f"127.0.41.{index + 1}"
        while time.monotonic() < until and made < MATCHES:
            try:
                if not await pair(host):
                    return  # this address may make no more players for now
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                _count(codes, type(exc).__name__)
                return

    started = time.monotonic()
    await asyncio.gather(*(host_worker(i) for i in range(BUILD_HOSTS)))
    return {"matches_built": made, "build_s": round(time.monotonic() - started, 2),
            "build_refusals": codes}


async def _poll(server: ServerProcess, until: float) -> dict[str, Any]:
    sizes: list[int] = []
    times: list[float] = []
    statuses: dict[str, int] = {}

    async def poller() -> None:
        async with httpx.AsyncClient(timeout=ANSWER_TIMEOUT) as http:
            while time.monotonic() < until:
                sent = time.perf_counter()
                response = await http.get(f"{server.http}/api/matches")
                times.append(time.perf_counter() - sent)
                sizes.append(len(response.content))
                _count(statuses, str(response.status_code))

    started = time.monotonic()
    await asyncio.gather(*(poller() for _ in range(POLLERS)))
    elapsed = time.monotonic() - started
    times.sort()
    return {
        "answers": len(sizes), "answers_per_s": round(len(sizes) / elapsed, 1),
        "answer_kb_mean": round(sum(sizes) / max(1, len(sizes)) / 1024, 1),
        "answer_ms_p50": round(times[len(times) // 2] * 1000, 2) if times else None,
        "answer_ms_max": round(times[-1] * 1000, 2) if times else None,
        "statuses": statuses,
    }


def list_pollers(server: ServerProcess) -> PhaseRun:
    async def run(seconds: float) -> dict[str, Any]:
        start = time.monotonic()
        peers: list[Peer] = []
        try:
            built = await _build_matches(server, start + seconds / 2, peers)
            polled = await _poll(server, max(start + seconds, time.monotonic() + 1))
        finally:
            await asyncio.gather(*(peer.close() for peer in peers))
        return {**built, **polled}

    return run


PHASES: dict[str, Callable[[ServerProcess], PhaseRun]] = {
    "guest-rooms": guest_rooms,
    "list-pollers": list_pollers,
}
