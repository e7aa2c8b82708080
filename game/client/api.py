"""The server's HTTP API as the command-line tools read it (`game watch`, the ladder):
the base URL of a WebSocket endpoint, and JSON from a GET. Standard library only, run
in a thread so that the event loop (and the connection it keeps) never waits on it."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

TIMEOUT = 10.0


def http_base(ws_url: str) -> str:
    """`ws://host:port/ws` -> `http://host:port` (`wss` -> `https`).

    >>> http_base("wss://example.org/game/ws")
    'https://example.org/game'
    """
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path[: -len("/ws")] if parts.path.endswith("/ws") else parts.path
    return urlunsplit((scheme, parts.netloc, path.rstrip("/"), "", ""))


def _get(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.loads(response.read())


async def get_json(url: str) -> Any:
    """The JSON answer of a GET; raises OSError (urllib's errors are) on failure."""
    return await asyncio.to_thread(_get, url)


@dataclass(frozen=True, slots=True)
class Rating:
    rating: float
    rd: float
    games: int
    provisional: bool

    def __str__(self) -> str:
        return f"{self.rating:.1f} ± {self.rd:.1f}{' (provisional)' if self.provisional else ''}"


async def rating_of(base: str, player: str, game: str, pool: str = "bot") -> Rating | None:
    """`player`'s rating in `game` and `pool` from `/api/players/{player}`, or None
    while they have none there (no rated game yet, or a store that keeps no ratings)."""
    profile = await get_json(f"{base}/api/players/{quote(player, safe='')}")
    for entry in profile.get("ratings", []):
        if entry.get("game") == game and entry.get("pool") == pool:
            return Rating(float(entry["rating"]), float(entry["rd"]), int(entry["games"]),
                          bool(entry["provisional"]))
    return None
