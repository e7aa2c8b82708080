"""The live-match list behind `GET /api/matches`: newest first, in pages, and cheap.

Sorting every live match for each request cost 15 ms of event-loop time with 2000
matches, so the sorted order (match ids and what never changes about them) is
rebuilt at most every `match_list_refresh_ms`, and each page reads only its own
matches' current state. A page's cursor is the sort key of its last match, never
an offset: matches that start meanwhile are newer and land before it, so paging on
shows no match twice and skips none that was listed when the first page was read.

A match nobody plays any more (every player who is not a built-in bot is offline,
waiting out their grace time) is not listed: there is nothing to watch.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from game.core.match import Match, Phase, Seat
from game.server.hub import Hub

Key = tuple[int, str]
"""(started_at, match id): the sort key, unique since match ids are."""


class BadCursor(ValueError):
    """A cursor that this server did not make."""


def encode_cursor(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def decode_cursor(cursor: str) -> Key:
    at, dot, match_id = cursor.partition(".")
    if not dot or not at.isdigit() or len(at) > 19 or not match_id or len(match_id) > 64:
        raise BadCursor("bad cursor: pass back the `next` of an earlier page")
    return int(at), match_id


@dataclass(frozen=True, slots=True)
class _Listed:
    key: Key
    game: str
    players: list[dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Page:
    matches: list[dict[str, Any]]
    next: str | None
    total: int
    """Live matches in the list as last rebuilt (so within `match_list_refresh_ms`)."""


def _listed_player(seat: Seat | None) -> dict[str, Any] | None:
    if seat is None:
        return None
    return {"name": seat.name, "bot": seat.bot is not None, "program": seat.program}


def _played(match: Match) -> bool:
    """Live and someone plays it: a player other than a built-in bot is online."""
    return match.phase is Phase.ACTIVE and any(
        seat is not None and seat.bot is None and seat.online for seat in match.seats)


class MatchListing:
    def __init__(self, hub: Hub, clock: Callable[[], float] = time.monotonic) -> None:
        self.hub = hub
        self._clock = clock
        self._keys: list[Key] = []  # ascending: bisect on it; pages walk it backwards
        self._listed: list[_Listed] = []
        self._built_at: float | None = None
        self._seen: dict[str, Match] = {}
        """The matches as the list last read them (those served elsewhere, in the Redis
        mode, are shown as of then)."""

    async def page(self, limit: int, cursor: str | None = None) -> Page:
        """Up to `limit` live matches older than `cursor` (all if None), newest first;
        `next` is set only when at least one more live match follows."""
        await self._refresh()
        keys, listed = self._keys, self._listed
        index = len(keys) if cursor is None else bisect_left(keys, decode_cursor(cursor))
        found: list[dict[str, Any]] = []
        last = 0
        while index > 0:
            index -= 1
            entry = self._entry(listed[index])
            if entry is None:
                continue
            if len(found) == limit:  # one more follows: the next page starts after `last`
                return Page(found, encode_cursor(listed[last].key), len(keys))
            found.append(entry)
            last = index
        return Page(found, None, len(keys))

    async def _refresh(self) -> None:
        now = self._clock()
        interval = self.hub.settings.match_list_refresh_ms / 1000
        if self._built_at is not None and now - self._built_at < interval:
            return
        world = await self.hub.world_matches()  # in the Redis mode, every process's
        self._built_at = now
        self._seen = {match.id: match for match in world}
        listed = [
            _Listed((match.created_at, match.id), match.game,
                    [_listed_player(seat) for seat in match.seats])
            for match in world if _played(match)
        ]
        listed.sort(key=lambda entry: entry.key)
        self._listed = listed
        self._keys = [entry.key for entry in listed]

    def _entry(self, listed: _Listed) -> dict[str, Any] | None:
        """The match as it is now, or None once it is over, gone or left by its players."""
        live = self.hub.matches.get(listed.key[1])  # served here: as it is now
        match = live.match if live is not None else self._seen.get(listed.key[1])
        if match is None or not _played(match):
            return None
        # `match` as in every message; `id` is its deprecated alias (docs/protocol.md)
        return {"match": listed.key[1], "id": listed.key[1], "game": listed.game,
                "status": "active",
                "players": listed.players, "moves": len(match.moves),
                "watchers": self.hub.watcher_count(match), "started_at": listed.key[0]}
