"""An in-memory store: for tests that do not restart, and the fastest embedded mode.

Finished matches are kept up to `keep_finished` (oldest forgotten first), so a
long-running in-memory server does not grow without bound. They are kept as their
JSON record (bytes): thousands of finished `Match` objects would otherwise be walked
by every full collection of the cyclic GC, which is what sets the server's worst
pauses.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

import orjson

from game.core.match import Match, Phase
from game.core.records import from_record, to_record
from game.store.base import (
    FinishedPage,
    PlayerRating,
    PlayerRecord,
    VersionConflict,
    history_page,
)
from game.store.memory_ratings import MemoryRatings


class MemoryStore:
    def __init__(self, keep_finished: int = 10_000,
                 wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self._matches: dict[str, Match] = {}
        """Matches not finished yet."""
        self._finished: OrderedDict[str, tuple[int, int, bytes]] = OrderedDict()
        """Finished matches: (version, ended_at, JSON record), oldest end first."""
        self._wall_ms = wall_ms
        self._keep_finished = keep_finished
        self._players: dict[str, PlayerRecord] = {}
        self._ids: dict[str, PlayerRecord] = {}
        self._ratings = MemoryRatings()
        self._alive: int | None = None

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _version_of(self, match_id: str) -> int:
        current = self._matches.get(match_id)
        if current is not None:
            return current.version
        finished = self._finished.get(match_id)
        return finished[0] if finished is not None else 0

    async def commit(self, match: Match, expected_version: int) -> None:
        self._check(match, expected_version)
        self._put(match)

    async def commit_many(self, items: Sequence[tuple[Match, int]]) -> None:
        for match, expected_version in items:  # every compare before any write
            self._check(match, expected_version)
        for match, _ in items:
            self._put(match)

    def _check(self, match: Match, expected_version: int) -> None:
        stored = self._version_of(match.id)
        if stored != expected_version:
            raise VersionConflict(f"{match.id}: stored {stored}, expected {expected_version}")

    def _put(self, match: Match) -> None:
        if match.phase is not Phase.FINISHED:
            self._matches[match.id] = match
            return
        self._matches.pop(match.id, None)
        self._ratings.rate(match, self._ids)
        earlier = self._finished.get(match.id)
        ended_at = self._wall_ms() if earlier is None else earlier[1]
        self._finished[match.id] = (match.version, ended_at, orjson.dumps(to_record(match)))
        if earlier is None:
            self._finished.move_to_end(match.id)
        while len(self._finished) > self._keep_finished:
            self._finished.popitem(last=False)

    async def get_match(self, match_id: str) -> Match | None:
        current = self._matches.get(match_id)
        if current is not None:
            return current
        finished = self._finished.get(match_id)
        return None if finished is None else from_record(orjson.loads(finished[2]))

    async def live_matches(self) -> list[Match]:
        return list(self._matches.values())

    async def unstarted_rematches(self) -> list[Match]:
        found = []
        for _, _, record in self._finished.values():
            match = from_record(orjson.loads(record))
            if all(match.rematch) and (match.next_match is None
                                       or self._version_of(match.next_match) == 0):
                found.append(match)
        return found

    async def finished_matches(self, game: str | None = None, player: str | None = None,
                               before: tuple[int, str] | None = None,
                               limit: int = 50) -> FinishedPage:
        # ordered by end time, then id: the cache's order is end time only
        entries = sorted(((at, match_id, record)
                          for match_id, (_, at, record) in self._finished.items()
                          if before is None or (at, match_id) < before), reverse=True)
        found: list[tuple[int, Match]] = []
        for at, _, record in entries:
            match = from_record(orjson.loads(record))
            if (game is None or match.game == game) and (
                    player is None or match.seat_of(player) is not None):
                found.append((at, match))
                if len(found) > limit:
                    break
        return history_page(found, limit)

    async def save_player(self, player: PlayerRecord) -> None:
        self._players[player.token_hash] = player
        self._ids[player.id] = player

    async def player_by_token_hash(self, token_hash: str) -> PlayerRecord | None:
        return self._players.get(token_hash)

    async def player_by_id(self, player_id: str) -> PlayerRecord | None:
        return self._ids.get(player_id)

    async def ratings_of(self, player_id: str) -> list[PlayerRating]:
        return self._ratings.of(player_id)

    async def leaderboard(self, game: str, pool: str, provisional: bool,
                          limit: int) -> list[PlayerRating]:
        return [replace(entry, name=self._name(entry.player))
                for entry in self._ratings.board(game, pool, provisional, limit)]

    def _name(self, player_id: str) -> str:
        record = self._ids.get(player_id)
        return "" if record is None else record.name

    async def last_alive(self) -> int | None:
        return self._alive

    async def heartbeat(self, now: int) -> None:
        self._alive = now

    async def ping(self) -> None:
        return None
