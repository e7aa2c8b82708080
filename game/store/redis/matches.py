"""Match records and their recent patches, committed by one Lua script.

The script compares each match's stored version with the expected one and, only if all
agree, writes every record, appends each version's patches to the match's history
(trimmed to the last N versions) and publishes them on the match's sharded channel:
one atomic step per commit. Several matches go in one script only when they share a
slot (see `keys.rematch_id`).

The `live` index (matches that may be unfinished) cannot be written by the same script
on a Cluster (another slot), so it is kept as a superset: an id is added before its
first commit and removed after its finishing commit; readers skip ids whose record is
finished and prune those long missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from game.store.base import VersionConflict
from game.store.redis.client import Arg, Client, RedisClient, as_bytes, lua
from game.store.redis.errors import CrossSlotCommit

COMMIT = lua("""
-- KEYS: three per match i: record hash, history zset, sharded channel (one hash tag).
-- ARGV: seven per match i: expected version, new version, phase, record JSON,
--       encoded patches ('' for none), history limit, expiry ms (0: keep).
-- Returns {0} when written, or when this very write is already stored (a retried
-- call); else {i, stored version} of the first match whose version differs.
local n = #KEYS / 3
local applied = 0
for i = 1, n do
  local a = 7 * (i - 1)
  local stored = tonumber(redis.call('HGET', KEYS[3 * i - 2], 'v') or '0')
  if stored ~= tonumber(ARGV[a + 1]) then
    if stored == tonumber(ARGV[a + 2])
        and redis.call('HGET', KEYS[3 * i - 2], 'r') == ARGV[a + 4] then
      applied = applied + 1
    else
      return {i, stored}
    end
  end
end
if applied == n then return {0} end
if applied > 0 then return {1, -1} end
for i = 1, n do
  local a = 7 * (i - 1)
  local record, history, channel = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  redis.call('HSET', record, 'v', ARGV[a + 2], 'p', ARGV[a + 3], 'r', ARGV[a + 4])
  if ARGV[a + 5] ~= '' then
    redis.call('ZADD', history, tonumber(ARGV[a + 2]), ARGV[a + 5])
    redis.call('SPUBLISH', channel, ARGV[a + 5])
  end
  redis.call('ZREMRANGEBYRANK', history, 0, -(tonumber(ARGV[a + 6]) + 1))
  local ttl = tonumber(ARGV[a + 7])
  if ttl > 0 then
    redis.call('PEXPIRE', record, ttl)
    redis.call('PEXPIRE', history, ttl)
  else
    redis.call('PERSIST', record)
    redis.call('PERSIST', history)
  end
end
return {0}
""")

FINISHED = "finished"
STALE_MISSING_MS = 60_000
"""A live-index entry whose record is still missing this long after it was added is a
commit that never happened (refused or crashed): pruned."""


@dataclass(frozen=True, slots=True)
class Patches:
    """One version's patches: `payload` is opaque to the store (the committing process
    puts each viewer role's patch in it, computed once); `at` is the commit time."""

    version: int
    at: int
    payload: bytes

    def encode(self) -> bytes:
        return b"%d:%d:" % (self.version, self.at) + self.payload

    @staticmethod
    def decode(raw: bytes) -> Patches:
        version, at, payload = raw.split(b":", 2)
        return Patches(int(version), int(at), payload)


@dataclass(frozen=True, slots=True)
class Write:
    """One match to commit: stored only if its stored version is `expected` (0: new)."""

    match_id: str
    expected: int
    version: int
    phase: str
    record: bytes
    patches: Patches | None = None

    @property
    def finished(self) -> bool:
        return self.phase == FINISHED


@dataclass(frozen=True, slots=True)
class Stored:
    version: int
    phase: str
    record: bytes


class MatchRecords:
    """Records, recent patches and the live index of matches in Redis."""

    def __init__(
        self, redis: RedisClient, now_ms: Callable[[], int], history_limit: int = 64,
        finished_history: int = 4, finished_ttl_ms: int = 7 * 24 * 3600 * 1000,
    ) -> None:
        self.redis = redis
        self.keys = redis.keys
        self.now_ms = now_ms
        self.history_limit = history_limit
        self.finished_history = finished_history
        self.finished_ttl_ms = finished_ttl_ms

    async def commit(self, writes: Sequence[Write]) -> None:
        """Store all `writes` at once or none. Raises VersionConflict, CrossSlotCommit
        (several matches on different Cluster slots), StoreUnavailable."""
        if not writes:
            return
        keys: list[str] = []
        args: list[Arg] = []
        for write in writes:
            keys += [self.keys.record(write.match_id), self.keys.history(write.match_id),
                     self.keys.channel(write.match_id)]
            finished = write.finished
            args += [write.expected, write.version, write.phase, write.record,
                     write.patches.encode() if write.patches is not None else b"",
                     self.finished_history if finished else self.history_limit,
                     self.finished_ttl_ms if finished else 0]
        if not self.redis.same_slot(keys):
            raise CrossSlotCommit(f"matches on several slots: {[w.match_id for w in writes]}")
        created = {w.match_id: self.now_ms() for w in writes if w.expected == 0
                   and not w.finished}
        if created:  # indexed before the record exists: the index is a superset
            await self.redis.call(lambda r: r.zadd(self.keys.live, created, nx=True))
        result = await self.redis.script(COMMIT, keys, args)
        if int(result[0]) != 0:
            failed = writes[int(result[0]) - 1]
            raise VersionConflict(f"{failed.match_id}: stored {int(result[1])}, "
                                  f"expected {failed.expected}")
        done = [w.match_id for w in writes if w.finished]
        if done:
            await self.redis.call(lambda r: r.zrem(self.keys.live, *done))
            ended = dict.fromkeys(done, self.now_ms())
            # nx: a finished match written again (a rematch offer) keeps its end time
            await self.redis.call(lambda r: r.zadd(self.keys.ended, ended, nx=True))

    async def ended_ids(self, before: tuple[int, str] | None, count: int,
                        skip: int) -> tuple[int, list[tuple[int, str]]]:
        """How many index entries were read, and the (ended_at, id) among them older
        than `before`, newest first."""
        top = "+inf" if before is None else before[0]
        raw: list[Any] = list(await self.redis.call(lambda r: r.zrevrangebyscore(
            self.keys.ended, top, "-inf", start=skip, num=count, withscores=True)))
        found = [(int(row[1]), as_bytes(row[0]).decode()) for row in raw]
        return len(found), [entry for entry in found if before is None or entry < before]

    async def forget_ended(self, match_ids: Sequence[str]) -> None:
        """Drops index entries whose record expired (`finished_ttl_ms`)."""
        if match_ids:
            await self.redis.call(lambda r: r.zrem(self.keys.ended, *match_ids))

    async def record(self, match_id: str) -> Stored | None:
        """A match's stored version, phase and JSON record, or None."""
        found = await self.records([match_id])
        return found[0]

    async def records(self, match_ids: Sequence[str]) -> list[Stored | None]:
        """Several records in one pipelined round trip (across slots on a Cluster)."""
        if not match_ids:
            return []

        async def run(client: Client) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for match_id in match_ids:
                pipe.hmget(self.keys.record(match_id), ["v", "p", "r"])
            return list(await pipe.execute())

        rows = await self.redis.call(run)
        return [None if row[0] is None else Stored(int(row[0]), as_bytes(row[1]).decode(),
                                                   as_bytes(row[2])) for row in rows]

    async def patches_since(self, match_id: str, since: int, current: int) -> list[Patches] | None:
        """The patches of versions `since + 1 .. current`, or None when any of them is
        no longer (or not) stored: the client then needs a snapshot."""
        if since == current:
            return []
        if since > current or since < 0:
            return None
        key = self.keys.history(match_id)
        raw = await self.redis.call(
            lambda r: r.zrangebyscore(key, f"({since}", current))
        found = [Patches.decode(as_bytes(item)) for item in raw]
        if [p.version for p in found] != list(range(since + 1, current + 1)):
            return None
        return found

    async def live_ids(self) -> list[str]:
        """Ids in the live index (a superset of the unfinished matches)."""
        raw = await self.redis.call(lambda r: r.zrange(self.keys.live, 0, -1))
        return [as_bytes(item).decode() for item in raw]

    async def live_records(self) -> list[bytes]:
        """JSON records of every unfinished match; prunes stale index entries."""
        ids = await self.live_ids()
        if not ids:
            return []
        rows = await self.records(ids)
        scores = await self.redis.call(lambda r: r.zmscore(self.keys.live, ids))
        now = self.now_ms()
        live: list[bytes] = []
        stale: list[str] = []
        for match_id, row, added in zip(ids, rows, scores, strict=True):
            if row is None:
                if added is not None and now - int(added) > STALE_MISSING_MS:
                    stale.append(match_id)
            elif row.phase == FINISHED:
                stale.append(match_id)
            else:
                live.append(row.record)
        if stale:
            await self.redis.call(lambda r: r.zrem(self.keys.live, *stale))
        return live
