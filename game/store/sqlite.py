"""The embedded default store: one local SQLite file, written with group commit.

A single writer thread owns the connection. Commits queued while it is busy are
written in one transaction, so the fsync cost is shared; each caller's future is
resolved only after that transaction is on disk, which is what lets the server
send an `ack` only for a move that survives a crash.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import structlog

from game.core.match import Match, Phase
from game.core.records import from_record, to_record
from game.store import sqlite_ratings
from game.store.base import (
    FinishedPage,
    PlayerRating,
    PlayerRecord,
    VersionConflict,
    history_page,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS matches (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    phase TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS matches_phase ON matches(phase);
CREATE TABLE IF NOT EXISTS players (
    token_hash TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

HISTORY_COLUMNS = (("game", "TEXT"), ("player0", "TEXT"), ("player1", "TEXT"),
                   ("ended_at", "INTEGER"))
"""Added to `matches` for the history (issue 17); older databases get them on open."""

HISTORY_INDEXES = """
CREATE INDEX IF NOT EXISTS matches_ended ON matches(ended_at, id) WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS matches_game_ended ON matches(game, ended_at, id)
    WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS matches_player0 ON matches(player0, ended_at)
    WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS matches_player1 ON matches(player1, ended_at)
    WHERE ended_at IS NOT NULL;
"""

BACKFILL = """
UPDATE matches SET game = json_extract(record, '$.game'),
    player0 = json_extract(record, '$.seats[0].player'),
    player1 = json_extract(record, '$.seats[1].player'),
    ended_at = CASE WHEN phase = 'finished' THEN json_extract(record, '$.created_at') END
WHERE game IS NULL
"""
"""Rows written before the history columns: their end time is unknown, so a finished
one is dated by its start (the best the record knows)."""

UNSTARTED_REMATCHES = """
SELECT record FROM matches AS old
WHERE phase = 'finished'
  AND instr(record, '"rematch":[true,true]') > 0
  AND json_extract(record, '$.rematch[0]') AND json_extract(record, '$.rematch[1]')
  AND NOT EXISTS (SELECT 1 FROM matches WHERE id = json_extract(old.record, '$.next_match'))
"""

log = structlog.get_logger("game.store.sqlite")

Job = Callable[[sqlite3.Connection], Any]
_STOP = object()
MAX_BATCH = 512


class SQLiteStore:
    def __init__(self, path: str, synchronous: str = "FULL", busy_timeout: float = 5.0,
                 history_days: int = 0, sweep_interval: float = 3600.0,
                 wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
        self.history_days = history_days
        """Finished matches older than this many days are deleted; 0 keeps them all."""
        self.sweep_interval = sweep_interval
        self._wall_ms = wall_ms
        self._swept_at = 0.0
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._thread = threading.Thread(
            target=self._run, args=(asyncio.get_running_loop(), ready), name="sqlite-writer",
            daemon=True,
        )
        self._thread.start()
        await ready

    async def close(self) -> None:
        if self._thread is not None:
            self._jobs.put(_STOP)
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None

    def _run(self, loop: asyncio.AbstractEventLoop, ready: asyncio.Future[None]) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                 timeout=self.busy_timeout)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self.synchronous}")
            db.executescript(SCHEMA)
            _migrate(db)
        except Exception as exc:
            loop.call_soon_threadsafe(ready.set_exception, exc)
            return
        loop.call_soon_threadsafe(ready.set_result, None)
        try:
            self._serve(db, loop)
        finally:
            db.close()

    def _serve(self, db: sqlite3.Connection, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            batch = [self._jobs.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            work = [item for item in batch if item is not _STOP]
            outcomes: list[tuple[asyncio.Future[Any], bool, Any]] = []
            try:
                db.execute("BEGIN IMMEDIATE")
                for job, future in work:
                    try:
                        outcomes.append((future, True, job(db)))
                    except Exception as exc:
                        outcomes.append((future, False, exc))
                db.execute("COMMIT")
            except Exception as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                outcomes = [(future, False, exc) for _, future in work]
            for future, ok, value in outcomes:
                loop.call_soon_threadsafe(_settle, future, ok, value)
            if stop:
                return
            self._sweep(db)

    def _sweep(self, db: sqlite3.Connection) -> None:
        """Deletes expired finished matches, a bounded chunk at a time, from the writer
        (so no second connection contends for the lock), at most every `sweep_interval`."""
        now = time.monotonic()
        if self.history_days <= 0 or now - self._swept_at < self.sweep_interval:
            return
        self._swept_at = now
        cutoff = self._wall_ms() - self.history_days * 86_400_000
        try:
            deleted = db.execute(
                "DELETE FROM matches WHERE id IN (SELECT id FROM matches "
                "WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT 1000)", (cutoff,)).rowcount
        except sqlite3.Error as exc:
            log.warning("history_sweep_failed", path=self.path, error=str(exc))
            return
        if deleted:
            log.info("history_swept", deleted=deleted, history_days=self.history_days)

    async def _call(self, job: Job) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put((job, future))
        return await future

    async def commit(self, match: Match, expected_version: int) -> None:
        # orjson: the record is written on every move, and this runs on the event loop
        payload = orjson.dumps(to_record(match)).decode("utf-8")
        now = self._wall_ms()

        def job(db: sqlite3.Connection) -> None:
            if match.phase is Phase.FINISHED:  # with its ratings: all of it or none
                _atomic(db, lambda: _write(db, match, expected_version, payload, now))
            else:
                _write(db, match, expected_version, payload, now)

        await self._call(job)

    async def commit_many(self, items: Sequence[tuple[Match, int]]) -> None:
        rows = [(match, expected, orjson.dumps(to_record(match)).decode("utf-8"))
                for match, expected in items]
        now = self._wall_ms()

        def job(db: sqlite3.Connection) -> None:
            def write_all() -> None:
                for match, expected, payload in rows:
                    _write(db, match, expected, payload, now)

            _atomic(db, write_all)

        await self._call(job)

    async def get_match(self, match_id: str) -> Match | None:
        def job(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT record FROM matches WHERE id = ?", (match_id,)).fetchone()
            return None if row is None else str(row[0])

        record = await self._call(job)
        return None if record is None else from_record(orjson.loads(record))

    async def live_matches(self) -> list[Match]:
        def job(db: sqlite3.Connection) -> list[str]:
            rows = db.execute("SELECT record FROM matches WHERE phase != 'finished'").fetchall()
            return [str(row[0]) for row in rows]

        return [from_record(orjson.loads(record)) for record in await self._call(job)]

    async def finished_matches(self, game: str | None = None, player: str | None = None,
                               before: tuple[int, str] | None = None,
                               limit: int = 50) -> FinishedPage:
        where, args = _history_filter(game, player, before)
        sql = (f"SELECT ended_at, record FROM matches WHERE {where} "
               "ORDER BY ended_at DESC, id DESC LIMIT ?")

        def job(db: sqlite3.Connection) -> list[tuple[int, str]]:
            rows = db.execute(sql, (*args, limit + 1)).fetchall()
            return [(int(row[0]), str(row[1])) for row in rows]

        found = [(at, from_record(orjson.loads(record))) for at, record in await self._call(job)]
        return history_page(found, limit)

    async def unstarted_rematches(self) -> list[Match]:
        def job(db: sqlite3.Connection) -> list[str]:
            # runs once at start-up over every finished match: the substring test skips
            # parsing the records without both offers (every version wrote compact JSON)
            rows = db.execute(UNSTARTED_REMATCHES).fetchall()
            return [str(row[0]) for row in rows]

        return [from_record(orjson.loads(record)) for record in await self._call(job)]

    async def save_player(self, player: PlayerRecord) -> None:
        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO players (token_hash, id, name, bot) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(token_hash) DO UPDATE SET name = excluded.name, bot = excluded.bot",
                (player.token_hash, player.id, player.name, int(player.bot)),
            )

        await self._call(job)

    async def player_by_token_hash(self, token_hash: str) -> PlayerRecord | None:
        def job(db: sqlite3.Connection) -> PlayerRecord | None:
            row = db.execute(
                "SELECT id, name, bot FROM players WHERE token_hash = ?", (token_hash,)
            ).fetchone()
            return None if row is None else PlayerRecord(str(row[0]), str(row[1]),
                                                         token_hash, bool(row[2]))

        found: PlayerRecord | None = await self._call(job)
        return found

    async def player_by_id(self, player_id: str) -> PlayerRecord | None:
        def job(db: sqlite3.Connection) -> PlayerRecord | None:
            row = db.execute("SELECT name, token_hash, bot FROM players WHERE id = ? LIMIT 1",
                             (player_id,)).fetchone()
            return None if row is None else PlayerRecord(player_id, str(row[0]), str(row[1]),
                                                         bool(row[2]))

        found: PlayerRecord | None = await self._call(job)
        return found

    async def ratings_of(self, player_id: str) -> list[PlayerRating]:
        found: list[PlayerRating] = await self._call(
            lambda db: sqlite_ratings.ratings_of(db, player_id))
        return found

    async def leaderboard(self, game: str, pool: str, provisional: bool,
                          limit: int) -> list[PlayerRating]:
        found: list[PlayerRating] = await self._call(
            lambda db: sqlite_ratings.leaderboard(db, game, pool, provisional, limit))
        return found

    async def last_alive(self) -> int | None:
        def job(db: sqlite3.Connection) -> int | None:
            row = db.execute("SELECT value FROM meta WHERE key = 'alive'").fetchone()
            return None if row is None else int(row[0])

        result: int | None = await self._call(job)
        return result

    async def heartbeat(self, now: int) -> None:
        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('alive', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(now),),
            )

        await self._call(job)

    async def ping(self) -> None:
        """A trivial query through the writer thread and its transaction, so a stuck
        writer or a file locked by another process shows (the caller bounds the wait)."""
        def job(db: sqlite3.Connection) -> None:
            db.execute("SELECT 1").fetchone()

        await self._call(job)


def _atomic(db: sqlite3.Connection, write: Callable[[], None]) -> None:
    """A savepoint inside the group-commit transaction: a failure undoes this job's
    rows only, not the other jobs of the batch."""
    db.execute("SAVEPOINT job")
    try:
        write()
    except BaseException:
        db.execute("ROLLBACK TO job")
        db.execute("RELEASE job")
        raise
    db.execute("RELEASE job")


def _migrate(db: sqlite3.Connection) -> None:
    """Adds the history columns to a database made before them, once."""
    present = {str(row[1]) for row in db.execute("PRAGMA table_info(matches)")}
    missing = [(name, kind) for name, kind in HISTORY_COLUMNS if name not in present]
    for name, kind in missing:
        db.execute(f"ALTER TABLE matches ADD COLUMN {name} {kind}")
    if missing:
        db.execute(BACKFILL)
    db.executescript(HISTORY_INDEXES)
    sqlite_ratings.migrate(db)


def _history_filter(game: str | None, player: str | None,
                    before: tuple[int, str] | None) -> tuple[str, list[Any]]:
    clauses, args = ["ended_at IS NOT NULL"], list[Any]()
    if game is not None:
        clauses.append("game = ?")
        args.append(game)
    if player is not None:
        clauses.append("(player0 = ? OR player1 = ?)")
        args += [player, player]
    if before is not None:
        clauses.append("(ended_at < ? OR (ended_at = ? AND id < ?))")
        args += [before[0], before[0], before[1]]
    return " AND ".join(clauses), args


def _write(db: sqlite3.Connection, match: Match, expected_version: int, payload: str,
           now: int) -> None:
    seats = match.seats
    columns = (match.game, None if seats[0] is None else seats[0].player,
               None if seats[1] is None else seats[1].player,
               now if match.phase is Phase.FINISHED else None)
    if expected_version == 0:
        try:
            db.execute(
                "INSERT INTO matches (id, version, phase, record, game, player0, player1, "
                "ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (match.id, match.version, match.phase.value, payload, *columns),
            )
        except sqlite3.IntegrityError:
            raise VersionConflict(f"{match.id} already exists") from None
    else:
        _update(db, match, expected_version, payload, columns)
    if match.phase is Phase.FINISHED:
        sqlite_ratings.rate(db, match, now)


def _update(db: sqlite3.Connection, match: Match, expected_version: int, payload: str,
            columns: tuple[Any, ...]) -> None:
    # a finished match is still written (rematch offers): it keeps its first end time
    cursor = db.execute(
        "UPDATE matches SET version = ?, phase = ?, record = ?, game = ?, player0 = ?, "
        "player1 = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ? AND version = ?",
        (match.version, match.phase.value, payload, *columns, match.id, expected_version),
    )
    if cursor.rowcount != 1:
        raise VersionConflict(f"{match.id} is not at version {expected_version}")


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
