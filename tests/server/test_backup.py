"""`game backup` copies a live server's SQLite file mid-game, consistently, without
disturbing play; a server started on the copy resumes the match where the backup
saw it (the restore of docs/operations.md)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson

from tests.hostile.harness import Bystander
from tests.server.test_play import C4_WIN
from tests.support import ROOT, connect, play_out, seated, start_server

TIMEOUT = 60.0


async def backup(db: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Run `game backup` without blocking this loop (the bystander keeps playing)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "game", "backup", "--db", str(db), "--out", str(out),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert process.returncode is not None
    return subprocess.CompletedProcess([], process.returncode, stdout.decode(),
                                       stderr.decode())


def stored_match(db: Path, match: str) -> dict[str, object]:
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        row = copy.execute("SELECT version, record FROM matches WHERE id = ?",
                           (match,)).fetchone()
    assert row is not None, f"match {match} is not in {db}"
    record: dict[str, object] = orjson.loads(row[1])
    record["version"] = row[0]
    return record


async def test_a_backup_of_a_live_server_mid_game_restores_that_game(tmp_path: Path) -> None:
    db, copy = tmp_path / "live.sqlite3", tmp_path / "backup" / "copy.sqlite3"
    copy.parent.mkdir()
    server = start_server(tmp_path, db=str(db))
    try:
        async with Bystander(server) as bystander, connect(server) as a, \
                connect(server) as b:
            match, seats = await seated(a, b, "connect4")
            await play_out(seats, match, C4_WIN[:4])
            version = seats[0].versions[match]
            tokens = {seat: client.token for seat, client in seats.items()}
            before = bystander.moves
            done = await backup(db, copy)
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith(f"game backup: {db} -> {copy}: ")
            assert done.stdout.rstrip().endswith("quick_check ok")
            # play went on: the other match moved meanwhile, and this one moves after
            await bystander.wait_moves(2)
            await play_out(seats, match, C4_WIN[4:6])
        assert bystander.moves > before
    finally:
        server.stop()
    assert sorted(path.name for path in copy.parent.iterdir()) == ["copy.sqlite3"]
    saved = stored_match(copy, match)
    assert saved["version"] == version and saved["moves"] == C4_WIN[:4]
    assert stored_match(db, match)["moves"] == C4_WIN[:6]

    restored = start_server(tmp_path, db=str(copy))
    try:
        async with connect(restored) as a2, connect(restored) as b2:
            resumed = {0: a2, 1: b2}
            for seat, client in resumed.items():
                welcome = await client.hello(token=tokens[seat])
                assert match in welcome["matches"]
                snapshot = await client.expect(
                    lambda m: m.get("type") == "snapshot" and m.get("match") == match)
                assert snapshot["view"]["moves"] == C4_WIN[:4]
                assert snapshot["view"]["status"] == "active"
            await play_out(resumed, match, C4_WIN[4:])
            final = await a2.until_view(match, lambda view: view["status"] == "finished")
            assert final["result"]["winner"] == 0 and final["moves"] == C4_WIN
    finally:
        restored.stop()


def test_backup_refuses_what_it_cannot_copy(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "game", "backup", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=TIMEOUT)

    missing = run("--db", str(tmp_path / "none.sqlite3"), "--out", str(tmp_path / "x"))
    assert missing.returncode == 2
    assert missing.stderr == (f"game backup: --db {tmp_path / 'none.sqlite3'}: no such "
                              "database file\n")
    assert not (tmp_path / "none.sqlite3").exists()  # read-only: nothing was created
    memory = run("--db", ":memory:", "--out", str(tmp_path / "x"))
    assert memory.returncode == 2 and ":memory:" in memory.stderr
    sqlite3.connect(tmp_path / "real.sqlite3").close()
    nowhere = run("--db", str(tmp_path / "real.sqlite3"), "--out",
                  str(tmp_path / "no" / "x.sqlite3"))
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["real.sqlite3"]
