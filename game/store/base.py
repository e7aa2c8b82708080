"""Where matches and players live. The server depends on this interface only.

`commit` is a compare-and-set on the version: it succeeds only when the stored
match is at `expected_version` (0 for a new match), so two writers can never fork
a match, whichever store sits underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from game.core.match import Match


class VersionConflict(Exception):
    """The stored match is not at the version the writer expected."""


@dataclass(frozen=True, slots=True)
class PlayerRecord:
    id: str
    name: str
    token_hash: str


class Store(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def commit(self, match: Match, expected_version: int) -> None:
        """Durably store `match`; raises VersionConflict when the stored version differs."""
        ...

    async def commit_many(self, items: Sequence[tuple[Match, int]]) -> None:
        """Store several (match, expected version) pairs all at once or not at all: a
        rematch's agreeing offer, the pointer to the new match and the new match itself
        are one durable step, so a crash can never keep one without the others."""
        ...

    async def unstarted_rematches(self) -> list[Match]:
        """Finished matches whose rematch both seats agreed to but whose new match is
        not stored: what a crash left behind in versions that wrote those separately."""
        ...

    async def get_match(self, match_id: str) -> Match | None: ...

    async def live_matches(self) -> list[Match]:
        """Every match not yet finished."""
        ...

    async def save_player(self, player: PlayerRecord) -> None: ...

    async def player_by_token_hash(self, token_hash: str) -> PlayerRecord | None: ...

    async def last_alive(self) -> int | None:
        """Epoch ms of the last heartbeat written, to credit clocks for downtime."""
        ...

    async def heartbeat(self, now: int) -> None: ...

    async def ping(self) -> None:
        """One real round trip (readiness, `/readyz`): returns once the store answered,
        raises when it cannot."""
        ...
