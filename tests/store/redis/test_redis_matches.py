"""The commit script, the patch history, `RedisStore` on a real redis-server (and the
script on a 3-master Cluster); a restart keeps what was acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from game.core.match import (
    Match,
    OfferRematch,
    Phase,
    PlayMove,
    Seat,
    TimeControl,
    handle,
    new_match,
    rematch_of,
)
from game.store.base import PlayerRecord, VersionConflict
from game.store.redis import (
    CrossSlotCommit,
    Patches,
    RedisClient,
    RedisOptions,
    RedisStore,
    StoreUnavailable,
    rematch_id,
)
from tests.redis_support import (  # noqa: F401
    RedisClusterProcs,
    RedisServer,
    redis_cluster_fixture,
    redis_fixture,
)

TTT_WIN = [0, 3, 1, 4, 2]


def a_match(match_id: str = "m", game: str = "connect4") -> Match:
    return new_match(match_id, game, TimeControl(), 1_000, (Seat("a", "A"), Seat("b", "B")))


def options(url: str, cluster: bool = False, namespace: str = "t") -> RedisOptions:
    return RedisOptions(url=url, cluster=cluster, namespace=namespace, timeout=1.0,
                        socket_timeout=0.5, connect_timeout=0.25)


@pytest.fixture
async def store(redis: RedisServer) -> AsyncIterator[RedisStore]:
    made = RedisStore(options(redis.url))
    await made.open()
    yield made
    await made.close()


async def test_commit_is_compare_and_set(store: RedisStore) -> None:
    match = a_match()
    await store.commit(match, 0)
    with pytest.raises(VersionConflict):
        await store.commit(replace(match, watchers=3), 0)
    await store.commit(match, 0)  # the very same write again: a retried call succeeds
    moved = handle(match, PlayMove("a", 3), 2_000).match
    await store.commit(moved, match.version)
    with pytest.raises(VersionConflict):
        await store.commit(replace(moved, version=moved.version + 1), match.version)
    assert await store.get_match("m") == moved
    assert [m.id for m in await store.live_matches()] == ["m"]
    assert await store.get_match("nope") is None


async def test_two_commits_for_one_version_exactly_one_wins(redis: RedisServer) -> None:
    stores = [RedisStore(options(redis.url)) for _ in range(4)]
    for one in stores:
        await one.open()
    match = a_match()
    await stores[0].commit(match, 0)
    for round_ in range(20):
        current = await stores[0].get_match("m")
        assert current is not None
        left = replace(current, watchers=round_ * 2 + 1, version=current.version + 1)
        right = replace(current, watchers=round_ * 2 + 2, version=current.version + 1)
        results = await asyncio.gather(
            stores[1].commit(left, current.version), stores[2].commit(right, current.version),
            return_exceptions=True)
        assert sum(r is None for r in results) == 1, results
        assert sum(isinstance(r, VersionConflict) for r in results) == 1
    stored = await stores[3].get_match("m")
    assert stored is not None and stored.version == match.version + 20
    for one in stores:
        await one.close()


async def test_history_keeps_the_recent_patches(redis: RedisServer) -> None:
    store = RedisStore(options(redis.url), history_limit=3)
    await store.open()
    match = a_match()
    await store.commit(match, 0, Patches(match.version, 10, b"v1"))
    for step in range(5):
        moved = replace(match, watchers=step + 1, version=match.version + 1)
        await store.commit(moved, match.version, Patches(moved.version, 20 + step, b"p%d" % step))
        match = moved
    current = match.version
    assert await store.patches_since("m", current, current) == []
    got = await store.patches_since("m", current - 3, current)
    assert got is not None and [p.payload for p in got] == [b"p2", b"p3", b"p4"]
    assert [p.version for p in got] == [current - 2, current - 1, current]
    assert got[0].at == 22
    assert await store.patches_since("m", current - 4, current) is None  # trimmed
    assert await store.patches_since("m", current + 1, current) is None
    await store.close()


def finished(match_id: str) -> Match:
    match = a_match(match_id, "tictactoe")
    for turn, move in enumerate(TTT_WIN):
        match = handle(match, PlayMove("ab"[turn % 2], move), 2_000).match
    return match


async def test_rematch_is_one_atomic_commit(store: RedisStore) -> None:
    old = finished("old")
    await store.commit(old, 0)
    assert old.phase is Phase.FINISHED and await store.live_matches() == []
    offered = handle(handle(old, OfferRematch("a"), 3_000).match, OfferRematch("b"), 3_000).match
    taken = rematch_of(offered, rematch_id(old.id), 3_000)
    await store.commit(replace(taken[1], watchers=1), 0)
    with pytest.raises(VersionConflict):  # the new id is taken: nothing is written
        await store.commit_many(((taken[0], old.version), (taken[1], 0)))
    assert await store.get_match(old.id) == old
    pointed, fresh = rematch_of(offered, rematch_id(old.id), 3_000)
    assert fresh.id.startswith("old.")
    await store.commit_many(((pointed, old.version), (fresh, 0)))
    assert await store.get_match(old.id) == pointed
    assert sorted(m.id for m in await store.live_matches()) == sorted([fresh.id, taken[1].id])
    assert await store.unstarted_rematches() == []


async def test_players_and_heartbeat(store: RedisStore) -> None:
    assert await store.player_by_token_hash("h") is None
    await store.save_player(PlayerRecord("p1", "Ada", "h"))
    await store.save_player(PlayerRecord("p2", "Ada L.", "h"))
    assert await store.player_by_token_hash("h") == PlayerRecord("p1", "Ada L.", "h")
    assert await store.last_alive() is None
    await store.heartbeat(123)
    await store.heartbeat(100)  # another process, a little behind: the latest is kept
    assert await store.last_alive() == 123


async def test_finished_matches_leave_the_live_index(store: RedisStore) -> None:
    match = a_match("x", "tictactoe")
    await store.commit(match, 0)
    for turn, move in enumerate(TTT_WIN):
        moved = handle(match, PlayMove("ab"[turn % 2], move), 2_000).match
        await store.commit(moved, match.version)
        match = moved
    assert match.phase is Phase.FINISHED
    assert await store.live_matches() == []
    assert await store.matches.live_ids() == []


async def test_restart_keeps_commits_and_outage_raises_in_time(redis: RedisServer) -> None:
    store = RedisStore(options(redis.url))
    await store.open()
    match = handle(a_match(), PlayMove("a", 3), 2_000).match
    await store.commit(a_match(), 0)
    await store.commit(match, 1)
    redis.stop()
    for operation in (store.get_match("m"), store.commit(match, 2), store.live_matches()):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await operation
        assert time.monotonic() - started < store.redis.timeout + 0.5
    redis.start()  # same port and dir: the AOF is replayed
    assert await store.get_match("m") == match
    assert [m.id for m in await store.live_matches()] == ["m"]
    await store.close()


async def test_a_hung_server_times_out(redis: RedisServer) -> None:
    store = RedisStore(options(redis.url))
    await store.open()
    assert redis.process is not None
    redis.process.send_signal(19)  # SIGSTOP: connected, never answers
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.get_match("m")
        assert time.monotonic() - started < store.redis.timeout + 0.5
    finally:
        redis.process.send_signal(18)  # SIGCONT
    await store.close()


# ---- on a Cluster ------------------------------------------------------------------------


async def test_commit_script_on_a_cluster(redis_cluster: RedisClusterProcs) -> None:
    host, port = redis_cluster.startup[0]
    store = RedisStore(options(f"redis://{host}:{port}", cluster=True, namespace="cm"))
    await store.open()
    matches = [a_match(f"c{i}") for i in range(30)]  # spread over the three masters
    await asyncio.gather(*(store.commit(m, 0) for m in matches))
    assert sorted(m.id for m in await store.live_matches()) == sorted(m.id for m in matches)
    one = matches[0]
    left = replace(one, watchers=1, version=one.version + 1)
    right = replace(one, watchers=2, version=one.version + 1)
    results = await asyncio.gather(store.commit(left, one.version),
                                   store.commit(right, one.version), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert sum(isinstance(r, VersionConflict) for r in results) == 1
    old = finished("cold")
    await store.commit(old, 0)
    offered = handle(handle(old, OfferRematch("a"), 3_000).match, OfferRematch("b"), 3_000).match
    pointed, fresh = rematch_of(offered, rematch_id(old.id), 3_000)
    await store.commit_many(((pointed, old.version), (fresh, 0)))
    assert await store.get_match(fresh.id) == fresh
    other_slot = next(f"z{i}" for i in range(100)
                      if not store.redis.same_slot([store.keys.record(f"z{i}"),
                                                    store.keys.record("cold")]))
    _, elsewhere = rematch_of(pointed, other_slot, 3_000)
    with pytest.raises(CrossSlotCommit):
        await store.commit_many(((pointed, pointed.version), (elsewhere, 0)))
    await store.close()


async def test_client_open_fails_fast_without_redis() -> None:
    from tests.redis_support import free_port
    client = RedisClient(options(f"redis://127.0.0.1:{free_port()}/0"))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        await client.open()
    assert time.monotonic() - started < 1.5
    await client.close()
