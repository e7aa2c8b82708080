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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from game.core.match import Match
from game.core.records import from_record, to_record
from game.store.base import PlayerRecord, VersionConflict

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

UNSTARTED_REMATCHES = """
SELECT record FROM matches AS old
WHERE phase = 'finished'
  AND instr(record, '"rematch":[true,true]') > 0
  AND json_extract(record, '$.rematch[0]') AND json_extract(record, '$.rematch[1]')
  AND NOT EXISTS (SELECT 1 FROM matches WHERE id = json_extract(old.record, '$.next_match'))
"""

Job = Callable[[sqlite3.Connection], Any]
_STOP = object()
MAX_BATCH = 512


class SQLiteStore:
    def __init__(self, path: str, synchronous: str = "FULL", busy_timeout: float = 5.0) -> None:
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
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

    async def _call(self, job: Job) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put((job, future))
        return await future

    async def commit(self, match: Match, expected_version: int) -> None:
        # orjson: the record is written on every move, and this runs on the event loop
        payload = orjson.dumps(to_record(match)).decode("utf-8")

        def job(db: sqlite3.Connection) -> None:
            _write(db, match, expected_version, payload)

        await self._call(job)

    async def commit_many(self, items: Sequence[tuple[Match, int]]) -> None:
        rows = [(match, expected, orjson.dumps(to_record(match)).decode("utf-8"))
                for match, expected in items]

        def job(db: sqlite3.Connection) -> None:
            # a savepoint inside the group-commit transaction: a conflict on any row
            # undoes this job's rows only, not the other jobs of the batch
            db.execute("SAVEPOINT commit_many")
            try:
                for match, expected, payload in rows:
                    _write(db, match, expected, payload)
            except BaseException:
                db.execute("ROLLBACK TO commit_many")
                db.execute("RELEASE commit_many")
                raise
            db.execute("RELEASE commit_many")

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
                "INSERT INTO players (token_hash, id, name) VALUES (?, ?, ?) "
                "ON CONFLICT(token_hash) DO UPDATE SET name = excluded.name",
                (player.token_hash, player.id, player.name),
            )

        await self._call(job)

    async def player_by_token_hash(self, token_hash: str) -> PlayerRecord | None:
        def job(db: sqlite3.Connection) -> tuple[str, str] | None:
            row = db.execute(
                "SELECT id, name FROM players WHERE token_hash = ?", (token_hash,)
            ).fetchone()
            return None if row is None else (str(row[0]), str(row[1]))

        found = await self._call(job)
        return None if found is None else PlayerRecord(found[0], found[1], token_hash)

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


def _write(db: sqlite3.Connection, match: Match, expected_version: int, payload: str) -> None:
    if expected_version == 0:
        try:
            db.execute(
                "INSERT INTO matches (id, version, phase, record) VALUES (?, ?, ?, ?)",
                (match.id, match.version, match.phase.value, payload),
            )
        except sqlite3.IntegrityError:
            raise VersionConflict(f"{match.id} already exists") from None
        return
    cursor = db.execute(
        "UPDATE matches SET version = ?, phase = ?, record = ? WHERE id = ? AND version = ?",
        (match.version, match.phase.value, payload, match.id, expected_version),
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
