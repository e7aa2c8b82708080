"""Presence leases: a seat is online while some live process holds it.

A process registers itself with an expiry and renews it every few seconds (one write
per bucket, whatever the number of its connections); it *holds* each seat it has a
connection for. A process that dies stops renewing: once its expiry passes, `lapsed`
reaps it, and every seat it alone held becomes *offline-pending*. `lapsed` hands
offline-pending seats out (to one caller per `retry_ms`) until someone reports them
with `settled` after submitting the offline presence; a seat held again meanwhile
leaves that list at once. Seats are spread over tagged buckets (by match id).

Keys of bucket b, all tagged `{presence:b}`: `:procs` zset process -> expires,
`:proc:<pid>` set of seats, `:seat:<seat>` set of processes, `:offline` zset seat -> due.
A seat is written `<match id>/<seat index>`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from game.store.redis.client import RedisClient, as_bytes, lua
from game.store.redis.keys import bucket_of

_REAP = """
local function reap(base, pid, now)
  local seats = redis.call('SMEMBERS', base .. ':proc:' .. pid)
  for _, seat in ipairs(seats) do
    redis.call('SREM', base .. ':seat:' .. seat, pid)
    if redis.call('SCARD', base .. ':seat:' .. seat) == 0 then
      redis.call('ZADD', base .. ':offline', now, seat)
    end
  end
  redis.call('DEL', base .. ':proc:' .. pid)
  redis.call('ZREM', base .. ':procs', pid)
end
"""

RENEW = lua(_REAP + """
-- KEYS[1] the bucket prefix; ARGV[1] pid, ARGV[2] now, ARGV[3] expires_at
-- Returns 1 when renewed, 0 when the process had lapsed (its holds were dropped:
-- the caller holds its seats again).
local base, pid, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local score = redis.call('ZSCORE', base .. ':procs', pid)
local alive = 1
if not score or tonumber(score) <= now then
  reap(base, pid, now)
  alive = 0
end
redis.call('ZADD', base .. ':procs', tonumber(ARGV[3]), pid)
return alive
""")

HOLD = lua("""
-- KEYS[1] the bucket prefix; ARGV[1] pid, ARGV[2] seat, ARGV[3] expires_at
-- The process holds the seat (registered, if it was not, until expires_at); the seat
-- is not offline-pending any more.
local base = KEYS[1]
redis.call('ZADD', base .. ':procs', 'NX', tonumber(ARGV[3]), ARGV[1])
redis.call('SADD', base .. ':proc:' .. ARGV[1], ARGV[2])
redis.call('SADD', base .. ':seat:' .. ARGV[2], ARGV[1])
redis.call('ZREM', base .. ':offline', ARGV[2])
return 1
""")

RELEASE = lua("""
-- KEYS[1] the bucket prefix; ARGV[1] pid, ARGV[2] seat
-- Returns 1 when no process holds the seat any more (the caller reports it offline).
local base = KEYS[1]
redis.call('SREM', base .. ':proc:' .. ARGV[1], ARGV[2])
redis.call('SREM', base .. ':seat:' .. ARGV[2], ARGV[1])
if redis.call('SCARD', base .. ':seat:' .. ARGV[2]) == 0 then return 1 end
return 0
""")

LAPSED = lua(_REAP + """
-- KEYS[1] the bucket prefix; ARGV[1] now, ARGV[2] retry ms, ARGV[3] limit
-- Reaps lapsed processes, then returns offline-pending seats due now, each handed out
-- again only after retry ms (if the caller dies before `settled`).
local base, now = KEYS[1], tonumber(ARGV[1])
for _, pid in ipairs(redis.call('ZRANGE', base .. ':procs', '-inf', now, 'BYSCORE')) do
  reap(base, pid, now)
end
local due = redis.call('ZRANGE', base .. ':offline', '-inf', now, 'BYSCORE', 'LIMIT', 0,
                       ARGV[3])
for _, seat in ipairs(due) do
  redis.call('ZADD', base .. ':offline', now + tonumber(ARGV[2]), seat)
end
return due
""")

SETTLED = lua("""
-- KEYS[1] the bucket prefix; ARGV[1] seat. Done with an offline-pending seat.
redis.call('ZREM', KEYS[1] .. ':offline', ARGV[1])
return 1
""")


def seat_name(match_id: str, seat: int) -> str:
    return f"{match_id}/{seat}"


def parse_seat(name: str) -> tuple[str, int]:
    match_id, seat = name.rsplit("/", 1)
    return match_id, int(seat)


class Presence:
    """Presence leases of one process, `pid`. Call `renew` every `ttl_ms / 3` or so."""

    def __init__(self, redis: RedisClient, pid: str, ttl_ms: int = 5_000,
                 buckets: int = 16) -> None:
        self.redis = redis
        self.keys = redis.keys
        self.pid = pid
        self.ttl_ms = ttl_ms
        self.buckets = buckets

    def _base(self, match_id: str) -> str:
        return self.keys.presence(bucket_of(match_id, self.buckets))

    async def renew(self, now: int) -> bool:
        """Extend this process's lease in every bucket. False when it had lapsed in
        some bucket: its holds there were dropped, so hold every seat again."""
        renewed = await asyncio.gather(*(
            self.redis.script(RENEW, [self.keys.presence(bucket)],
                              [self.pid, now, now + self.ttl_ms])
            for bucket in range(self.buckets)))
        return all(renewed)

    async def hold(self, match_id: str, seat: int, now: int) -> None:
        """This process has a connection for the seat: it is online."""
        await self.redis.script(HOLD, [self._base(match_id)],
                                [self.pid, seat_name(match_id, seat), now + self.ttl_ms])

    async def release(self, match_id: str, seat: int) -> bool:
        """This process has no connection for the seat any more; True when no process
        holds it now (submit the offline presence, then call `settled`)."""
        gone = await self.redis.script(RELEASE, [self._base(match_id)],
                                       [self.pid, seat_name(match_id, seat)])
        return bool(gone)

    async def lapsed(self, now: int, retry_ms: int = 5_000,
                     limit: int = 100) -> list[tuple[str, int]]:
        """(match id, seat) of seats whose every holder lapsed: submit their offline
        presence, then call `settled`. Each is handed to one caller per `retry_ms`."""
        found: list[tuple[str, int]] = []
        for bucket in range(self.buckets):
            if len(found) >= limit:
                break
            due = await self.redis.script(LAPSED, [self.keys.presence(bucket)],
                                          [now, retry_ms, limit - len(found)])
            found += [parse_seat(as_bytes(item).decode()) for item in due]
        return found

    async def settled(self, seats: Iterable[tuple[str, int]]) -> None:
        """The offline presence of these lapsed seats was submitted."""
        for match_id, seat in seats:
            await self.redis.script(SETTLED, [self._base(match_id)],
                                    [seat_name(match_id, seat)])

    async def held(self, match_id: str, seat: int) -> bool:
        """Whether some process holds the seat (it may have lapsed but not been reaped)."""
        key = f"{self._base(match_id)}:seat:{seat_name(match_id, seat)}"
        count = await self.redis.call(lambda r: r.scard(key))
        return int(count) > 0
