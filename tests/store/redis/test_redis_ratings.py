"""Ratings in the Redis store: a finished rated match rates both players exactly once,
whatever runs again, races or crashed in between; pools, unrated matches and the
leaderboards (the same contract as the SQLite store's, tested on both here)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from game.core.match import (
    Adjudicate,
    Match,
    OfferRematch,
    PlayMove,
    Reason,
    Resign,
    Seat,
    TimeControl,
    handle,
    new_match,
)
from game.core.ratings import Rating, is_provisional, rate_game
from game.core.records import to_record
from game.store.base import PlayerRating, PlayerRecord, Store, VersionConflict
from game.store.redis import RedisOptions, RedisStore, Write
from game.store.redis.ratings import Outcome
from game.store.sqlite import SQLiteStore
from tests.redis_support import (  # noqa: F401
    RedisClusterProcs,
    RedisServer,
    redis_cluster_fixture,
    redis_fixture,
)


def options(url: str, cluster: bool = False, namespace: str = "r") -> RedisOptions:
    return RedisOptions(url=url, cluster=cluster, namespace=namespace, timeout=2.0)


async def opened(url: str, cluster: bool = False, namespace: str = "r") -> RedisStore:
    store = RedisStore(options(url, cluster, namespace))
    await store.open()
    return store


@pytest.fixture
async def store(redis: RedisServer) -> AsyncIterator[RedisStore]:
    made = await opened(redis.url)
    yield made
    await made.close()


async def players(store: Store, *ids: str, bot: bool = False) -> None:
    for player in ids:
        await store.save_player(PlayerRecord(player, player.upper(), f"h-{player}", bot))


def started(match_id: str, a: str = "a", b: str = "b", rated: bool = True,
            game: str = "connect4") -> Match:
    match = new_match(match_id, game, TimeControl(), 1_000, (Seat(a, a.upper()),
                                                        Seat(b, b.upper())))
    return replace(match, rated=rated)


def ended(match: Match, winner: int | None) -> Match:
    """`match` after one move, won by seat `winner` (resignation) or drawn (None)."""
    moved = handle(match, PlayMove(match.seats[0].player, 0), 2_000).match  # type: ignore[union-attr]
    if winner is None:
        return handle(moved, Adjudicate(Reason.ADJUDICATED), 2_000).match
    loser = moved.seats[1 - winner]
    assert loser is not None
    return handle(moved, Resign(loser.player), 2_000).match


async def play(store: Store, match: Match, winner: int | None = 0) -> Match:
    """Commits `match` from its start to its end, as the server does."""
    await store.commit(match, 0)
    done = ended(match, winner)
    await store.commit(done, match.version)
    return done


async def commit_without_rating(store: RedisStore, match: Match, winner: int = 0) -> Match:
    """The commits of a whole match through `MatchRecords` only: what a process that
    died right after its finishing commit left in Redis."""
    await store.commit(match, 0)
    done = ended(match, winner)
    players_of = tuple(seat.player for seat in done.seats if seat is not None)
    await store.matches.commit([Write(done.id, match.version, done.version, done.phase.value,
                                      orjson.dumps(to_record(done)), None, done.game,
                                      players_of, rated=True)])
    return done


async def rating(store: Store, player: str, game: str = "connect4") -> PlayerRating | None:
    found = [entry for entry in await store.ratings_of(player) if entry.game == game]
    assert len(found) <= 1
    return found[0] if found else None


async def due(store: RedisStore) -> int:
    return int(await store.redis.call(lambda r: r.zcard(store.keys.rating_due)))


WON, LOST = rate_game(Rating(), Rating(), 1.0)


async def test_a_rated_match_rates_both_players_once(store: RedisStore) -> None:
    await players(store, "a", "b")
    done = await play(store, started("m"))
    a, b = await rating(store, "a"), await rating(store, "b")
    assert a is not None and b is not None
    assert (a.rating, a.games, a.pool) == (WON, 1, "human")
    assert (b.rating, b.games, b.pool) == (LOST, 1, "human")
    assert await due(store) == 0
    stored = await store.matches.record("m")
    assert stored is not None and stored.rated
    # run again in every way: the rating step, the sweep, a rewrite of the finished match
    assert await store.ratings.settle("m") is Outcome.DONE
    assert await store.apply_pending_ratings() == 0
    offered = handle(done, OfferRematch("a"), 3_000).match
    await store.commit(offered, done.version)
    assert await store.ratings.apply(done, "human") is False  # the marker refuses it
    assert await store.ratings_of("a") == [a] and await store.ratings_of("b") == [b]
    assert await due(store) == 0


async def test_a_crash_between_commit_and_rating_is_repaired_exactly_once(
        redis: RedisServer) -> None:
    processes = [await opened(redis.url) for _ in range(3)]
    first = processes[0]
    await players(first, "a", "b", "c", "d")
    await commit_without_rating(first, started("m1", "a", "b"))
    await commit_without_rating(first, started("m2", "c", "d"), winner=1)
    assert await first.ratings_of("a") == [] and await due(first) == 2
    # every process sweeps at start-up, at once
    applied = await asyncio.gather(*(p.apply_pending_ratings() for p in processes))
    assert sum(applied) == 2
    assert [(await rating(first, p)).rating for p in "abcd"] == [  # type: ignore[union-attr]
        WON, LOST, LOST, WON]
    assert [(await rating(first, p)).games for p in "abcd"] == [1] * 4  # type: ignore[union-attr]
    assert await due(first) == 0
    assert sum(await asyncio.gather(*(p.apply_pending_ratings() for p in processes))) == 0
    assert (await rating(first, "a")).games == 1  # type: ignore[union-attr]
    for process in processes:
        await process.close()


async def test_a_crash_after_the_rating_script_does_not_rate_again(store: RedisStore) -> None:
    await players(store, "a", "b")
    done = await commit_without_rating(store, started("m"))
    assert await store.ratings.apply(done, "human") is True  # then the process died
    stored = await store.matches.record("m")
    assert stored is not None and not stored.rated and await due(store) == 1
    assert await store.apply_pending_ratings() == 0
    a = await rating(store, "a")
    assert a is not None and (a.rating, a.games) == (WON, 1)
    stored = await store.matches.record("m")
    assert stored is not None and stored.rated and await due(store) == 0


async def test_a_refused_finishing_commit_leaves_nothing_due_for_long(
        redis: RedisServer) -> None:
    now = [1_000_000]
    store = RedisStore(options(redis.url), now_ms=lambda: now[0])
    await store.open()
    await players(store, "a", "b")
    match = started("m")
    await store.commit(match, 0)
    with pytest.raises(VersionConflict):
        await store.commit(ended(match, 0), match.version + 5)  # a stale writer
    assert await due(store) == 1  # indexed before the script, which refused it
    assert await store.apply_pending_ratings() == 0 and await due(store) == 1
    now[0] += 60_001
    assert await store.apply_pending_ratings() == 0 and await due(store) == 0
    await store.commit(ended(match, 0), match.version)  # it finishes after all
    assert (await rating(store, "a")).games == 1  # type: ignore[union-attr]
    await store.close()


async def test_pools_apart_and_matches_that_do_not_count(store: RedisStore) -> None:
    await players(store, "a", "b", "c")
    await players(store, "x", "y", bot=True)
    await play(store, started("unrated", rated=False))
    await play(store, started("mixed", "a", "x"))
    aborted = started("aborted")
    await store.commit(aborted, 0)
    await store.commit(handle(aborted, Adjudicate(Reason.ABORTED), 2_000).match, 1)
    builtin = new_match("builtin", "connect4", TimeControl(), 1_000,
                        (Seat("a", "A"), Seat("bot-1", "Bot", bot="easy")))
    await play(store, replace(builtin, rated=True))
    await play(store, started("self", "c", "c"))
    for player in ("a", "c", "x", "bot-1"):
        assert await store.ratings_of(player) == []
    assert await due(store) == 0
    await play(store, started("bots", "x", "y"))
    await play(store, started("humans", "a", "b"), winner=1)
    x, a = await rating(store, "x"), await rating(store, "a")
    assert x is not None and (x.pool, x.rating, x.games) == ("bot", WON, 1)
    assert a is not None and (a.pool, a.rating, a.games) == ("human", LOST, 1)
    humans = await store.leaderboard("connect4", "human", provisional=True, limit=10)
    bots = await store.leaderboard("connect4", "bot", provisional=True, limit=10)
    assert [(e.player, e.name) for e in humans] == [("b", "B"), ("a", "A")]
    assert [(e.player, e.name) for e in bots] == [("x", "X"), ("y", "Y")]
    assert await store.leaderboard("tictactoe", "human", provisional=True, limit=10) == []


async def test_ratings_per_game_listed_by_game(store: RedisStore) -> None:
    await players(store, "a", "b")
    await play(store, started("c4", game="connect4"))
    await play(store, started("ttt", game="tictactoe"), winner=1)
    entries = await store.ratings_of("a")
    assert [(e.game, e.rating, e.games) for e in entries] == [
        ("connect4", WON, 1), ("tictactoe", LOST, 1)]


@pytest.fixture(params=["sqlite", "redis"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    made: Store
    if request.param == "sqlite":
        made = SQLiteStore(str(tmp_path / "db.sqlite3"))
        await made.open()
    else:
        made = await opened(request.getfixturevalue("redis").url)
    yield made
    await made.close()


async def test_leaderboards_rank_established_players_apart(any_store: Store) -> None:
    """Both stores: 15 games make two players established (RD under 110); two new
    players who drew tie at 1500 and are listed by id; `limit` cuts the list."""
    await players(any_store, "a", "b", "c", "d")
    expected = (Rating(), Rating())
    for i in range(15):
        winner = 0 if i % 3 == 0 else None
        await play(any_store, started(f"ab{i}", "a", "b"), winner)
        expected = rate_game(*expected, 1.0 if winner == 0 else 0.5)
    assert not is_provisional(expected[0])
    await play(any_store, started("dc", "d", "c"), None)
    ranked = await any_store.leaderboard("connect4", "human", provisional=False, limit=10)
    assert [(e.player, e.name, e.rating, e.games) for e in ranked] == [
        ("a", "A", expected[0], 15), ("b", "B", expected[1], 15)]
    provisional = await any_store.leaderboard("connect4", "human", provisional=True, limit=10)
    assert [(e.player, e.rating.rating, e.games) for e in provisional] == [
        ("c", 1500.0, 1), ("d", 1500.0, 1)]
    assert [e.player for e in await any_store.leaderboard(
        "connect4", "human", provisional=True, limit=1)] == ["c"]
    assert [(e.game, e.pool, e.games) for e in await any_store.ratings_of("a")] == [
        ("connect4", "human", 15)]


# ---- on a Cluster ------------------------------------------------------------------------


async def test_rating_on_a_cluster(redis_cluster: RedisClusterProcs) -> None:
    """Players' ratings on another slot than their match: concurrent finishes with a
    player in common are both rated, a crash is repaired once, the boards read back."""
    host, port = redis_cluster.startup[2]
    url = f"redis://{host}:{port}"
    processes = [await opened(url, cluster=True, namespace="rc") for _ in range(2)]
    first = processes[0]
    await players(first, "a", "b", "c", "d", "e")
    keys = [first.keys.record("ab"), first.keys.rating("connect4", "human", "a")]
    assert not first.redis.same_slot(keys)
    ab, ac = started("ab", "a", "b"), started("ac", "a", "c")
    await first.commit(ab, 0)
    await first.commit(ac, 0)
    await asyncio.gather(processes[0].commit(ended(ab, 0), ab.version),
                         processes[1].commit(ended(ac, 0), ac.version))
    a = await rating(first, "a")
    assert a is not None and a.games == 2
    # whichever was rated first, `a` beat a new player twice
    assert a.rating == rate_game(WON, Rating(), 1.0)[0]
    assert [(await rating(first, p)).games for p in "bc"] == [1, 1]  # type: ignore[union-attr]
    await commit_without_rating(first, started("de", "d", "e"))
    assert await rating(first, "d") is None
    assert sum(await asyncio.gather(*(p.apply_pending_ratings() for p in processes))) == 1
    assert sum(await asyncio.gather(*(p.apply_pending_ratings() for p in processes))) == 0
    d = await rating(first, "d")
    assert d is not None and (d.rating, d.games) == (WON, 1)
    board = await first.leaderboard("connect4", "human", provisional=True, limit=10)
    assert [e.player for e in board][:2] == ["a", "d"]
    assert sorted(e.player for e in board) == ["a", "b", "c", "d", "e"]
    for process in processes:
        await process.close()



async def test_many_finishes_with_one_player_in_common_all_count(redis: RedisServer) -> None:
    """Twelve matches of `a` end at once on four processes: each compare that fails
    reads again, so every one counts once (the sweep takes any left over)."""
    processes = [await opened(redis.url) for _ in range(4)]
    opponents = [f"o{i}" for i in range(12)]
    await players(processes[0], "a", *opponents)
    matches = [started(f"m{i}", "a", other) for i, other in enumerate(opponents)]
    for match in matches:
        await processes[0].commit(match, 0)
    await asyncio.gather(*(processes[i % 4].commit(ended(match, 1), match.version)
                           for i, match in enumerate(matches)))
    await processes[1].apply_pending_ratings()
    a = await rating(processes[0], "a")
    assert a is not None and a.games == 12
    assert [(await rating(processes[0], o)).games for o in opponents] == [1] * 12  # type: ignore[union-attr]
    assert a.rating.rating < LOST.rating  # twelve losses
    markers = processes[0].keys.rated("connect4", "human")
    assert int(await processes[0].redis.call(lambda r: r.zcard(markers))) == 12
    for process in processes:
        await process.close()
