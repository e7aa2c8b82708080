"""`commit_many`: several matches stored all at once or not at all, on both stores; and
the start-up query for rematches that a crash left agreed but unstarted."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from game.core.match import (
    Match,
    OfferRematch,
    PlayMove,
    Seat,
    TimeControl,
    handle,
    new_match,
    rematch_of,
)
from game.store.base import Store, VersionConflict

TTT_WIN = [0, 3, 1, 4, 2]


def finished(match_id: str) -> Match:
    match = new_match(match_id, "tictactoe", TimeControl(), 1_000, (Seat("a", "A"), Seat("b", "B")))
    for turn, move in enumerate(TTT_WIN):
        match = handle(match, PlayMove("ab"[turn % 2], move), 2_000).match
    return match


def agreed(match: Match) -> Match:
    match = handle(match, OfferRematch("a"), 3_000).match
    return handle(match, OfferRematch("b"), 3_000).match


async def test_commit_many_is_all_or_nothing(store: Store) -> None:
    old = finished("old")
    await store.commit(old, 0)
    pointed, fresh = rematch_of(agreed(old), "new", 4_000)
    with pytest.raises(VersionConflict):  # the old match is not at that version
        await store.commit_many(((pointed, old.version + 5), (fresh, 0)))
    assert await store.get_match("new") is None
    assert await store.get_match("old") == old
    await store.commit(fresh, 0)
    with pytest.raises(VersionConflict):  # the new match exists already
        await store.commit_many(((pointed, old.version), (fresh, 0)))
    assert await store.get_match("old") == old


async def test_commit_many_stores_every_match(store: Store) -> None:
    old = finished("old")
    await store.commit(old, 0)
    pointed, fresh = rematch_of(agreed(old), "new", 4_000)
    await store.commit_many(((pointed, old.version), (fresh, 0)))
    assert await store.get_match("old") == pointed
    assert await store.get_match("new") == fresh
    assert [m.id for m in await store.live_matches()] == ["new"]


async def test_commit_many_among_other_commits(store: Store) -> None:
    """On SQLite the jobs of one group commit share a transaction: a refused
    `commit_many` undoes its own rows only."""
    others = [finished(f"m{i}") for i in range(20)]
    old = finished("old")
    await store.commit(old, 0)
    pointed, fresh = rematch_of(agreed(old), "new", 4_000)
    results = await asyncio.gather(
        *(store.commit(m, 0) for m in others),
        store.commit_many(((fresh, 0), (pointed, old.version + 1))),
        return_exceptions=True)
    assert isinstance(results[-1], VersionConflict)
    assert all(r is None for r in results[:-1])
    assert await store.get_match("new") is None
    for match in others:
        assert await store.get_match(match.id) == match


async def test_unstarted_rematches_are_found(store: Store) -> None:
    none = replace(agreed(finished("none")), next_match=None)
    ghost = replace(agreed(finished("ghost")), next_match="never-stored")
    started_old, started_new = rematch_of(agreed(finished("started")), "started-new", 4_000)
    offered = handle(finished("offered"), OfferRematch("a"), 3_000).match
    for match in (none, ghost, started_old, started_new, offered, finished("plain")):
        await store.commit(match, 0)
    found = sorted(m.id for m in await store.unstarted_rematches())
    assert found == ["ghost", "none"]
