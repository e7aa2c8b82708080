"""A rolling restart of the Redis mode (issue 16, case 8): each of three processes in
turn gets SIGTERM (it drains: `notice`, 1012) and a new one takes its place, while 20
othello matches play; their players reconnect wherever a process takes them, and no
acknowledged move is lost."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from tests.redis_support import RedisServer
from tests.server.cluster.support import Processes, processes, record_in_redis
from tests.support import Client, ServerProcess, connect, seated

MATCHES = 20
RESTART_EVERY = 12
"""Moves each match makes before the next process is restarted."""


@dataclass
class Pool:
    procs: Processes
    stopping: set[int] = field(default_factory=set)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def pick(self) -> ServerProcess:
        live = [server for index, server in enumerate(self.procs.servers)
                if index not in self.stopping]
        return live[next(self._turn) % len(live)]


@dataclass
class Player:
    client: Client
    token: str
    stack: contextlib.AsyncExitStack


@dataclass
class Driver:
    """Plays one match to its end through both seats, reconnecting a seat whose
    process went away."""

    pool: Pool
    match: str
    seats: dict[int, Player]
    gates: list[asyncio.Event]
    acked: list[tuple[int, int]] = field(default_factory=list)
    """(index among the match's moves, move) of each acknowledged move."""
    reconnects: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    async def reconnect(self, seat: int) -> None:
        old = self.seats[seat]
        await old.stack.aclose()
        while True:
            stack = contextlib.AsyncExitStack()
            try:
                client = await stack.enter_async_context(connect(self.pool.pick()))
                await client.hello("again", token=old.token)
                await client.until_view(self.match, lambda v: True)
            except (ConnectionError, OSError, AssertionError, TimeoutError) as exc:
                await stack.aclose()
                _ = exc  # that process was draining too: take the next one
                continue
            self.seats[seat] = Player(client, old.token, stack)
            self.reconnects += 1
            return

    def view(self) -> dict[str, Any]:
        views = [player.client.views[self.match] for player in self.seats.values()]
        return max(views, key=lambda view: len(view["moves"]))

    async def play(self) -> list[tuple[int, int]]:
        while (view := self.view())["status"] != "finished":
            gate = len(self.acked) // RESTART_EVERY - 1  # after 12 moves, restart 0's
            if 0 <= gate < len(self.gates):
                await self.gates[gate].wait()
            turn = view["turn"]
            player = self.seats[turn]
            try:
                mine = await player.client.until_view(self.match, _to_move(turn), timeout=5)
                move = mine["legal"][0]
                answer = await player.client.request(
                    {"type": "move", "match": self.match, "move": move,
                     "version": player.client.versions[self.match]})
            except (ConnectionError, TimeoutError, websockets.ConnectionClosed):
                await self.reconnect(turn)  # a move sent and not acknowledged may be in
                continue
            if answer["type"] == "ack":
                played = sum(1 for m in mine["moves"] if m is not None)
                self.acked.append((played, move))
                self.progress.set()
            elif answer["code"] != "stale_version":  # stale: the view catches up first
                assert answer["code"] == "unavailable", answer
        return self.acked


def _to_move(seat: int) -> Callable[[dict[str, Any]], bool]:
    return lambda view: bool(view["turn"] == seat and view["you"] == seat)


async def _start_match(pool: Pool, stack: contextlib.AsyncExitStack,
                       gates: list[asyncio.Event]) -> Driver:
    clients = [await stack.enter_async_context(connect(pool.pick(), codec))
               for codec in ("json", "msgpack")]
    match, by_seat = await seated(clients[0], clients[1], "othello")
    seats = {seat: Player(client, str(client.token), contextlib.AsyncExitStack())
             for seat, client in by_seat.items()}
    return Driver(pool, match, seats, gates)


async def _restart(pool: Pool, index: int) -> None:
    pool.stopping.add(index)
    server = pool.procs.servers[index]
    code = await asyncio.to_thread(server.stop, signal.SIGTERM)
    assert code == 0, server.logs()[-2000:]
    pool.procs.servers[index] = await asyncio.to_thread(pool.procs.start_one,
                                                        drain_seconds=5)
    pool.stopping.discard(index)


async def test_a_rolling_restart_loses_no_acknowledged_move(
    tmp_path: Path, redis: RedisServer,
) -> None:
    with processes(tmp_path, redis, 3, drain_seconds=5) as procs:
        pool = Pool(procs)
        gates = [asyncio.Event() for _ in range(len(procs.servers))]
        async with contextlib.AsyncExitStack() as stack:
            drivers = [await _start_match(pool, stack, gates) for _ in range(MATCHES)]
            playing = [asyncio.ensure_future(driver.play()) for driver in drivers]
            for index, gate in enumerate(gates):
                await asyncio.wait_for(_reached(drivers, RESTART_EVERY * (index + 1)), 60)
                restart = asyncio.ensure_future(_restart(pool, index))
                gate.set()  # moves go on while the process drains
                await asyncio.wait_for(restart, 90)
            results = await asyncio.wait_for(asyncio.gather(*playing), 180)
            for driver, acked in zip(drivers, results, strict=True):
                stored = record_in_redis(redis, procs.namespace, driver.match)
                assert stored.result is not None, driver.match
                played = [move for move in stored.moves if move is not None]
                assert all(played[index] == move for index, move in acked), driver.match
                assert len(acked) >= len(played) - driver.reconnects
            assert sum(driver.reconnects for driver in drivers) >= MATCHES  # they did move
            for driver in drivers:
                for player in driver.seats.values():
                    await player.stack.aclose()


async def _reached(drivers: list[Driver], moves: int) -> None:
    for driver in drivers:
        while len(driver.acked) < moves and driver.view()["status"] != "finished":
            driver.progress.clear()
            await driver.progress.wait()
