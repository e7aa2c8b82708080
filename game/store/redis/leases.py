"""Watcher counts summed over processes, and the bot turn lease.

Watchers: each process writes its own count of a match's spectators with an expiry
(renewed while it has any); the total is the sum of the unexpired counts, so a dead
process's spectators drop out of the count by themselves.

Bot lease: exactly one process thinks for a bot's turn. The lease is a key per (match,
turn version) set with NX and a TTL to a random token; only the token's holder can
extend or release it (compare-and-delete by Lua), and once it lapses any process takes
over.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from game.store.redis.client import RedisClient, lua

WATCHERS = lua("""
-- KEYS[1] the match's watcher hash (pid -> count:expires_at)
-- ARGV[1] pid, ARGV[2] count (0: remove), ARGV[3] now, ARGV[4] expires_at ('' : read only)
-- Returns the sum of the unexpired counts; drops the expired ones.
local now = tonumber(ARGV[3])
if ARGV[4] ~= '' then
  if tonumber(ARGV[2]) > 0 then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[4])
  else
    redis.call('HDEL', KEYS[1], ARGV[1])
  end
end
local total, latest = 0, 0
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local count, expires = string.match(flat[i + 1], '^(%d+):(%d+)$')
  if tonumber(expires) > now then
    total = total + tonumber(count)
    if tonumber(expires) > latest then latest = tonumber(expires) end
  elseif ARGV[4] ~= '' then
    redis.call('HDEL', KEYS[1], flat[i])
  end
end
if latest > 0 and ARGV[4] ~= '' then
  redis.call('PEXPIRE', KEYS[1], latest - now + 1000)
end
return total
""")

ACQUIRE = lua("""
-- KEYS[1] the lease; ARGV[1] token, ARGV[2] ttl ms. Returns 1 if taken (or already
-- ours: a retried call), 0 if another token holds it.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return 1 end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
""")

EXTEND = lua("""
-- KEYS[1] the lease; ARGV[1] token, ARGV[2] ttl ms. Returns 1 if still ours (extended).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
""")

RELEASE = lua("""
-- KEYS[1] the lease; ARGV[1] token. Returns 1 if it was ours (deleted).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
""")


class Watchers:
    """Per-process spectator counts of matches, summed over live processes."""

    def __init__(self, redis: RedisClient, pid: str, ttl_ms: int = 10_000) -> None:
        self.redis = redis
        self.pid = pid
        self.ttl_ms = ttl_ms

    async def report(self, match_id: str, count: int, now: int) -> int:
        """Set (or renew) this process's count for the match; returns the total."""
        total = await self.redis.script(WATCHERS, [self.redis.keys.watchers(match_id)],
                                        [self.pid, count, now, now + self.ttl_ms])
        return int(total)

    async def total(self, match_id: str, now: int) -> int:
        """The sum of the unexpired counts of every process."""
        total = await self.redis.script(WATCHERS, [self.redis.keys.watchers(match_id)],
                                        [self.pid, 0, now, ""])
        return int(total)


@dataclass(frozen=True, slots=True)
class BotLease:
    match_id: str
    turn_version: int
    token: str


class BotLeases:
    """Who thinks for a bot's turn. Keys expire by Redis' own clock (PX)."""

    def __init__(self, redis: RedisClient, ttl_ms: int = 10_000) -> None:
        self.redis = redis
        self.ttl_ms = ttl_ms

    async def acquire(self, match_id: str, turn_version: int,
                      ttl_ms: int | None = None) -> BotLease | None:
        """Take the lease of the bot's turn at `turn_version`; None if another process
        holds it."""
        token = secrets.token_hex(8)
        key = self.redis.keys.bot(match_id, turn_version)
        ttl = ttl_ms or self.ttl_ms
        taken = await self.redis.script(ACQUIRE, [key], [token, ttl])
        return BotLease(match_id, turn_version, token) if int(taken) else None

    async def extend(self, lease: BotLease, ttl_ms: int | None = None) -> bool:
        """Keep thinking: False when the lease was lost (lapsed and taken over)."""
        done = await self.redis.script(
            EXTEND, [self.redis.keys.bot(lease.match_id, lease.turn_version)],
            [lease.token, ttl_ms or self.ttl_ms])
        return bool(done)

    async def release(self, lease: BotLease) -> bool:
        """Done (the move is committed or given up); False if it was not ours any more."""
        done = await self.redis.script(
            RELEASE, [self.redis.keys.bot(lease.match_id, lease.turn_version)], [lease.token])
        return bool(done)
