"""`RedisStore`: the `Store` protocol on Redis (scale-out mode).

Commits go through the version-comparing Lua script (`MatchRecords`); an agreed
rematch's two matches are one script when they share a hash tag (`rematch_id`), which
on a Cluster they must. `unstarted_rematches` is always empty here: the agreeing offer
and the new match are only ever written together, atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import orjson

from game.core.match import Match
from game.core.records import from_record, to_record
from game.store.base import FinishedPage, PlayerRating, PlayerRecord, history_page
from game.store.redis.client import Client, RedisClient, RedisOptions, as_bytes, lua
from game.store.redis.matches import MatchRecords, Patches, Write

HEARTBEAT = lua("""
-- KEYS[1] the alive key; ARGV[1] epoch ms. Keeps the latest of all processes' beats.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
""")


HISTORY_SCAN = 5000


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class RedisStore:
    """Matches, players and the heartbeat in Redis. `now_ms` is the shared clock
    (a `RedisClock`'s `now_ms` in production)."""

    def __init__(
        self, options: RedisOptions, now_ms: Callable[[], int] = _wall_ms,
        history_limit: int = 64, client: RedisClient | None = None,
    ) -> None:
        self.redis = client if client is not None else RedisClient(options)
        self.matches = MatchRecords(self.redis, now_ms, history_limit=history_limit)
        self.keys = self.redis.keys

    async def open(self) -> None:
        await self.redis.open()

    async def close(self) -> None:
        await self.redis.close()

    async def commit(
        self, match: Match, expected_version: int, patches: Patches | None = None,
    ) -> None:
        """Store `match` if the stored one is at `expected_version` (with the patches
        that lead to its version, which are also published); else VersionConflict."""
        await self.matches.commit([_write(match, expected_version, patches)])

    async def commit_many(
        self, items: Sequence[tuple[Match, int]],
        patches: Sequence[Patches | None] | None = None,
    ) -> None:
        """All or nothing (one script): the matches must share a hash tag on a Cluster
        (CrossSlotCommit otherwise)."""
        extra = list(patches) if patches is not None else [None] * len(items)
        await self.matches.commit([_write(match, expected, patch)
                                   for (match, expected), patch in zip(items, extra,
                                                                       strict=True)])

    async def unstarted_rematches(self) -> list[Match]:
        return []

    async def get_match(self, match_id: str) -> Match | None:
        stored = await self.matches.record(match_id)
        return None if stored is None else from_record(orjson.loads(stored.record))

    async def finished_matches(self, game: str | None = None, player: str | None = None,
                               before: tuple[int, str] | None = None,
                               limit: int = 50) -> FinishedPage:
        """From the `ended` index, filtered here: a filtered page reads at most
        HISTORY_SCAN entries (records last `finished_ttl_ms`, 7 days by default)."""
        found: list[tuple[int, Match]] = []
        skip = 0
        while len(found) <= limit and skip < HISTORY_SCAN:
            read, ids = await self.matches.ended_ids(before, 200, skip)
            skip += 200
            stored = await self.matches.records([match_id for _, match_id in ids])
            gone = [match_id for (_, match_id), row in zip(ids, stored, strict=True)
                    if row is None]
            await self.matches.forget_ended(gone)
            skip -= len(gone)  # the removed entries no longer take places in the index
            for (at, _), row in zip(ids, stored, strict=True):
                match = None if row is None else from_record(orjson.loads(row.record))
                if match is not None and (game is None or match.game == game) and (
                        player is None or match.seat_of(player) is not None):
                    found.append((at, match))
            if read < 200:
                break
        return history_page(found[:limit + 1], limit)

    async def live_matches(self) -> list[Match]:
        return [from_record(orjson.loads(record))
                for record in await self.matches.live_records()]

    async def patches_since(self, match_id: str, since: int,
                            current: int) -> list[Patches] | None:
        return await self.matches.patches_since(match_id, since, current)

    async def save_player(self, player: PlayerRecord) -> None:
        """Upsert by token hash: a known player keeps their id, their name is updated.
        Only the token's hash is ever stored."""
        key = self.keys.player(player.token_hash)

        async def run(client: Client) -> None:
            pipe = client.pipeline(transaction=False)
            pipe.hsetnx(key, "id", player.id)
            pipe.hset(key, mapping={"name": player.name, "bot": int(player.bot)})
            pipe.set(self.keys.player_id(player.id), player.token_hash, nx=True)
            await pipe.execute()

        await self.redis.call(run)

    async def player_by_token_hash(self, token_hash: str) -> PlayerRecord | None:
        key = self.keys.player(token_hash)
        found = await self.redis.call(lambda r: r.hmget(key, ["id", "name", "bot"]))
        if found[0] is None:
            return None
        return PlayerRecord(as_bytes(found[0]).decode(), as_bytes(found[1]).decode(), token_hash,
                            found[2] is not None and as_bytes(found[2]) == b"1")

    async def player_by_id(self, player_id: str) -> PlayerRecord | None:
        key = self.keys.player_id(player_id)
        token_hash = await self.redis.call(lambda r: r.get(key))
        return None if token_hash is None else await self.player_by_token_hash(
            as_bytes(token_hash).decode())

    async def ratings_of(self, player_id: str) -> list[PlayerRating]:
        """Not rated in the Redis mode yet: the commit is one Lua script, and rating
        there needs Glicko-2 in it (or a second, idempotent step)."""
        return []

    async def leaderboard(self, game: str, pool: str, provisional: bool,
                          limit: int) -> list[PlayerRating]:
        return []

    async def last_alive(self) -> int | None:
        value = await self.redis.call(lambda r: r.get(self.keys.alive))
        return None if value is None else int(value)

    async def heartbeat(self, now: int) -> None:
        await self.redis.script(HEARTBEAT, [self.keys.alive], [now])

    async def ping(self) -> None:
        await self.redis.call(lambda r: r.ping())


def _write(match: Match, expected: int, patches: Patches | None) -> Write:
    return Write(match.id, expected, match.version, match.phase.value,
                 orjson.dumps(to_record(match)), patches)
