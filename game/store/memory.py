"""An in-memory store: for tests that do not restart, and the fastest embedded mode.

Finished matches are kept up to `keep_finished` (oldest forgotten first), so a
long-running in-memory server does not grow without bound.
"""

from __future__ import annotations

from collections import OrderedDict

from game.core.match import Match, Phase
from game.store.base import PlayerRecord, VersionConflict


class MemoryStore:
    def __init__(self, keep_finished: int = 10_000) -> None:
        self._matches: dict[str, Match] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._keep_finished = keep_finished
        self._players: dict[str, PlayerRecord] = {}
        self._alive: int | None = None

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def commit(self, match: Match, expected_version: int) -> None:
        current = self._matches.get(match.id)
        stored = current.version if current is not None else 0
        if stored != expected_version:
            raise VersionConflict(f"{match.id}: stored {stored}, expected {expected_version}")
        self._matches[match.id] = match
        if match.phase is Phase.FINISHED and match.id not in self._finished:
            self._finished[match.id] = None
            while len(self._finished) > self._keep_finished:
                old, _ = self._finished.popitem(last=False)
                self._matches.pop(old, None)

    async def get_match(self, match_id: str) -> Match | None:
        return self._matches.get(match_id)

    async def live_matches(self) -> list[Match]:
        return [m for m in self._matches.values() if m.phase is not Phase.FINISHED]

    async def save_player(self, player: PlayerRecord) -> None:
        self._players[player.token_hash] = player

    async def player_by_token_hash(self, token_hash: str) -> PlayerRecord | None:
        return self._players.get(token_hash)

    async def last_alive(self) -> int | None:
        return self._alive

    async def heartbeat(self, now: int) -> None:
        self._alive = now
