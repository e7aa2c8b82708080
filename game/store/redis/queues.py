"""Quick-match queues shared by every process, paired atomically by Lua.

All queues share the `{lobby}` tag, so "already queued (for any game)" and the pairing
are one script. Each queued player has an expiry: the process holding their connection
renews it (`refresh`); a process that dies stops renewing, and its players are skipped
(and forgotten) by the next pairing instead of being paired with nobody.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from game.store.redis.client import RedisClient, as_bytes, lua

ENQUEUE = lua("""
-- KEYS[1] the game's queue (list), KEYS[2] the queued hash (player -> game:expires_at),
-- KEYS[3] this request's answer (kept a minute: a retried call gets the same answer)
-- ARGV[1] player, ARGV[2] game, ARGV[3] now, ARGV[4] expires_at, ARGV[5] queue key prefix
-- Returns {'queued', game} (already queued), {'paired', other} or {'waiting', ''}.
local done = redis.call('GET', KEYS[3])
if done then return {string.match(done, '^([^:]*):(.*)$')} end
local function answer(kind, value)
  redis.call('SET', KEYS[3], kind .. ':' .. value, 'PX', 60000)
  return {kind, value}
end
local now = tonumber(ARGV[3])
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current then
  local game, expires = string.match(current, '^(.*):(%d+)$')
  if tonumber(expires) > now then return answer('queued', game) end
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('LREM', ARGV[5] .. game, 0, ARGV[1])
end
while true do
  local other = redis.call('LPOP', KEYS[1])
  if not other then break end
  local entry = redis.call('HGET', KEYS[2], other)
  if entry then
    local game, expires = string.match(entry, '^(.*):(%d+)$')
    if game == ARGV[2] then
      redis.call('HDEL', KEYS[2], other)
      if tonumber(expires) > now then return answer('paired', other) end
    end
  end
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[4])
return answer('waiting', '')
""")

DEQUEUE = lua("""
-- KEYS[1] the queued hash; ARGV[1] player, ARGV[2] queue key prefix
-- Returns the game the player was queued for, or false.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return false end
local game = string.match(current, '^(.*):%d+$')
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('LREM', ARGV[2] .. game, 0, ARGV[1])
return game
""")

REFRESH = lua("""
-- KEYS[1] the queued hash; ARGV[1] now, ARGV[2] new expires_at, ARGV[3..] players
-- Renews the players still queued (and not lapsed); returns those that are not.
local now, gone = tonumber(ARGV[1]), {}
for i = 3, #ARGV do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local game, expires = nil, nil
  if current then game, expires = string.match(current, '^(.*):(%d+)$') end
  if game and tonumber(expires) > now then
    redis.call('HSET', KEYS[1], ARGV[i], game .. ':' .. ARGV[2])
  else
    table.insert(gone, ARGV[i])
  end
end
return gone
""")


@dataclass(frozen=True, slots=True)
class Enqueued:
    """The answer to `enqueue`: `paired_with` the waiting player it was paired with, or
    `already` the game the player was already queued for, or neither (now waiting)."""

    paired_with: str | None = None
    already: str | None = None


class Queues:
    """Quick-match queues in Redis. `ttl_ms`: how long a queued player stays without a
    `refresh` (a few renewal periods)."""

    def __init__(self, redis: RedisClient, ttl_ms: int = 10_000) -> None:
        self.redis = redis
        self.keys = redis.keys
        self.ttl_ms = ttl_ms
        self._prefix = self.keys.queue("x")[:-1]

    async def enqueue(self, player: str, game: str, now: int,
                      request: str | None = None) -> Enqueued:
        """Queue `player` for `game`, or pair them with the first live player waiting.
        Whoever is paired is out of the queue: nobody is paired twice. `request` (random
        by default) names this call: the same request again gets the same answer."""
        request = request or secrets.token_hex(8)
        reply = await self.redis.script(
            ENQUEUE, [self.keys.queue(game), self.keys.queued, self.keys.lobby_request(request)],
            [player, game, now, now + self.ttl_ms, self._prefix])
        kind = as_bytes(reply[0])
        if kind == b"paired":
            return Enqueued(paired_with=as_bytes(reply[1]).decode())
        if kind == b"queued":
            return Enqueued(already=as_bytes(reply[1]).decode())
        return Enqueued()

    async def dequeue(self, player: str) -> str | None:
        """Take `player` out of any queue; the game they were waiting for, if any."""
        game = await self.redis.script(DEQUEUE, [self.keys.queued], [player, self._prefix])
        return None if game is None else as_bytes(game).decode()

    async def refresh(self, players: Sequence[str], now: int) -> list[str]:
        """Renew the queue entries of players connected here; returns the players that
        are no longer queued (paired by another process, or lapsed)."""
        if not players:
            return []
        gone = await self.redis.script(
            REFRESH, [self.keys.queued], [now, now + self.ttl_ms, *players])
        return [as_bytes(item).decode() for item in gone]

    async def queued_game(self, player: str) -> str | None:
        entry = await self.redis.call(lambda r: r.hget(self.keys.queued, player))
        return None if entry is None else as_bytes(entry).decode().rsplit(":", 1)[0]

    async def waiting(self, game: str) -> list[str]:
        """Players in `game`'s queue, oldest first (lapsed ones included until paired)."""
        raw = await self.redis.call(lambda r: r.lrange(self.keys.queue(game), 0, -1))
        return [as_bytes(item).decode() for item in raw]
