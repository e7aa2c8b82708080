"""The answers of `GET /api/leaderboard` and `GET /api/players/{player}`: ratings as
the store keeps them, established players ranked apart from provisional ones."""

from __future__ import annotations

from typing import Any

from game.core.ratings import is_provisional
from game.server.history_api import finished_entry
from game.store.base import PlayerRating, Store


def rating_entry(entry: PlayerRating) -> dict[str, Any]:
    rating = entry.rating
    return {"game": entry.game, "pool": entry.pool, "rating": rating.rating, "rd": rating.rd,
            "volatility": rating.volatility, "games": entry.games,
            "provisional": is_provisional(rating)}


def board_entry(entry: PlayerRating, rank: int | None) -> dict[str, Any]:
    return {"rank": rank, "player": entry.player, "name": entry.name,
            "rating": entry.rating.rating, "rd": entry.rating.rd, "games": entry.games}


async def leaderboard(store: Store, game: str, pool: str, limit: int) -> dict[str, Any]:
    ranked = await store.leaderboard(game, pool, provisional=False, limit=limit)
    provisional = await store.leaderboard(game, pool, provisional=True, limit=limit)
    return {"game": game, "pool": pool,
            "players": [board_entry(entry, rank) for rank, entry in enumerate(ranked, 1)],
            "provisional": [board_entry(entry, None) for entry in provisional]}


async def player_profile(store: Store, player: str, recent: int) -> dict[str, Any] | None:
    record = await store.player_by_id(player)
    if record is None:
        return None
    ratings = await store.ratings_of(player)
    games = await store.finished_matches(player=player, limit=recent)
    return {"player": record.id, "name": record.name, "bot": record.bot,
            "ratings": [rating_entry(entry) for entry in ratings],
            "recent": [finished_entry(at, match) for at, match in games.matches]}
