"""Which live matches each player sits in, across processes (the `welcome`'s
`matches`, the live-match cap).

A player's set is a superset: an id is added before the match's first commit (so a
crash in between leaves an id whose record never appears) and removed after its
finishing commit. `of` reads the records and answers only matches that are stored
and unfinished, pruning finished ones as it goes.
"""

from __future__ import annotations

from game.store.redis.client import RedisClient, as_text
from game.store.redis.matches import FINISHED, MatchRecords


class PlayerMatches:
    def __init__(self, redis: RedisClient, records: MatchRecords) -> None:
        self.redis = redis
        self.records = records

    def _key(self, player: str) -> str:
        return f"{self.redis.keys.ns}:player-matches:{{{player}}}"

    async def add(self, player: str, match_id: str) -> None:
        await self.redis.command("SADD", self._key(player), match_id)

    async def remove(self, player: str, match_id: str) -> None:
        await self.redis.command("SREM", self._key(player), match_id)

    async def of(self, player: str) -> list[str]:
        """The player's stored, unfinished matches, by id."""
        key = self._key(player)
        ids = sorted(as_text(item) for item in await self.redis.command("SMEMBERS", key))
        rows = await self.records.records(ids)
        finished = [match_id for match_id, row in zip(ids, rows, strict=True)
                    if row is not None and row.phase == FINISHED]
        if finished:
            await self.redis.command("SREM", key, *finished)
        return [match_id for match_id, row in zip(ids, rows, strict=True)
                if row is not None and row.phase != FINISHED]
