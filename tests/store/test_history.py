"""Finished matches stay queryable: newest end first, filtered, paged by cursor, in
every store; SQLite adds its history columns to an older database and deletes matches
older than its retention."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from game.core.match import Match, PlayMove, Resign, Seat, TimeControl, handle, new_match
from game.core.ratings import Rating, rate_game
from game.store.base import PlayerRecord, Store
from game.store.memory import MemoryStore
from game.store.redis import RedisOptions, RedisStore
from game.store.sqlite import SQLiteStore
from tests.redis_support import RedisServer, redis_fixture  # noqa: F401


class Wall:
    """A settable wall clock for the stores' end times."""

    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path,
                    wall: Wall) -> AsyncIterator[Store]:
    made: Store
    if request.param == "memory":
        made = MemoryStore(wall_ms=wall)
    elif request.param == "sqlite":
        made = SQLiteStore(str(tmp_path / "db.sqlite3"), wall_ms=wall)
    else:
        redis: RedisServer = request.getfixturevalue("redis")
        made = RedisStore(RedisOptions(url=redis.url, namespace="h", timeout=1.0),
                          now_ms=wall)
    await made.open()
    yield made
    await made.close()


def started(match_id: str, game: str = "connect4", a: str = "a", b: str = "b") -> Match:
    return new_match(match_id, game, TimeControl(), 1_000, (Seat(a, a.upper()), Seat(b, b.upper())))


async def finish(store: Store, match: Match, now: int = 2_000) -> Match:
    await store.commit(match, 0)
    moved = handle(match, PlayMove(match.seats[0].player, 0), now).match  # type: ignore[union-attr]
    await store.commit(moved, match.version)
    done = handle(moved, Resign(moved.seats[1].player), now).match  # type: ignore[union-attr]
    await store.commit(done, moved.version)
    return done


async def test_finished_matches_newest_first_with_filters(any_store: Store, wall: Wall) -> None:
    for i, (game, b) in enumerate([("connect4", "b"), ("tictactoe", "c"), ("connect4", "c")]):
        wall.now = 1_000_000 + i
        await finish(any_store, started(f"m{i}", game, "a", b))
    await any_store.commit(started("live"), 0)
    page = await any_store.finished_matches(limit=10)
    assert [(at, m.id) for at, m in page.matches] == [
        (1_000_002, "m2"), (1_000_001, "m1"), (1_000_000, "m0")]
    assert not page.more
    assert page.matches[0][1].moves == (0,) and page.matches[0][1].result is not None
    games = await any_store.finished_matches(game="connect4")
    assert [m.id for _, m in games.matches] == ["m2", "m0"]
    of_c = await any_store.finished_matches(player="c")
    assert [m.id for _, m in of_c.matches] == ["m2", "m1"]
    both = await any_store.finished_matches(game="tictactoe", player="b")
    assert both.matches == []


async def test_pages_follow_the_cursor_without_gaps_or_repeats(any_store: Store,
                                                               wall: Wall) -> None:
    for i in range(7):
        wall.now = 5_000 + i // 2  # ties on the end time are ordered by id
        await finish(any_store, started(f"m{i}"))
    seen: list[str] = []
    before: tuple[int, str] | None = None
    while True:
        page = await any_store.finished_matches(before=before, limit=3)
        seen += [m.id for _, m in page.matches]
        if not page.more:
            break
        before = (page.matches[-1][0], page.matches[-1][1].id)
    assert seen == [f"m{i}" for i in reversed(range(7))]


async def test_a_rewritten_finished_match_keeps_its_end_time(any_store: Store,
                                                             wall: Wall) -> None:
    done = await finish(any_store, started("m"))
    wall.now += 60_000
    await any_store.commit(replace(done, version=done.version + 1, rematch=(True, False)),
                           done.version)
    page = await any_store.finished_matches()
    assert [(at, m.rematch) for at, m in page.matches] == [(1_000_000, (True, False))]


async def test_sqlite_migrates_an_older_database(tmp_path: Path, wall: Wall) -> None:
    path = tmp_path / "old.sqlite3"
    old = SQLiteStore(str(path), wall_ms=wall)
    await old.open()
    await finish(old, started("m0"))
    await old.close()
    with sqlite3.connect(path) as db:  # back to the schema before the history columns
        for index in ("ended", "game_ended", "player0", "player1"):
            db.execute(f"DROP INDEX matches_{index}")
        for column in ("game", "player0", "player1", "ended_at"):
            db.execute(f"ALTER TABLE matches DROP COLUMN {column}")
    store = SQLiteStore(str(path), wall_ms=wall)
    await store.open()
    try:
        page = await store.finished_matches(player="a")
        assert [(at, m.id) for at, m in page.matches] == [(1_000, "m0")]  # dated by its start
        await finish(store, started("m1"))
        assert [m.id for _, m in (await store.finished_matches()).matches] == ["m1", "m0"]
    finally:
        await store.close()


async def test_sqlite_sweep_deletes_only_expired_finished_matches(tmp_path: Path,
                                                                  wall: Wall) -> None:
    store = SQLiteStore(str(tmp_path / "db.sqlite3"), history_days=2, sweep_interval=0,
                        wall_ms=wall)
    await store.open()
    try:
        await finish(store, started("old"))
        wall.now += 86_400_000
        await finish(store, started("recent"))
        await store.commit(started("live"), 0)
        wall.now += 86_400_000 + 1  # "old" is now just over two days old
        await store.heartbeat(wall.now)  # any write; the sweep follows the batch
        await store.ping()
        assert [m.id for _, m in (await store.finished_matches()).matches] == ["recent"]
        assert await store.get_match("old") is None
        assert [m.id for m in await store.live_matches()] == ["live"]
    finally:
        await store.close()


@pytest.fixture
def rating_store(any_store: Store) -> Store:
    """Every store rates (Redis in a step right after the finishing commit)."""
    return any_store


async def players(store: Store, *ids: str, bot: bool = False) -> None:
    for player in ids:
        await store.save_player(PlayerRecord(player, player.upper(), f"h-{player}", bot))


async def test_a_rated_match_is_rated_once_however_often_it_is_written(
        rating_store: Store) -> None:
    await players(rating_store, "a", "b")
    done = await finish(rating_store, replace(started("m"), rated=True))  # b resigned
    await rating_store.commit(replace(done, version=done.version + 1, rematch=(True, False)),
                              done.version)
    won, lost = rate_game(Rating(), Rating(), 1.0)
    [a] = await rating_store.ratings_of("a")
    [b] = await rating_store.ratings_of("b")
    assert (a.rating, a.games, a.pool) == (won, 1, "human")
    assert (b.rating, b.games) == (lost, 1)
    board = await rating_store.leaderboard("connect4", "human", provisional=True, limit=10)
    assert [(entry.player, entry.name) for entry in board] == [("a", "A"), ("b", "B")]
    assert await rating_store.leaderboard("connect4", "human", provisional=False,
                                          limit=10) == []


async def test_unrated_matches_and_mixed_pools_are_not_rated(rating_store: Store) -> None:
    await players(rating_store, "a", "b", "c")
    await players(rating_store, "x", "y", bot=True)
    await finish(rating_store, started("unrated"))
    await finish(rating_store, replace(started("mixed", a="a", b="x"), rated=True))
    assert await rating_store.ratings_of("a") == []
    assert await rating_store.ratings_of("x") == []
    await finish(rating_store, replace(started("bots", a="x", b="y"), rated=True))
    [x] = await rating_store.ratings_of("x")
    assert x.pool == "bot" and x.games == 1
    record = await rating_store.player_by_id("x")
    assert record is not None and record.bot and record.name == "X"
