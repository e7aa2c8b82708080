"""History in the Redis store: each filter reads its own index, finished records
expire `history_days` after their end (real Redis expiry, and an injected clock for
the index), the indexes are pruned, and a crash before indexing is repaired."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from game.core.match import (
    Match,
    OfferRematch,
    PlayMove,
    Resign,
    Seat,
    TimeControl,
    handle,
    new_match,
)
from game.store.redis import RedisOptions, RedisStore
from game.store.redis.history import index_keys
from tests.redis_support import (  # noqa: F401
    RedisClusterProcs,
    RedisServer,
    redis_cluster_fixture,
    redis_fixture,
)

DAY_MS = 86_400_000


class Wall:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


def options(url: str, cluster: bool = False) -> RedisOptions:
    return RedisOptions(url=url, cluster=cluster, namespace="hy", timeout=2.0)


async def opened(url: str, cluster: bool = False, **kwargs: object) -> RedisStore:
    store = RedisStore(options(url, cluster), **kwargs)  # type: ignore[arg-type]
    await store.open()
    return store


def started(match_id: str, game: str = "connect4", a: str = "a", b: str = "b") -> Match:
    return new_match(match_id, game, TimeControl(), 1_000, (Seat(a, a.upper()), Seat(b, b.upper())))


async def finish(store: RedisStore, match: Match) -> Match:
    await store.commit(match, 0)
    moved = handle(match, PlayMove(match.seats[0].player, 0), 2_000).match  # type: ignore[union-attr]
    await store.commit(moved, match.version)
    done = handle(moved, Resign(moved.seats[1].player), 2_000).match  # type: ignore[union-attr]
    await store.commit(done, moved.version)
    return done


async def ids(store: RedisStore, **filters: object) -> list[str]:
    page = await store.finished_matches(**filters)  # type: ignore[arg-type]
    return [match.id for _, match in page.matches]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Polls `check` until it holds (Redis expires keys on its own clock)."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_each_filter_reads_its_index_and_pages_by_cursor(redis: RedisServer) -> None:
    wall = Wall()
    store = await opened(redis.url, now_ms=wall)
    for i in range(12):
        wall.now += i % 2  # pairs of ties on the end time: ordered by id
        game = "tictactoe" if i % 3 == 0 else "connect4"
        await finish(store, started(f"m{i:02}", game, "a", "z" if i % 4 == 0 else "b"))
    assert await ids(store, player="z") == ["m08", "m04", "m00"]
    assert await ids(store, game="tictactoe", player="z") == ["m00"]
    assert await ids(store, game="tictactoe") == ["m09", "m06", "m03", "m00"]
    seen: list[str] = []
    before: tuple[int, str] | None = None
    while True:
        page = await store.finished_matches(game="connect4", player="a", before=before,
                                            limit=3)
        seen += [match.id for _, match in page.matches]
        if not page.more:
            break
        before = (page.matches[-1][0], page.matches[-1][1].id)
    assert seen == ["m11", "m10", "m08", "m07", "m05", "m04", "m02", "m01"]
    keys = index_keys(store.keys, "connect4", ["a", "z"])
    inspect = redis.client()
    assert [inspect.zcard(key) for key in keys] == [12, 8, 12, 8, 3, 2]
    inspect.close()
    await store.close()


async def test_a_page_skips_and_drops_records_gone_before_their_entries(
        redis: RedisServer) -> None:
    wall = Wall()
    store = await opened(redis.url, now_ms=wall)
    for i in range(5):
        wall.now += 1
        await finish(store, started(f"m{i}"))
    inspect = redis.client()
    inspect.delete(store.keys.record("m3"), store.keys.record("m2"))  # as if expired
    page = await store.finished_matches(player="a", limit=2)
    assert [m.id for _, m in page.matches] == ["m4", "m1"] and page.more
    assert inspect.zrange(store.keys.ended_of(player="a"), 0, -1) == [b"m0", b"m1", b"m4"]
    inspect.close()
    await store.close()


async def test_finished_records_expire_and_their_index_entries_go(redis: RedisServer) -> None:
    """A tiny retention, real Redis expiry: the record, its patches and every index
    (which expire with the retention when nothing is added) are gone in time."""
    retention_ms = 400
    store = await opened(redis.url, history_days=retention_ms / DAY_MS)
    assert store.matches.finished_ttl_ms == retention_ms
    live = started("live", a="c", b="d")
    await store.commit(live, 0)
    await finish(store, started("old"))
    record = store.keys.record("old")
    ttl = int(await store.redis.call(lambda r: r.pttl(record)))
    assert 0 < ttl <= retention_ms
    keys = index_keys(store.keys, "connect4", ["a", "b"])

    async def gone() -> bool:
        return await store.get_match("old") is None and int(await store.redis.call(
            lambda r: r.exists(*keys, store.keys.history("old")))) == 0

    await eventually(gone)
    assert await ids(store) == [] and await ids(store, player="a") == []
    assert await store.get_match("live") == live  # unfinished records never expire
    assert int(await store.redis.call(lambda r: r.pttl(store.keys.record("live")))) == -1
    await store.close()


async def test_retention_counts_from_the_end_by_the_shared_clock(redis: RedisServer) -> None:
    wall = Wall()
    store = await opened(redis.url, now_ms=wall, history_days=1)
    old = await finish(store, started("old"))
    wall.now += DAY_MS // 2
    # a rematch offer rewrites the record: it keeps its end time and its expiry
    await store.commit(handle(old, OfferRematch("a"), 3_000).match, old.version)
    ttl = int(await store.redis.call(lambda r: r.pttl(store.keys.record("old"))))
    assert DAY_MS // 2 - 60_000 < ttl <= DAY_MS // 2
    page = await store.finished_matches()
    assert [(at, m.id) for at, m in page.matches] == [(wall.now - DAY_MS // 2, "old")]
    await finish(store, started("recent", b="c"))
    wall.now += DAY_MS // 2 + 1  # "old" is past the retention, "recent" is not
    assert await ids(store) == ["recent"]
    assert await ids(store, player="a") == ["recent"]
    await finish(store, started("newest", a="c", b="d"))  # a write prunes its indexes
    inspect = redis.client()
    for key in (store.keys.ended, store.keys.ended_of("connect4")):
        assert inspect.zscore(key, "old") is None
    assert inspect.zscore(store.keys.ended_of(player="a"), "old") is not None  # not written
    inspect.close()
    assert await ids(store) == ["newest", "recent"]
    await store.close()


async def test_kept_forever_without_a_retention(redis: RedisServer) -> None:
    store = await opened(redis.url)
    await finish(store, started("m"))
    inspect = redis.client()
    for key in [store.keys.record("m"), *index_keys(store.keys, "connect4", ["a", "b"])]:
        assert inspect.pttl(key) == -1
    inspect.close()
    await store.close()


async def test_a_crash_before_indexing_is_repaired_by_the_live_index(
        redis: RedisServer) -> None:
    wall = Wall()
    store = await opened(redis.url, now_ms=wall)
    ended_at = wall.now
    await finish(store, started("m"))
    keys = index_keys(store.keys, "connect4", ["a", "b"])

    for key in keys:  # as if its process died right after the commit script
        await store.redis.raw.zrem(key, "m")
    await store.redis.raw.zadd(store.keys.live, {"m": ended_at})
    assert await ids(store) == []
    wall.now += 5_000
    assert await store.live_matches() == []  # the restart's recovery
    page = await store.finished_matches(player="b")
    assert [(at, m.id) for at, m in page.matches] == [(ended_at, "m")]
    assert await store.matches.live_ids() == []
    await store.close()


async def test_history_on_a_cluster(redis_cluster: RedisClusterProcs) -> None:
    host, port = redis_cluster.startup[0]
    wall = Wall()
    store = await opened(f"redis://{host}:{port}", cluster=True, now_ms=wall, history_days=1)
    for i in range(6):
        wall.now += 1
        await finish(store, started(f"c{i}", b="bc"[i % 2]))
    assert await ids(store, player="c") == ["c5", "c3", "c1"]
    page = await store.finished_matches(limit=4)
    assert page.more and [m.id for _, m in page.matches] == ["c5", "c4", "c3", "c2"]
    assert page.matches[0][1].result is not None
    await store.close()
