"""Private rooms by code, shared by every process, expiring by TTL.

A room is a hash under `room:<CODE>` that Redis deletes when the room expires; `close`
takes it atomically, so one taker wins. Rooms opened per address are counted in a
sorted set scored by expiry (advisory, for the per-address limit).
"""

from __future__ import annotations

import random
from typing import Any

from game.core.lobby import ROOM_ALPHABET, ROOM_CODE_LENGTH, RoomEntry, normalise_code
from game.store.redis.client import RedisClient, as_bytes, lua

OPEN = lua("""
-- KEYS[1] room hash; ARGV[1] game, ARGV[2] match, ARGV[3] owner, ARGV[4] expires_at,
-- ARGV[5] address, ARGV[6] ttl ms. Returns 1, or 0 when the code is taken (by another
-- match: a retried call for the same match gets 1).
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'match') == ARGV[2] then return 1 end
  return 0
end
redis.call('HSET', KEYS[1], 'game', ARGV[1], 'match', ARGV[2], 'owner', ARGV[3],
           'expires_at', ARGV[4], 'address', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
""")

TAKE = lua("""
-- KEYS[1] room hash. Returns its fields and deletes it (so only one caller gets it).
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return fields
""")


class Rooms:
    def __init__(self, redis: RedisClient, rng: random.Random | None = None) -> None:
        self.redis = redis
        self.keys = redis.keys
        self._rng = rng or random.SystemRandom()

    async def open(
        self, game: str, match: str, owner: str, expires_at: int, now: int, address: str = "",
    ) -> RoomEntry:
        """Open a room under a fresh code; it expires at `expires_at` (shared clock)."""
        ttl = max(1, expires_at - now)
        while True:
            code = "".join(self._rng.choice(ROOM_ALPHABET) for _ in range(ROOM_CODE_LENGTH))
            opened = await self.redis.script(
                OPEN, [self.keys.room(code)], [game, match, owner, expires_at, address, ttl])
            if int(opened):
                break
        if address:
            key = self.keys.rooms_at(address)
            await self.redis.commands(  # the set lives as long as its last room
                ("ZADD", key, expires_at, code), ("PEXPIRE", key, ttl, "NX"),
                ("PEXPIRE", key, ttl, "GT"))
        return RoomEntry(code, game, match, owner, expires_at, address)

    async def room(self, code: str) -> RoomEntry | None:
        """The open room with that code (any case, spaces ignored), or None."""
        code = normalise_code(code)
        fields = await self.redis.command("HGETALL", self.keys.room(code))
        return _entry(code, fields)

    async def close(self, code: str) -> RoomEntry | None:
        """Take the room away (joined, cancelled); None if it was gone already."""
        code = normalise_code(code)
        entry = _entry(code, await self.redis.script(TAKE, [self.keys.room(code)], []))
        if entry is not None and entry.address:
            await self.redis.command("ZREM", self.keys.rooms_at(entry.address), code)
        return entry

    async def open_rooms_at(self, address: str, now: int) -> int:
        """Rooms still open that were opened from `address`."""
        key = self.keys.rooms_at(address)
        count = await self.redis.command("ZCOUNT", key, f"({now}", "+inf")
        return int(count)


def _entry(code: str, fields: dict[Any, Any] | list[Any]) -> RoomEntry | None:
    """A room from its hash (a dict from redis-py, a flat list from a batched reply)."""
    if not fields:
        return None
    if isinstance(fields, list):
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    text = {as_bytes(k).decode(): as_bytes(v).decode() for k, v in fields.items()}
    return RoomEntry(code, text["game"], text["match"], text["owner"], int(text["expires_at"]),
                     text.get("address", ""))
