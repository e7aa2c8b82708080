"""Both stores honour the same contract: compare-and-set on the version, players by token."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from game.core.match import Match, PlayMove, Seat, TimeControl, handle, new_match
from game.store.base import PlayerRecord, Store, VersionConflict
from game.store.sqlite import SQLiteStore


def a_match(match_id: str = "m") -> Match:
    return new_match(match_id, "connect4", TimeControl(), 1_000, (Seat("a", "A"), Seat("b", "B")))


async def test_commit_is_compare_and_set(store: Store) -> None:
    match = a_match()
    await store.commit(match, 0)
    with pytest.raises(VersionConflict):
        await store.commit(match, 0)
    moved = handle(match, PlayMove("a", 3), 2_000).match
    await store.commit(moved, match.version)
    with pytest.raises(VersionConflict):
        await store.commit(replace(moved, version=moved.version + 1), match.version)
    loaded = await store.get_match("m")
    assert loaded == moved
    assert [m.id for m in await store.live_matches()] == ["m"]


async def test_concurrent_writers_never_fork_a_match(store: Store) -> None:
    match = a_match()
    await store.commit(match, 0)
    left = handle(match, PlayMove("a", 0), 2_000).match
    right = handle(match, PlayMove("a", 6), 2_000).match
    results = await asyncio.gather(
        store.commit(left, match.version), store.commit(right, match.version),
        return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert sum(isinstance(r, VersionConflict) for r in results) == 1
    stored = await store.get_match("m")
    assert stored is not None and stored.moves in ((0,), (6,))


async def test_many_commits_grouped_all_land(store: Store) -> None:
    matches = [a_match(f"m{i}") for i in range(200)]
    await asyncio.gather(*(store.commit(m, 0) for m in matches))
    assert len(await store.live_matches()) == 200


async def test_players_and_heartbeat(store: Store) -> None:
    assert await store.player_by_token_hash("h") is None
    await store.save_player(PlayerRecord("p1", "Ada", "h"))
    await store.save_player(PlayerRecord("p1", "Ada L.", "h"))
    assert await store.player_by_token_hash("h") == PlayerRecord("p1", "Ada L.", "h")
    assert await store.last_alive() is None
    await store.heartbeat(123)
    assert await store.last_alive() == 123


async def test_sqlite_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    first = SQLiteStore(path)
    await first.open()
    match = handle(a_match(), PlayMove("a", 3), 2_000).match
    await first.commit(a_match(), 0)
    await first.commit(match, 1)
    await first.close()
    second = SQLiteStore(path)
    await second.open()
    assert await second.get_match("m") == match
    await second.close()
