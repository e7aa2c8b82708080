"""Where matches and players live. The server depends on this interface only.

`commit` is a compare-and-set on the version: it succeeds only when the stored
match is at `expected_version` (0 for a new match), so two writers can never fork
a match, whichever store sits underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from game.core.match import Match, Reason
from game.core.ratings import Rating


class VersionConflict(Exception):
    """The stored match is not at the version the writer expected."""


@dataclass(frozen=True, slots=True)
class PlayerRecord:
    id: str
    name: str
    token_hash: str
    bot: bool = False
    """Said `bot: true` in its last `hello`: rated in the bot pool, against bots only."""


POOLS = ("human", "bot")


@dataclass(frozen=True, slots=True)
class PlayerRating:
    """One player's Glicko-2 rating in one game; `games` rated games counted."""

    player: str
    game: str
    pool: str
    rating: Rating
    games: int
    name: str = ""


def rated_scores(match: Match) -> tuple[float, float] | None:
    """Seat 0's and seat 1's scores if `match` counts for ratings, else None: a match
    not `rated`, with a built-in bot, not finished, or aborted before it was played."""
    result = match.result
    if (not match.rated or result is None or result.reason is Reason.ABORTED
            or any(seat is None or seat.bot is not None for seat in match.seats)):
        return None
    if result.winner is None:
        return (0.5, 0.5)
    return (1.0, 0.0) if result.winner == 0 else (0.0, 1.0)


@dataclass(frozen=True, slots=True)
class FinishedPage:
    """A page of the history: (ended_at epoch ms, match), newest first; `more` when
    older matches follow the last one."""

    matches: list[tuple[int, Match]]
    more: bool


def history_page(found: list[tuple[int, Match]], limit: int) -> FinishedPage:
    """`found` holds up to `limit + 1` matches: the extra one only says more follow."""
    return FinishedPage(found[:limit], len(found) > limit)


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

    async def finished_matches(self, game: str | None = None, player: str | None = None,
                               before: tuple[int, str] | None = None,
                               limit: int = 50) -> FinishedPage:
        """Finished matches, newest end first (then by id, descending), of `game` and
        with `player` in a seat when given, strictly older than `before` (ended_at, id)."""
        ...

    async def save_player(self, player: PlayerRecord) -> None: ...

    async def player_by_token_hash(self, token_hash: str) -> PlayerRecord | None: ...

    async def player_by_id(self, player_id: str) -> PlayerRecord | None: ...

    async def ratings_of(self, player_id: str) -> list[PlayerRating]:
        """The player's rating in each game they were rated in, by game."""
        ...

    async def leaderboard(self, game: str, pool: str, provisional: bool,
                          limit: int) -> list[PlayerRating]:
        """Rated players of `game` in `pool`, best first, with their names: the
        established ones (RD at most PROVISIONAL_RD) or the provisional ones."""
        ...

    async def last_alive(self) -> int | None:
        """Epoch ms of the last heartbeat written, to credit clocks for downtime."""
        ...

    async def heartbeat(self, now: int) -> None: ...

    async def ping(self) -> None:
        """One real round trip (readiness, `/readyz`): returns once the store answered,
        raises when it cannot."""
        ...
