"""The lobby of the Redis mode: queues and rooms shared by every process.

A pairing is made atomically in Redis (`game.store.redis.queues`): whichever process
the second player queued on creates the match, and the first player, wherever they
are connected, learns of it from a notice (`ClusterHub.announce`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine
from typing import Any

from game.core.lobby import Pairing, RoomEntry
from game.protocol.errors import ErrorCode, ProtocolError
from game.server.clock import Clock
from game.store.redis.client import RedisClient
from game.store.redis.queues import Queues
from game.store.redis.rooms import Rooms

Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class RedisLobby:
    def __init__(self, redis: RedisClient, clock: Clock, spawn: Spawn,
                 queue_ttl_ms: int = 10_000) -> None:
        self.queues = Queues(redis, ttl_ms=queue_ttl_ms)
        self.rooms = Rooms(redis)
        self.clock = clock
        self.spawn = spawn
        self.queued_here: dict[str, str] = {}
        """Players connected here who wait in a queue: their entries are renewed by
        `refresh` (an entry not renewed lapses, so a dead process's players do too)."""
        self._rng = random.SystemRandom()

    async def enqueue(self, player: str, game: str) -> Pairing | None:
        answer = await self.queues.enqueue(player, game, self.clock.now_ms())
        if answer.already is not None:
            raise ProtocolError(ErrorCode.ALREADY_QUEUED, f"already queued for {answer.already}")
        if answer.paired_with is None:
            self.queued_here[player] = game
            return None
        pair = (answer.paired_with, player)
        first, second = pair if self._rng.random() < 0.5 else pair[::-1]
        return Pairing(game, first, second)

    async def dequeue(self, player: str) -> str | None:
        self.queued_here.pop(player, None)
        return await self.queues.dequeue(player)

    async def first_waiting(self, game: str) -> str | None:
        return None  # who waits is decided in Redis, by the pairing script

    async def open_room(self, game: str, match: str, owner: str, expires_at: int,
                        address: str) -> RoomEntry:
        return await self.rooms.open(game, match, owner, expires_at, self.clock.now_ms(),
                                     address)

    async def room(self, code: str) -> RoomEntry:
        entry = await self.rooms.room(code)
        if entry is None:
            raise ProtocolError(ErrorCode.UNKNOWN_ROOM, "no open room has that code")
        return entry

    async def close_room(self, code: str) -> None:
        await self.rooms.close(code)

    def forget_room(self, code: str) -> None:
        self.spawn(self.close_room(code))

    async def open_rooms_at(self, address: str) -> int:
        return await self.rooms.open_rooms_at(address, self.clock.now_ms())

    async def refresh(self) -> list[str]:
        """Renew the entries of the players waiting here; returns those no longer
        queued (paired by another process, or lapsed), forgotten here."""
        gone = await self.queues.refresh(list(self.queued_here), self.clock.now_ms())
        for player in gone:
            self.queued_here.pop(player, None)
        return gone
