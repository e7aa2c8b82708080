"""Deadlines (turn, grace, room expiry) of every match in sorted sets any process reads.

The index holds each match's next wakeup (`Match.next_wakeup()`), spread over tagged
buckets. Firing is made idempotent by the match's version compare, so the index only
has to never *lose* a deadline: each write carries the version it was computed from,
and a write older than the last one applied is ignored (commits' index writes may land
out of order). A stale entry costs one tick that changes nothing.

`claim` hands due entries to one process for `lease_ms` (their score moves to
`now + lease_ms`), so processes do not all fire the same deadline; if the firing process
dies, the entry is due again when the lease ends.
"""

from __future__ import annotations

import asyncio

from game.store.redis.client import RedisClient, as_bytes, lua
from game.store.redis.keys import bucket_of

SET = lua("""
-- KEYS[1] the bucket's zset (member -> due ms), KEYS[2] its hash (member -> version)
-- ARGV[1] member, ARGV[2] due ms ('' to remove), ARGV[3] version, ARGV[4] '1' when final
-- Returns 1 if applied, 0 if a newer version's deadline is recorded (stale write).
local stored = redis.call('HGET', KEYS[2], ARGV[1])
if stored and tonumber(stored) > tonumber(ARGV[3]) then return 0 end
if ARGV[2] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), ARGV[1])
end
if ARGV[4] == '1' then
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
end
return 1
""")

CLAIM = lua("""
-- KEYS[1] the bucket's zset; ARGV[1] now, ARGV[2] lease ms, ARGV[3] limit
-- Returns {member, due, ...} of entries due at `now`, each moved to now + lease.
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[3],
                       'WITHSCORES')
local later = tonumber(ARGV[1]) + tonumber(ARGV[2])
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[1], 'XX', later, due[i])
end
return due
""")


class Deadlines:
    """The shared deadline index. Members are match ids."""

    def __init__(self, redis: RedisClient, buckets: int = 16) -> None:
        self.redis = redis
        self.keys = redis.keys
        self.buckets = buckets

    def _key(self, bucket: int) -> str:
        return self.keys.deadlines(bucket)

    async def set(self, member: str, due: int | None, version: int, final: bool = False) -> bool:
        """Record `member`'s next deadline (None: none) as of `version`; `final` when
        the match can have no later deadline (finished). False when a newer version's
        deadline is already recorded (this write is stale and was ignored)."""
        key = self._key(bucket_of(member, self.buckets))
        applied = await self.redis.script(
            SET, [key, key + ":v"], [member, "" if due is None else due, version,
                                      "1" if final else "0"])
        return bool(applied)

    async def claim(self, now: int, lease_ms: int, limit: int = 100) -> list[tuple[str, int]]:
        """Up to `limit` (member, due) entries due at `now` in each bucket, claimed for
        `lease_ms`: every bucket at once (one round trip's time, not sixteen)."""
        replies = await asyncio.gather(*(
            self.redis.script(CLAIM, [self._key(bucket)], [now, lease_ms, limit])
            for bucket in range(self.buckets)))
        return [(as_bytes(flat[i]).decode(), int(float(flat[i + 1])))
                for flat in replies for i in range(0, len(flat), 2)]

    async def due_at(self, member: str) -> int | None:
        """The recorded deadline of `member` (or its claim's end), if any."""
        key = self._key(bucket_of(member, self.buckets))
        score = await self.redis.call(lambda r: r.zscore(key, member))
        return None if score is None else int(score)
