"""The per-process subscriber: patches published by the commit script reach it; it
survives its connection being killed and Redis restarting, and reports the gap; on a
Cluster each match is subscribed on the master owning its slot. Notices to players."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from game.core.match import Match, Phase, Seat, TimeControl, new_match
from game.store.redis import (
    FeedSettings,
    Inbox,
    MatchFeed,
    Patches,
    RedisOptions,
    RedisStore,
    StoreUnavailable,
)
from tests.redis_support import (  # noqa: F401
    RedisClusterProcs,
    RedisServer,
    redis_cluster_fixture,
    redis_fixture,
)

FAST = FeedSettings(ping_seconds=0.2, dead_after=1.0, backoff_first=0.02, backoff_max=0.2)


def a_match(match_id: str) -> Match:
    return new_match(match_id, "connect4", TimeControl(), 1_000, (Seat("a", "A"), Seat("b", "B")))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


class Seen:
    def __init__(self) -> None:
        self.patches: list[tuple[str, int]] = []
        self.gaps: list[str] = []

    def patch(self, match_id: str, patches: Patches) -> None:
        self.patches.append((match_id, patches.version))

    def gap(self, match_id: str) -> None:
        self.gaps.append(match_id)


async def bump(store: RedisStore, match: Match) -> Match:
    moved = replace(match, watchers=match.watchers + 1, version=match.version + 1)
    await store.commit(moved, match.version, Patches(moved.version, 0, b"{}"))
    return moved


async def test_a_commit_reaches_every_follower_but_its_own_process(redis: RedisServer) -> None:
    """Two processes follow a match: a commit made by one is sent to the other only;
    one that stops following is sent nothing more; the set of followers expires with
    the finished match's record."""
    store = RedisStore(RedisOptions(url=redis.url, namespace="t"), history_days=1.0)
    await store.open()
    here, there = Seen(), Seen()
    mine = MatchFeed(store.redis, here.patch, here.gap, FAST, follower="here")
    theirs = MatchFeed(store.redis, there.patch, there.gap, FAST, follower="there")
    match = a_match("f")
    await mine.add("f")  # before the match is stored, as a process creating it does
    await store.commit(match, 0, committer="here")
    await theirs.add("f")
    moved = replace(match, watchers=1, version=match.version + 1)
    await store.commit(moved, match.version, Patches(moved.version, 0, b"{}"), committer="here")
    await until(lambda: there.patches == [("f", moved.version)])
    again = replace(moved, watchers=2, version=moved.version + 1)
    await store.commit(again, moved.version, Patches(again.version, 0, b"{}"),
                       committer="there")
    await until(lambda: here.patches == [("f", again.version)])
    assert there.patches == [("f", moved.version)]  # its own commit did not come back

    await theirs.remove("f")
    admin = redis.client()
    followers = store.keys.followers("f")
    assert admin.smembers(followers) == {b"here"}
    assert admin.ttl(followers) == -1  # a live match's followers are kept
    ended = replace(again, phase=Phase.FINISHED, version=again.version + 1)
    await store.commit(ended, again.version, Patches(ended.version, 0, b"{}"), committer="here")
    assert admin.pttl(followers) > 0  # and expires with the record
    assert abs(admin.pttl(followers) - admin.pttl(store.keys.record("f"))) < 1000
    assert there.patches == [("f", moved.version)]
    await mine.close()
    await theirs.close()
    await store.close()
    admin.close()


async def test_feed_survives_kill_and_restart(redis: RedisServer) -> None:
    store = RedisStore(RedisOptions(url=redis.url, namespace="t"))
    await store.open()
    seen = Seen()
    feed = MatchFeed(store.redis, seen.patch, seen.gap, FAST)
    match, other = a_match("m"), a_match("o")
    await store.commit(match, 0)
    await store.commit(other, 0)
    await feed.add("m")
    match = await bump(store, match)
    other = await bump(store, other)  # not served here
    await until(lambda: seen.patches == [("m", match.version)])

    # the server kills the pub/sub connection: the feed comes back and says so
    admin = redis.client()
    assert admin.client_kill_filter(_type="pubsub") >= 1
    await until(lambda: seen.gaps == ["m"])
    match = await bump(store, match)
    await until(lambda: seen.patches[-1] == ("m", match.version))

    # Redis restarts (AOF kept): the same
    redis.restart()
    await until(lambda: seen.gaps == ["m", "m"])
    match = await bump(store, match)  # the store's pooled connections reconnect too
    await until(lambda: seen.patches[-1] == ("m", match.version))
    assert feed.fanout.connections == 3

    await feed.add("o")
    await feed.remove("m")
    match = await bump(store, match)
    other = await bump(store, other)
    await until(lambda: seen.patches[-1] == ("o", other.version))
    assert ("m", match.version) not in seen.patches
    assert feed.serving() == ["o"]
    await feed.close()
    await store.close()
    admin.close()


async def test_add_while_redis_is_down_reports_the_gap_later(redis: RedisServer) -> None:
    seen = Seen()
    store = RedisStore(RedisOptions(url=redis.url, namespace="t"))
    feed = MatchFeed(store.redis, seen.patch, seen.gap,
                     replace(FAST, subscribe_timeout=0.3))
    redis.stop()
    with pytest.raises(StoreUnavailable):
        await feed.add("m")
    redis.start()
    await until(lambda: seen.gaps == ["m"])
    await store.open()
    await store.commit(a_match("m"), 0, Patches(1, 0, b"{}"))
    await until(lambda: seen.patches == [("m", 1)])
    await feed.close()
    await store.close()


async def test_inbox_reaches_the_players_process(redis: RedisServer) -> None:
    store = RedisStore(RedisOptions(url=redis.url, namespace="t"))
    await store.open()
    got: list[tuple[str, bytes]] = []
    here = Inbox(store.redis, lambda player, data: got.append((player, data)),
                 lambda player: None, FAST)
    await here.listen("p1")
    assert await here.send("p1", b"paired:m1") == 1
    assert await here.send("p2", b"nobody") == 0
    await until(lambda: got == [("p1", b"paired:m1")])
    await here.stop("p1")
    assert await here.send("p1", b"late") == 0
    await here.close()
    await store.close()


async def test_feed_on_a_cluster(redis_cluster: RedisClusterProcs) -> None:
    host, port = redis_cluster.startup[0]
    store = RedisStore(RedisOptions(url=f"redis://{host}:{port}", cluster=True,
                                    namespace="fc"))
    await store.open()
    seen = Seen()
    feed = MatchFeed(store.redis, seen.patch, seen.gap, FAST)
    matches = [a_match(f"f{i}") for i in range(12)]
    for match in matches:
        await store.commit(match, 0)
        await feed.add(match.id)
    assert len(feed.fanout.nodes) == 3  # one subscriber per master
    matches = [await bump(store, match) for match in matches]
    await until(lambda: len(seen.patches) == len(matches))
    assert sorted(seen.patches) == sorted((m.id, m.version) for m in matches)

    victim = redis_cluster.nodes[1]
    admin = victim.client()
    assert admin.client_kill_filter(_type="pubsub") == 1
    on_victim = {m.id for m in matches
                 if feed.fanout._route[store.keys.channel(m.id, feed.follower).encode()].endswith(
                     f":{victim.port}")}
    await until(lambda: set(seen.gaps) == on_victim)
    matches = [await bump(store, match) for match in matches]
    await until(lambda: len(seen.patches) == 2 * len(matches))
    await feed.close()
    await store.close()
    admin.close()
