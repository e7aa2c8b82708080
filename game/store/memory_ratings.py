"""Ratings of the in-memory store: as the SQLite store's, each finished match rated
once, in the same step that stores its finishing record."""

from __future__ import annotations

from collections.abc import Mapping

from game.core.match import Match
from game.core.ratings import Rating, is_provisional, rate_game
from game.store.base import PlayerRating, PlayerRecord, rated_scores

MAX_RATED_MATCHES = 100_000
"""Ids of rated matches remembered against rating one twice; a rated match is rewritten
only within its rematch window, long before this many others end."""


class MemoryRatings:
    def __init__(self) -> None:
        self._ratings: dict[tuple[str, str], PlayerRating] = {}
        self._rated: dict[str, None] = {}  # insertion-ordered: the oldest is dropped

    def rate(self, match: Match, players: Mapping[str, PlayerRecord]) -> None:
        scores = rated_scores(match)
        if scores is None or match.id in self._rated:
            return
        ids = [seat.player for seat in match.seats if seat is not None]
        bots = [player in players and players[player].bot for player in ids]
        if len(ids) != 2 or bots[0] != bots[1] or ids[0] == ids[1]:
            return
        pool = "bot" if bots[0] else "human"
        before = [self._ratings.get((player, match.game)) for player in ids]
        first, second = (Rating() if entry is None else entry.rating for entry in before)
        after = rate_game(first, second, scores[0])
        for player, old, new in zip(ids, before, after, strict=True):
            games = 0 if old is None else old.games
            self._ratings[(player, match.game)] = PlayerRating(player, match.game, pool, new,
                                                              games + 1)
        self._rated[match.id] = None
        if len(self._rated) > MAX_RATED_MATCHES:
            del self._rated[next(iter(self._rated))]

    def of(self, player: str) -> list[PlayerRating]:
        return sorted((entry for (who, _), entry in self._ratings.items() if who == player),
                      key=lambda entry: entry.game)

    def board(self, game: str, pool: str, provisional: bool, limit: int) -> list[PlayerRating]:
        found = [entry for entry in self._ratings.values()
                 if entry.game == game and entry.pool == pool
                 and is_provisional(entry.rating) == provisional]
        found.sort(key=lambda entry: (-entry.rating.rating, entry.player))
        return found[:limit]
