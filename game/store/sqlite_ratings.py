"""Ratings in the SQLite store: written by the job that writes a match's finishing
record, inside the same transaction, so a crash keeps both or neither; `rating_changes`
is keyed by (match, player), so a finished match written again (a rematch offer, a
resent commit) is never rated twice."""

from __future__ import annotations

import sqlite3

from game.core.match import Match
from game.core.ratings import PROVISIONAL_RD, Rating, rate_game
from game.store.base import PlayerRating, rated_scores

SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    player TEXT NOT NULL,
    game TEXT NOT NULL,
    pool TEXT NOT NULL,
    rating REAL NOT NULL,
    rd REAL NOT NULL,
    volatility REAL NOT NULL,
    games INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (player, game)
);
CREATE INDEX IF NOT EXISTS ratings_board ON ratings(game, pool, rating);
CREATE TABLE IF NOT EXISTS rating_changes (
    match TEXT NOT NULL,
    player TEXT NOT NULL,
    game TEXT NOT NULL,
    score REAL NOT NULL,
    rating_before REAL NOT NULL,
    rd_before REAL NOT NULL,
    rating REAL NOT NULL,
    rd REAL NOT NULL,
    volatility REAL NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (match, player)
);
CREATE INDEX IF NOT EXISTS players_id ON players(id);
"""

_COLUMNS = "player, game, pool, rating, rd, volatility, games"


def migrate(db: sqlite3.Connection) -> None:
    present = {str(row[1]) for row in db.execute("PRAGMA table_info(players)")}
    if "bot" not in present:
        db.execute("ALTER TABLE players ADD COLUMN bot INTEGER NOT NULL DEFAULT 0")
    db.executescript(SCHEMA)


def rate(db: sqlite3.Connection, match: Match, now: int) -> None:
    """Rates a finished `match` once, if it counts (see `rated_scores`) and its two
    players are in the same pool (two humans, or two programs that said `bot`)."""
    scores = rated_scores(match)
    if scores is None or db.execute(
            "SELECT 1 FROM rating_changes WHERE match = ?", (match.id,)).fetchone():
        return
    players = [seat.player for seat in match.seats if seat is not None]
    bots = [_is_bot(db, player) for player in players]
    if len(players) != 2 or bots[0] != bots[1] or players[0] == players[1]:
        return
    pool = "bot" if bots[0] else "human"
    before = [_current(db, player, match.game) for player in players]
    after = rate_game(before[0][0], before[1][0], scores[0])
    for player, (old, games), new, score in zip(players, before, after, scores, strict=True):
        db.execute(
            "INSERT INTO ratings (player, game, pool, rating, rd, volatility, games, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(player, game) DO UPDATE "
            "SET pool = excluded.pool, rating = excluded.rating, rd = excluded.rd, "
            "volatility = excluded.volatility, games = excluded.games, "
            "updated_at = excluded.updated_at",
            (player, match.game, pool, new.rating, new.rd, new.volatility, games + 1, now))
        db.execute(
            "INSERT INTO rating_changes (match, player, game, score, rating_before, "
            "rd_before, rating, rd, volatility, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (match.id, player, match.game, score, old.rating, old.rd, new.rating, new.rd,
             new.volatility, now))


def _is_bot(db: sqlite3.Connection, player: str) -> bool:
    row = db.execute("SELECT bot FROM players WHERE id = ? LIMIT 1", (player,)).fetchone()
    return row is not None and bool(row[0])


def _current(db: sqlite3.Connection, player: str, game: str) -> tuple[Rating, int]:
    row = db.execute("SELECT rating, rd, volatility, games FROM ratings "
                     "WHERE player = ? AND game = ?", (player, game)).fetchone()
    if row is None:
        return Rating(), 0
    return Rating(float(row[0]), float(row[1]), float(row[2])), int(row[3])


def _named(row: tuple[object, ...]) -> PlayerRating:
    return PlayerRating(str(row[0]), str(row[1]), str(row[2]),
                        Rating(float(row[3]), float(row[4]), float(row[5])),  # type: ignore[arg-type]
                        int(row[6]), "" if row[7] is None else str(row[7]))  # type: ignore[call-overload]


def ratings_of(db: sqlite3.Connection, player: str) -> list[PlayerRating]:
    rows = db.execute(f"SELECT {_COLUMNS}, NULL FROM ratings WHERE player = ? ORDER BY game",
                      (player,)).fetchall()
    return [_named(row) for row in rows]


def leaderboard(db: sqlite3.Connection, game: str, pool: str, provisional: bool,
                limit: int) -> list[PlayerRating]:
    """Established (RD at most PROVISIONAL_RD) or provisional players, best first."""
    where = "rd > ?" if provisional else "rd <= ?"
    rows = db.execute(
        f"SELECT {_COLUMNS}, (SELECT name FROM players WHERE players.id = ratings.player "
        f"LIMIT 1) FROM ratings WHERE game = ? AND pool = ? AND {where} "
        "ORDER BY rating DESC, player LIMIT ?",
        (game, pool, PROVISIONAL_RD, limit)).fetchall()
    return [_named(row) for row in rows]
