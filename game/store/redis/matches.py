"""Match records and their recent patches, committed by one Lua script.

The script compares each match's stored version with the expected one and, only if all
agree, writes every record, appends each version's patches to the match's history
(trimmed to the last N versions) and publishes them, with the new record, on the
match's sharded channel:
one atomic step per commit. Several matches go in one script only when they share a
slot (see `keys.rematch_id`).

The `live` index (matches that may be unfinished) cannot be written by the same script
on a Cluster (another slot), so it is kept as a superset: an id is added before its
first commit and removed after its finishing commit; readers skip ids whose record is
finished and prune those long missing.

A finishing write also gets its end time in the record (`e`, kept by later rewrites)
and, with a retention, the record expires at end time plus retention. After the script
the match is listed in the history's indexes (`history.py`) and only then leaves the
`live` index, so a crash in between is repaired by the next `live_records`. A write
that finishes a rated match (`Write.rated`) puts its id in the `rating_due` index
*before* the script, so no finished rated match can be missing from it (`ratings.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from game.store.base import VersionConflict
from game.store.redis.client import Arg, Client, RedisClient, as_bytes, lua
from game.store.redis.errors import CrossSlotCommit
from game.store.redis.history import Ended, index_ended

COMMIT = lua("""
-- KEYS: three per match i: record hash, history zset, followers set (one hash tag).
-- The history keeps each version's encoded patches; each following process but the
-- committing one gets them on its own channel followed by a NUL and the new record
-- (so a follower needs no read).
-- ARGV: ten per match i: expected version, new version, phase, record JSON,
--       encoded patches ('' for none), history limit, expiry ms after the end (0:
--       keep), now (epoch ms: the end time of a finishing write), the channels'
--       prefix (a follower's id completes it), the committing process's id.
-- Returns {0, e_1 .. e_n} when written, or when this very write is already stored (a
-- retried call), e_i the end time of match i (0 when not finished); else
-- {i, stored version} of the first match whose version differs.
local n = #KEYS / 3
local applied = 0
for i = 1, n do
  local a = 10 * (i - 1)
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
if applied > 0 and applied < n then return {1, -1} end
local reply = {0}
for i = 1, n do
  local a = 10 * (i - 1)
  local record, history, followers = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  if applied == 0 then
    redis.call('HSET', record, 'v', ARGV[a + 2], 'p', ARGV[a + 3], 'r', ARGV[a + 4])
    if ARGV[a + 5] ~= '' then
      redis.call('ZADD', history, tonumber(ARGV[a + 2]), ARGV[a + 5])
      local message = nil
      for _, follower in ipairs(redis.call('SMEMBERS', followers)) do
        if follower ~= ARGV[a + 10] then
          message = message or (ARGV[a + 5] .. '\0' .. ARGV[a + 4])
          redis.call('SPUBLISH', ARGV[a + 9] .. follower, message)
        end
      end
    end
    redis.call('ZREMRANGEBYRANK', history, 0, -(tonumber(ARGV[a + 6]) + 1))
  end
  local ended = 0
  if ARGV[a + 3] == 'finished' then
    redis.call('HSETNX', record, 'e', ARGV[a + 8])
    ended = tonumber(redis.call('HGET', record, 'e'))
  end
  reply[i + 1] = ended
  local ttl = tonumber(ARGV[a + 7])
  if applied > 0 then
    -- a retried call: already stored with its expiry
  elseif ttl > 0 then
    local left = ttl
    if ended > 0 then left = math.max(1, ended + ttl - tonumber(ARGV[a + 8])) end
    redis.call('PEXPIRE', record, left)
    redis.call('PEXPIRE', history, left)
    redis.call('PEXPIRE', followers, left)
  else
    redis.call('PERSIST', record)
    redis.call('PERSIST', history)
    redis.call('PERSIST', followers)
  end
end
return reply
""")

FOLLOW = lua("""
-- KEYS[1] a match record, KEYS[2] its followers; ARGV[1] a process id, ARGV[2] ms to
-- keep the set when the match is not stored yet (its first commit keeps it for good).
redis.call('SADD', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PERSIST', KEYS[2])
else
  if ttl < 0 then ttl = tonumber(ARGV[2]) end
  if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
end
return 1
""")

MARK_RATED = lua("""
-- KEYS[1] a match record: marked as rated unless it expired meanwhile (HSET would
-- make a record of the marker alone, with no expiry).
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'rated', 1) end
return 1
""")

FINISHED = "finished"
UNSTORED_FOLLOW_MS = 3_600_000
"""How long a match that was never stored keeps its followers (a match being created:
its first commit keeps them for good; or a watcher's typo)."""
STALE_MISSING_MS = 60_000
"""A live-index entry whose record is still missing this long after it was added is a
commit that never happened (refused or crashed): pruned."""


@dataclass(frozen=True, slots=True)
class Patches:
    """One version's patches: `payload` is opaque to the store (the committing process
    puts each viewer role's patch in it, computed once; it must hold no NUL byte); `at`
    is the commit time. `record` is the match's record at `version`: carried by a
    published commit (`MatchFeed`), not by the stored history (`patches_since`)."""

    version: int
    at: int
    payload: bytes
    record: bytes | None = None

    def encode(self) -> bytes:
        """What the history stores (the record, if any, is not part of it)."""
        return b"%d:%d:" % (self.version, self.at) + self.payload

    @staticmethod
    def decode(raw: bytes) -> Patches:
        """A history entry, or a published commit (with its record after a NUL)."""
        version, at, rest = raw.split(b":", 2)
        payload, nul, record = rest.partition(b"\0")
        return Patches(int(version), int(at), payload, record if nul else None)


@dataclass(frozen=True, slots=True)
class Write:
    """One match to commit: stored only if its stored version is `expected` (0: new).
    `game` and `players` list a finished match in the history's indexes (the global
    one only when empty); `rated`: a finishing write whose match counts for ratings
    (`rated_scores`), so its id goes to the `rating_due` index first."""

    match_id: str
    expected: int
    version: int
    phase: str
    record: bytes
    patches: Patches | None = None
    game: str = ""
    players: tuple[str, ...] = ()
    rated: bool = False

    @property
    def finished(self) -> bool:
        return self.phase == FINISHED


@dataclass(frozen=True, slots=True)
class Stored:
    version: int
    phase: str
    record: bytes
    ended_at: int | None = None
    """When the match finished (epoch ms), once it has."""
    rated: bool = False
    """Its rating is applied (`ratings.py`): never applied again."""


class MatchRecords:
    """Records, recent patches and the live index of matches in Redis. A finished
    record expires `finished_ttl_ms` after its end (0: kept)."""

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

    async def commit(self, writes: Sequence[Write], committer: str = "") -> None:
        """Store all `writes` at once or none, and send their patches to every process
        following the match but `committer`. Raises VersionConflict, CrossSlotCommit
        (several matches on different Cluster slots), StoreUnavailable."""
        if not writes:
            return
        now = self.now_ms()
        keys: list[str] = []
        args: list[Arg] = []
        for write in writes:
            keys += [self.keys.record(write.match_id), self.keys.history(write.match_id),
                     self.keys.followers(write.match_id)]
            finished = write.finished
            args += [write.expected, write.version, write.phase, write.record,
                     write.patches.encode() if write.patches is not None else b"",
                     self.finished_history if finished else self.history_limit,
                     self.finished_ttl_ms if finished else 0, now,
                     self.keys.channel_prefix(write.match_id), committer]
        if not self.redis.same_slot(keys):
            raise CrossSlotCommit(f"matches on several slots: {[w.match_id for w in writes]}")
        await self._index_first(writes, now)
        result = await self.redis.script(COMMIT, keys, args)
        if int(result[0]) != 0:
            failed = writes[int(result[0]) - 1]
            raise VersionConflict(f"{failed.match_id}: stored {int(result[1])}, "
                                  f"expected {failed.expected}")
        ended = [Ended(w.match_id, int(at), w.game, w.players)
                 for w, at in zip(writes, result[1:], strict=True) if w.finished]
        if ended:  # listed before leaving `live`: a crash in between is repaired
            await index_ended(self.redis, ended, self.finished_ttl_ms, now)
            await self.redis.command("ZREM", self.keys.live, *(e.match_id for e in ended))

    async def _index_first(self, writes: Sequence[Write], now: int) -> None:
        """Indexes written before the script, so that each is a superset: new matches
        in `live`, finishing rated ones in `rating_due` (a newer score each time, so a
        sweep never drops an entry a commit in flight relies on)."""
        created = [w.match_id for w in writes if w.expected == 0 and not w.finished]
        due = [w.match_id for w in writes if w.finished and w.rated]
        if created:
            await self.redis.command("ZADD", self.keys.live, "NX",
                                     *(part for match_id in created for part in (now, match_id)))
        if due:
            await self.redis.command("ZADD", self.keys.rating_due,
                                     *(part for match_id in due for part in (now, match_id)))

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
                pipe.hmget(self.keys.record(match_id), ["v", "p", "r", "e", "rated"])
            return list(await pipe.execute())

        rows = await self.redis.call(run)
        return [None if row[0] is None else Stored(
            int(row[0]), as_bytes(row[1]).decode(), as_bytes(row[2]),
            None if row[3] is None else int(row[3]), row[4] is not None) for row in rows]

    async def mark_rated(self, match_id: str) -> None:
        """Notes in the record (if it still exists) that its rating is applied."""
        await self.redis.script(MARK_RATED, [self.keys.record(match_id)], [])

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
        ended: list[Ended] = []
        for match_id, row, added in zip(ids, rows, scores, strict=True):
            if row is None:
                if added is not None and now - int(added) > STALE_MISSING_MS:
                    stale.append(match_id)
            elif row.phase == FINISHED:
                stale.append(match_id)
                ended.append(_ended(match_id, row, now))
            else:
                live.append(row.record)
        # a finished match still here: its commit's process stopped before indexing it
        await index_ended(self.redis, ended, self.finished_ttl_ms, now)
        if stale:
            await self.redis.call(lambda r: r.zrem(self.keys.live, *stale))
        return live


async def follow(redis: RedisClient, match_id: str, follower: str) -> None:
    """`follower` is sent the match's commits from now on (on its own channel,
    `Keys.channel`), for as long as the match is kept."""
    await redis.script(FOLLOW, [redis.keys.record(match_id), redis.keys.followers(match_id)],
                       [follower, UNSTORED_FOLLOW_MS])


async def unfollow(redis: RedisClient, match_id: str, follower: str) -> None:
    await redis.command("SREM", redis.keys.followers(match_id), follower)


def _ended(match_id: str, row: Stored, now: int) -> Ended:
    data = orjson.loads(row.record)
    players = tuple(str(seat["player"]) for seat in data["seats"] if seat is not None)
    return Ended(match_id, now if row.ended_at is None else row.ended_at, str(data["game"]),
                 players)
