"""`RedisStore`: the `Store` protocol on Redis (scale-out mode).

Commits go through the version-comparing Lua script (`MatchRecords`); an agreed
rematch's two matches are one script when they share a hash tag (`rematch_id`), which
on a Cluster they must. `unstarted_rematches` is always empty here: the agreeing offer
and the new match are only ever written together, atomically.

Finished matches are kept `history_days` after their end (0: forever) and listed by
`history.py`. Ratings are applied right after the commit that finishes a rated match,
once, and a crash in between is repaired by `apply_pending_ratings` (`ratings.py`
says exactly what is promised): the server calls it at start-up and every
`RATING_SWEEP_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
import structlog

from game.core.match import Match
from game.core.records import from_record, to_record
from game.store.base import FinishedPage, PlayerRating, PlayerRecord, rated_scores
from game.store.redis.client import Client, RedisClient, RedisOptions, as_bytes, as_text, lua
from game.store.redis.errors import StoreUnavailable
from game.store.redis.history import History
from game.store.redis.matches import MatchRecords, Patches, Write
from game.store.redis.ratings import RedisRatings

log = structlog.get_logger("game.store.redis.store")

HEARTBEAT = lua("""
-- KEYS[1] the alive key; ARGV[1] epoch ms. Keeps the latest of all processes' beats.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
""")


DAY_MS = 86_400_000
RATING_SWEEP_SECONDS = 60.0
"""How often the server should call `apply_pending_ratings` (and once at start-up): a
rating left by a crashed process is applied at most this long after its restart."""


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class RedisStore:
    """Matches, players, history, ratings and the heartbeat in Redis. `now_ms` is the
    shared clock (a `RedisClock`'s `now_ms` in production); finished matches are kept
    `history_days` after their end (0: forever; the `history_days` setting)."""

    def __init__(
        self, options: RedisOptions, now_ms: Callable[[], int] = _wall_ms,
        history_limit: int = 64, client: RedisClient | None = None,
        history_days: float = 0.0,
    ) -> None:
        self.redis = client if client is not None else RedisClient(options)
        retention_ms = max(0, round(history_days * DAY_MS))
        self.matches = MatchRecords(self.redis, now_ms, history_limit=history_limit,
                                    finished_ttl_ms=retention_ms)
        self.keys = self.redis.keys
        self.history = History(self.redis, self._records, now_ms, retention_ms)
        self.ratings = RedisRatings(self.redis, self.matches, self.players_by_id, now_ms)

    async def open(self) -> None:
        await self.redis.open()

    async def close(self) -> None:
        await self.redis.close()

    async def commit(
        self, match: Match, expected_version: int, patches: Patches | None = None,
        committer: str = "",
    ) -> None:
        """Store `match` if the stored one is at `expected_version` (with the patches
        that lead to its version, which are also sent to every following process but
        `committer`); else VersionConflict.
        A finished rated match is rated right after (see `apply_pending_ratings`)."""
        write = _write(match, expected_version, patches)
        await self.matches.commit([write], committer)
        await self._rate([write])

    async def commit_many(
        self, items: Sequence[tuple[Match, int]],
        patches: Sequence[Patches | None] | None = None, committer: str = "",
    ) -> None:
        """All or nothing (one script): the matches must share a hash tag on a Cluster
        (CrossSlotCommit otherwise)."""
        extra = list(patches) if patches is not None else [None] * len(items)
        writes = [_write(match, expected, patch)
                  for (match, expected), patch in zip(items, extra, strict=True)]
        await self.matches.commit(writes, committer)
        await self._rate(writes)

    async def _rate(self, writes: Sequence[Write]) -> None:
        """The rating step after a committed write: the commit stands whatever happens
        here, and a rating not applied now stays due for the sweep."""
        for write in writes:
            if write.rated:
                try:
                    await self.ratings.settle(write.match_id)
                except StoreUnavailable as exc:
                    log.warning("rating_left_for_sweep", match=write.match_id,
                                error=str(exc))

    async def apply_pending_ratings(self) -> int:
        """Applies every rating a commit left due (its process died, or Redis did not
        answer, before rating it); never one already applied. Returns how many it
        applied. Call it at start-up and every `RATING_SWEEP_SECONDS`, from any number
        of processes. Raises StoreUnavailable."""
        return await self.ratings.sweep()

    async def unstarted_rematches(self) -> list[Match]:
        return []

    async def get_match(self, match_id: str) -> Match | None:
        stored = await self.matches.record(match_id)
        return None if stored is None else from_record(orjson.loads(stored.record))

    async def finished_matches(self, game: str | None = None, player: str | None = None,
                               before: tuple[int, str] | None = None,
                               limit: int = 50) -> FinishedPage:
        return await self.history.page(game, player, before, limit)

    async def _records(self, match_ids: Sequence[str]) -> list[bytes | None]:
        return [None if row is None else row.record
                for row in await self.matches.records(match_ids)]

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
        await self.redis.commands(
            ("HSETNX", key, "id", player.id),
            ("HSET", key, "name", player.name, "bot", int(player.bot)),
            ("SET", self.keys.player_id(player.id), player.token_hash, "NX"))

    async def player_by_token_hash(self, token_hash: str) -> PlayerRecord | None:
        key = self.keys.player(token_hash)
        found = await self.redis.command("HMGET", key, "id", "name", "bot")
        if found[0] is None:
            return None
        return PlayerRecord(as_bytes(found[0]).decode(), as_bytes(found[1]).decode(), token_hash,
                            found[2] is not None and as_bytes(found[2]) == b"1")

    async def player_by_id(self, player_id: str) -> PlayerRecord | None:
        return (await self.players_by_id([player_id])).get(player_id)

    async def players_by_id(self, player_ids: Sequence[str]) -> Mapping[str, PlayerRecord]:
        """The records of those of `player_ids` that are known, in two round trips."""
        ids = list(dict.fromkeys(player_ids))
        if not ids:
            return {}

        async def hashes(client: Client) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for player in ids:
                pipe.get(self.keys.player_id(player))
            return list(await pipe.execute())

        found = {player: as_text(token) for player, token in zip(
            ids, await self.redis.call(hashes), strict=True) if token is not None}

        async def records(client: Client) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for token_hash in found.values():
                pipe.hmget(self.keys.player(token_hash), ["id", "name", "bot"])
            return list(await pipe.execute())

        rows = await self.redis.call(records) if found else []
        return {player: PlayerRecord(player, as_text(row[1]), token_hash,
                                     row[2] is not None and as_bytes(row[2]) == b"1")
                for (player, token_hash), row in zip(found.items(), rows, strict=True)
                if row[0] is not None}

    async def ratings_of(self, player_id: str) -> list[PlayerRating]:
        return await self.ratings.of(player_id)

    async def leaderboard(self, game: str, pool: str, provisional: bool,
                          limit: int) -> list[PlayerRating]:
        return await self.ratings.board(game, pool, provisional, limit)

    async def last_alive(self) -> int | None:
        value = await self.redis.call(lambda r: r.get(self.keys.alive))
        return None if value is None else int(value)

    async def heartbeat(self, now: int) -> None:
        await self.redis.script(HEARTBEAT, [self.keys.alive], [now])

    async def ping(self) -> None:
        await self.redis.call(lambda r: r.ping())


def _write(match: Match, expected: int, patches: Patches | None) -> Write:
    return Write(match.id, expected, match.version, match.phase.value,
                 orjson.dumps(to_record(match)), patches, match.game,
                 tuple(seat.player for seat in match.seats if seat is not None),
                 rated_scores(match) is not None)
