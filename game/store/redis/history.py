"""Finished matches in Redis: the indexes of the history, and its pages.

A finished record carries its end time (`e`, set once by the commit script, so a
rewrite such as a rematch offer keeps it) and, with a retention, expires at end time
plus retention. Each finished match is listed in four kinds of index, sorted sets
scored by end time: every match (`ended`), one game's, one player's, and one player's
games of one game; `finished_matches` reads exactly the index of its filter, so a page
costs the same however rare the filtered matches are.

The indexes are written after the commit script (they live on other slots of a
Cluster), before the match leaves the `live` index: a crash in between leaves it
there, and the next `live_matches` indexes it (see `MatchRecords.live_records`).
With a retention each write also drops the entries past it and sets the index's own
expiry to the retention (an index of a game or player nobody plays again vanishes
whole); a reader skips entries past the retention and drops ids whose record is gone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from game.core.match import Match
from game.core.records import from_record
from game.store.base import FinishedPage, history_page
from game.store.redis.client import Arg, RedisClient, as_bytes
from game.store.redis.keys import Keys

PAGE_READ = 200
"""At most this many index entries (and records) read per round trip: a page reads
`limit + 1`, and more only to replace records that expired."""


@dataclass(frozen=True, slots=True)
class Ended:
    """A finished match as its indexes list it."""

    match_id: str
    at: int
    game: str
    players: tuple[str, ...]


def index_keys(keys: Keys, game: str, players: Sequence[str]) -> list[str]:
    """Every history index a match of `game` between `players` belongs to."""
    found = [keys.ended_of()]
    if game:
        found.append(keys.ended_of(game))
    for player in dict.fromkeys(players):
        found.append(keys.ended_of(player=player))
        if game:
            found.append(keys.ended_of(game, player))
    return found


async def index_ended(redis: RedisClient, ended: Sequence[Ended], retention_ms: int,
                      now: int) -> None:
    """Lists `ended` in its indexes (a match listed already keeps its entry) in one
    pipelined round trip; with a retention, prunes each index touched."""
    if not ended:
        return
    commands: list[tuple[Arg, ...]] = []
    for entry in ended:
        for key in index_keys(redis.keys, entry.game, entry.players):
            commands.append(("ZADD", key, "NX", entry.at, entry.match_id))
            if retention_ms > 0:
                commands.append(("ZREMRANGEBYSCORE", key, "-inf", f"({now - retention_ms}"))
                commands.append(("PEXPIRE", key, retention_ms))
    await redis.commands(*commands)


Records = Callable[[Sequence[str]], Awaitable[list[bytes | None]]]


class History:
    """Pages of finished matches, newest end first (then id, descending)."""

    def __init__(self, redis: RedisClient, records: Records, now_ms: Callable[[], int],
                 retention_ms: int) -> None:
        self.redis = redis
        self.records = records
        self.now_ms = now_ms
        self.retention_ms = retention_ms

    async def page(self, game: str | None, player: str | None,
                   before: tuple[int, str] | None, limit: int) -> FinishedPage:
        key = self.redis.keys.ended_of(game, player)
        found: list[tuple[int, Match]] = []
        cursor = before
        while len(found) <= limit:
            want = min(PAGE_READ, limit + 1 - len(found))
            entries = await self._entries(key, cursor, want)
            if not entries:
                break
            stored = await self.records([match_id for _, match_id in entries])
            gone = [match_id for (_, match_id), row in zip(entries, stored, strict=True)
                    if row is None]
            await self._forget(key, gone)
            found += [(at, from_record(orjson.loads(row)))
                      for (at, _), row in zip(entries, stored, strict=True) if row is not None]
            if len(entries) < want:
                break
            cursor = entries[-1]
        return history_page(found[:limit + 1], limit)

    async def _entries(self, key: str, before: tuple[int, str] | None,
                       count: int) -> list[tuple[int, str]]:
        """Up to `count` (ended_at, id) strictly older than `before`, newest first,
        none past the retention. Entries tied with `before` on the end time are read
        by id (ZREVRANGEBYLEX needs equal scores, so they are filtered here)."""
        top = "+inf" if before is None else before[0]
        bottom: int | str = "-inf" if self.retention_ms <= 0 else (
            self.now_ms() - self.retention_ms)
        found: list[tuple[int, str]] = []
        skip = 0
        while len(found) < count:
            rows = await self._read(key, top, bottom, skip, count)
            found += [row for row in rows if before is None or row < before]
            if len(rows) < count:
                break
            skip += count
        return found[:count]

    async def _read(self, key: str, top: int | str, bottom: int | str, skip: int,
                    count: int) -> list[tuple[int, str]]:
        raw: list[Any] = list(await self.redis.call(lambda r: r.zrevrangebyscore(
            key, top, bottom, start=skip, num=count, withscores=True)))
        return [(int(row[1]), as_bytes(row[0]).decode()) for row in raw]

    async def _forget(self, key: str, match_ids: Sequence[str]) -> None:
        """Drops entries whose record expired."""
        if match_ids:
            await self.redis.call(lambda r: r.zrem(key, *match_ids))
