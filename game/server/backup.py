"""`game backup`: a consistent copy of the SQLite database, safe while the server runs.

It uses SQLite's online backup API (`sqlite3.Connection.backup`) in one step: the
copy is read inside one read transaction, which in WAL mode (the server's) never
blocks the server's commits and sees every commit made before it began, those still
in the -wal file included. Copying the file with `cp` instead can tear a page
that is being written, or miss the commits still in the WAL.
The copy is written beside FILE and renamed over it only once it is complete and
passes `PRAGMA quick_check`, so FILE is never a half-written backup.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from pathlib import Path

EXIT_FAILED = 1
EXIT_BAD_ARGUMENTS = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from game.server.settings import default_db_path

    parser.description = ("Copy the server's SQLite database to FILE, consistently, "
                          "while the server runs (SQLite's online backup API).")
    parser.add_argument("--db", metavar="PATH", default=os.environ.get("GAME_DB"),
                        help=f"the database to copy (GAME_DB; default {default_db_path()})")
    parser.add_argument("--out", metavar="FILE", required=True,
                        help="where the copy goes; replaced once the copy is complete")
    parser.add_argument("--busy-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="how long to wait for a lock held by the server (default 30)")


def run(args: argparse.Namespace) -> int:
    from game.server.settings import default_db_path

    if args.db == ":memory:":
        sys.stderr.write("game backup: an in-memory database (:memory:) keeps nothing to "
                         "back up\n")
        return EXIT_BAD_ARGUMENTS
    source = Path(args.db or default_db_path()).expanduser().absolute()
    out = Path(args.out).expanduser().absolute()
    problem = _refusal(source, out)
    if problem is not None:
        sys.stderr.write(f"game backup: {problem}\n")
        return EXIT_BAD_ARGUMENTS
    try:
        pages, matches = backup(source, out, args.busy_timeout)
    except (sqlite3.Error, OSError) as error:
        sys.stderr.write(f"game backup: {source} could not be copied: {error}\n")
        return EXIT_FAILED
    size = out.stat().st_size
    sys.stdout.write(f"game backup: {source} -> {out}: {pages} pages, {size} bytes, "
                     f"{matches} matches, quick_check ok\n")
    return 0


def _refusal(source: Path, out: Path) -> str | None:
    if not source.is_file():
        return f"--db {source}: no such database file"
    if out == source:
        return "--out must not be the database itself"
    if not out.parent.is_dir():
        return f"--out {out}: directory {out.parent} does not exist"
    if out.is_dir():
        return f"--out {out} is a directory: name the backup file in it"
    return None


def backup(source: Path, out: Path, busy_timeout: float = 30.0) -> tuple[int, int]:
    """Copy `source` to `out`; returns the copy's page count and match count."""
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # read-only: a wrong --db must not create a database, nor write to the live one
        with contextlib.closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True,
                                                timeout=busy_timeout)) as src, \
                contextlib.closing(sqlite3.connect(partial)) as copy:
            src.backup(copy)  # pages=-1: one step, one consistent read transaction
            pages, matches = _check(copy)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return pages, matches


def _check(copy: sqlite3.Connection) -> tuple[int, int]:
    verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
    if verdict != "ok":
        raise sqlite3.DatabaseError(f"the copy fails quick_check: {verdict}")
    pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
    has_matches = copy.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'matches'").fetchone()
    matches = copy.execute("SELECT count(*) FROM matches").fetchone()[0] if has_matches else 0
    return pages, int(matches)
