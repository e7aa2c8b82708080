"""Glicko-2 ratings in the Redis store, applied once per finished rated match.

The commit script cannot rate (Glicko-2 is Python, and on a Cluster the players'
ratings live on other slots than the match), so rating is a second step:

1. A write that finishes a rated match (`rated_scores` not None) adds the match's id to
   the `rating_due` sorted set *before* the commit script runs.
2. Right after the commit, the committing process rates it (`settle`): reads the record
   and both players' ratings, computes Glicko-2 (`game.core.ratings.rate_game`), and
   runs one script (`RATE`) on the pool's slot, `{rt:<game>:<pool>}`, which holds both
   players' ratings, the two leaderboards and the pool's rated-match markers. The
   script writes both ratings, moves the players on the leaderboards and adds the
   marker, only if the marker is absent and both players' `games` counts are still
   those the computation read (else the step reads again: another match of one of
   them was rated meanwhile). Then the record is marked `rated` and the id leaves
   `rating_due`.
3. `apply_pending_ratings` (`sweep`) does step 2 for every id still in `rating_due`:
   what a process that died, or lost Redis, between the commit and the rating left.

What is promised, given Redis keeps what it acknowledged (AOF, `appendfsync always`):
- **Never twice.** Only `RATE` changes a rating, and it refuses a match whose marker
  is there; racing processes, retried calls and sweeps all go through it. A marker is
  kept `MARKER_KEEP_MS` (7 days); the record's own `rated` mark, read before any
  computation, covers the rest of the record's life (a rematch offer written later, a
  sweep long after a crash).
- **Never lost.** The id is in `rating_due` before the finishing record exists and
  leaves it only after `RATE` applied it (or found it applied) and the record was
  marked, or when the record shows nothing is due: finished but not counted (unrated,
  aborted, a built-in bot, two pools), or still unfinished a minute (`STALE_DUE_MS`)
  after its latest finishing attempt added it.
- **Not in the same step as the commit**, unlike the SQLite store: between the commit
  and the rating (normally the next few round trips; after a crash, until the next
  sweep) the match is finished but not yet counted.
- The pool is decided when the rating is applied, from the players' records (two
  programs that said `bot`: "bot"; two others: "human"; one of each: not rated). A
  player has one rating per game per pool; one who changes pool starts afresh there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import orjson
import structlog

from game.core.match import Match
from game.core.ratings import Rating, is_provisional, rate_game
from game.core.records import from_record
from game.store.base import PlayerRating, PlayerRecord, rated_scores
from game.store.redis.client import Client, RedisClient, as_text, lua
from game.store.redis.matches import FINISHED, MatchRecords

log = structlog.get_logger("game.store.redis.ratings")

RATE = lua("""
-- KEYS: 1, 2 the two players' rating hashes; 3 the established board, 4 the
-- provisional board; 5 the pool's rated-match markers (all one slot).
-- ARGV: 1 match id, 2 now, 3 marker keep ms, 4, 5 the games counts read for players
-- 1 and 2; then five per player: id, rating, rd, volatility, provisional ('1'/'0').
-- Returns 1 when applied, 0 when the match is rated already, -1 when a count moved.
if redis.call('ZSCORE', KEYS[5], ARGV[1]) then return 0 end
for i = 1, 2 do
  if tonumber(redis.call('HGET', KEYS[i], 'games') or '0') ~= tonumber(ARGV[3 + i]) then
    return -1
  end
end
for i = 1, 2 do
  local a = 5 + 5 * (i - 1)
  redis.call('HSET', KEYS[i], 'rating', ARGV[a + 2], 'rd', ARGV[a + 3],
             'volatility', ARGV[a + 4], 'games', tonumber(ARGV[3 + i]) + 1, 'at', ARGV[2])
  local on, off = KEYS[3], KEYS[4]
  if ARGV[a + 5] == '1' then on, off = KEYS[4], KEYS[3] end
  redis.call('ZREM', off, ARGV[a + 1])
  redis.call('ZADD', on, -tonumber(ARGV[a + 2]), ARGV[a + 1])
end
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. (ARGV[2] - ARGV[3]))
return 1
""")

DROP_DUE = lua("""
-- KEYS[1] rating_due; ARGV[1] a match id, ARGV[2] the score it was read with: dropped
-- only if no finishing commit added it again since.
if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '-1') == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
""")

MARKER_KEEP_MS = 7 * 24 * 3600 * 1000
STALE_DUE_MS = 60_000
"""A due match still unfinished this long after its finishing write added it: that
write was refused or never ran (a later finishing write adds it again)."""
ATTEMPTS = 8
"""Reads and compares per match before leaving it to the sweep (each failed compare
means another match of one of its players was rated in between)."""
SWEEP_MAX = 10_000
"""Due matches one sweep looks at; normally only those of commits in flight."""
FIELDS = ("rating", "rd", "volatility", "games")

PlayersById = Callable[[Sequence[str]], Awaitable[Mapping[str, PlayerRecord]]]


class Outcome(StrEnum):
    APPLIED = "applied"
    DONE = "done"
    """Rated already, or nothing to rate: no longer due."""
    PENDING = "pending"
    """Still due: not finished yet, or the compare kept failing."""


class RedisRatings:
    """Applies, and reads, the ratings (see the module's docstring)."""

    def __init__(self, redis: RedisClient, matches: MatchRecords, players: PlayersById,
                 now_ms: Callable[[], int]) -> None:
        self.redis = redis
        self.keys = redis.keys
        self.matches = matches
        self.players = players
        self.now_ms = now_ms

    async def settle(self, match_id: str, due_since: int | None = None) -> Outcome:
        """Rates the match if it is due and not rated yet; `due_since` is its score in
        `rating_due` when a sweep found it there."""
        stored = await self.matches.record(match_id)
        if stored is None or stored.phase != FINISHED:
            if due_since is not None and self.now_ms() - due_since > STALE_DUE_MS:
                await self.redis.script(DROP_DUE, [self.keys.rating_due],
                                        [match_id, str(due_since)])
                return Outcome.DONE
            return Outcome.PENDING
        outcome = Outcome.DONE
        if not stored.rated:
            match = from_record(orjson.loads(stored.record))
            pool = await self.pool_of(match)
            if pool is not None:
                applied = await self.apply(match, pool)
                if applied is None:
                    log.warning("rating_deferred", match=match_id, attempts=ATTEMPTS)
                    return Outcome.PENDING
                outcome = Outcome.APPLIED if applied else Outcome.DONE
                await self.matches.mark_rated(match_id)
        await self.redis.call(lambda r: r.zrem(self.keys.rating_due, match_id))
        return outcome

    async def pool_of(self, match: Match) -> str | None:
        """The pool `match` is rated in, or None when it does not count."""
        if rated_scores(match) is None:
            return None
        ids = [seat.player for seat in match.seats if seat is not None]
        if len(ids) != 2 or ids[0] == ids[1]:
            return None
        records = await self.players(ids)
        bots = [player in records and records[player].bot for player in ids]
        return None if bots[0] != bots[1] else ("bot" if bots[0] else "human")

    async def apply(self, match: Match, pool: str) -> bool | None:
        """The `RATE` step: True when this call rated `match`, False when it was rated
        already, None when the compare failed `ATTEMPTS` times."""
        scores = rated_scores(match)
        assert scores is not None
        ids = [seat.player for seat in match.seats if seat is not None]
        entry = f"{pool}:{match.game}"

        async def index(client: Client) -> None:  # before the script: a superset
            pipe = client.pipeline(transaction=False)
            for player in ids:
                pipe.sadd(self.keys.rated_in(player), entry)
            await pipe.execute()

        await self.redis.call(index)
        keys = [self.keys.rating(match.game, pool, player) for player in ids] + [
            self.keys.board(match.game, pool, False), self.keys.board(match.game, pool, True),
            self.keys.rated(match.game, pool)]
        for _ in range(ATTEMPTS):
            (first, first_games), (second, second_games) = await self._current(keys[:2])
            after = rate_game(first, second, scores[0])
            args: list[str | int] = [match.id, self.now_ms(), MARKER_KEEP_MS, first_games,
                                     second_games]
            for player, new in zip(ids, after, strict=True):
                args += [player, repr(new.rating), repr(new.rd), repr(new.volatility),
                         int(is_provisional(new))]
            result = int(await self.redis.script(RATE, keys, args))
            if result >= 0:
                return result == 1
        return None

    async def _current(self, keys: Sequence[str]) -> list[tuple[Rating, int]]:
        rows = await self._hashes(keys)
        return [(Rating(), 0) if row is None else row for row in rows]

    async def _hashes(self, keys: Sequence[str]) -> list[tuple[Rating, int] | None]:
        async def run(client: Client) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hmget(key, list(FIELDS))
            return list(await pipe.execute())

        rows = await self.redis.call(run)
        return [None if row[0] is None else (
            Rating(float(row[0]), float(row[1]), float(row[2])), int(row[3]))
            for row in rows]

    async def sweep(self) -> int:
        """Settles every match in `rating_due`; returns how many this call rated."""
        raw: list[Any] = list(await self.redis.call(lambda r: r.zrange(
            self.keys.rating_due, 0, SWEEP_MAX - 1, withscores=True)))
        applied = 0
        for member, score in raw:
            match_id = as_text(member)
            if await self.settle(match_id, int(score)) is Outcome.APPLIED:
                log.info("rating_recovered", match=match_id)
                applied += 1
        return applied

    async def of(self, player: str) -> list[PlayerRating]:
        """The player's ratings, by game (then pool)."""
        members = await self.redis.call(lambda r: r.smembers(self.keys.rated_in(player)))
        entries = sorted((game, pool) for pool, game in (
            as_text(member).split(":", 1) for member in members))
        rows = await self._hashes([self.keys.rating(game, pool, player)
                                   for game, pool in entries])
        return [PlayerRating(player, game, pool, row[0], row[1])
                for (game, pool), row in zip(entries, rows, strict=True) if row is not None]

    async def board(self, game: str, pool: str, provisional: bool,
                    limit: int) -> list[PlayerRating]:
        """Best first (ties by player id), with the players' current names."""
        if limit <= 0:
            return []
        key = self.keys.board(game, pool, provisional)
        members = await self.redis.call(lambda r: r.zrange(key, 0, limit - 1))
        ids = [as_text(member) for member in members]
        rows = await self._hashes([self.keys.rating(game, pool, player) for player in ids])
        records = await self.players(ids)
        return [PlayerRating(player, game, pool, row[0], row[1],
                             records[player].name if player in records else "")
                for player, row in zip(ids, rows, strict=True) if row is not None]
