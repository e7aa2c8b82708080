"""Presence leases, watcher counts, bot turn leases, deadlines and the shared clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from game.store.redis import (
    BotLeases,
    Deadlines,
    Presence,
    RedisClient,
    RedisClock,
    RedisOptions,
    Watchers,
)
from tests.redis_support import (  # noqa: F401
    RedisClusterProcs,
    RedisServer,
    redis_cluster_fixture,
    redis_fixture,
)

NOW = 1_000_000


@pytest.fixture
async def client(redis: RedisServer) -> AsyncIterator[RedisClient]:
    made = RedisClient(RedisOptions(url=redis.url, namespace="t"))
    await made.open()
    yield made
    await made.close()


async def wait_until(check: object, timeout: float = 5.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def presence_lapses(client: RedisClient) -> None:
    a = Presence(client, "proc-a", ttl_ms=3_000, buckets=4)
    b = Presence(client, "proc-b", ttl_ms=3_000, buckets=4)
    assert await a.renew(NOW) is False  # first registration
    await b.renew(NOW)
    await a.hold("m1", 0, NOW)
    await b.hold("m1", 0, NOW)
    await a.hold("m2", 1, NOW)
    assert await a.release("m1", 0) is False  # b still holds it
    assert await a.lapsed(NOW + 1_000) == []
    assert await b.renew(NOW + 2_500) is True
    # a dies (stops renewing): its seats lapse, b's do not
    assert await b.lapsed(NOW + 3_001) == [("m2", 1)]
    assert await b.lapsed(NOW + 3_002, retry_ms=1_000) == []  # handed out already
    assert await b.renew(NOW + 5_000) and await b.renew(NOW + 7_500)
    assert await b.lapsed(NOW + 9_000) == [("m2", 1)]  # not settled: handed out again
    await b.settled([("m2", 1)])
    assert await b.lapsed(NOW + 20_000) == [("m1", 0)]  # b died too
    assert not await b.held("m1", 0)
    # a comes back after a pause: told it lapsed, it holds its seats again
    assert await a.renew(NOW + 20_000) is False
    await a.hold("m1", 0, NOW + 20_000)
    assert await a.lapsed(NOW + 20_001) == []  # held again: no longer offline-pending
    assert await a.held("m1", 0)
    assert await a.release("m1", 0) is True


async def test_presence_leases_lapse(client: RedisClient) -> None:
    await presence_lapses(client)


async def test_presence_on_a_cluster(redis_cluster: RedisClusterProcs) -> None:
    host, port = redis_cluster.startup[2]
    client = RedisClient(RedisOptions(url=f"redis://{host}:{port}", cluster=True,
                                      namespace="pl"))
    await client.open()
    await presence_lapses(client)
    await client.close()


async def test_watchers_are_summed_over_processes(client: RedisClient) -> None:
    a, b = Watchers(client, "a", ttl_ms=1_000), Watchers(client, "b", ttl_ms=1_000)
    assert await a.report("m", 3, NOW) == 3
    assert await b.report("m", 2, NOW + 500) == 5
    assert await a.total("m", NOW + 999) == 5
    assert await a.total("m", NOW + 1_000) == 2  # a stopped renewing
    assert await b.report("m", 0, NOW + 1_000) == 0


async def bot_lease_contest(clients: list[RedisClient]) -> None:
    leases = [BotLeases(c, ttl_ms=300) for c in clients for _ in range(3)]
    got = await asyncio.gather(*(one.acquire("bm", 7) for one in leases))
    winners = [(i, lease) for i, lease in enumerate(got) if lease is not None]
    assert len(winners) == 1
    index, lease = winners[0]
    assert lease is not None
    other = leases[(index + 1) % len(leases)]
    assert await leases[index].extend(lease)
    assert await other.acquire("bm", 8) is not None  # another turn, another lease
    assert await other.acquire("bm", 7) is None

    taken = []

    async def taken_over() -> bool:
        found = await other.acquire("bm", 7)
        if found is not None:
            taken.append(found)
        return found is not None

    await wait_until(taken_over)  # the holder stopped extending: it lapses
    assert not await leases[index].extend(lease)
    assert not await leases[index].release(lease)
    assert await other.release(taken[0])


async def test_bot_lease_one_of_many_then_taken_over(redis: RedisServer) -> None:
    clients = [RedisClient(RedisOptions(url=redis.url, namespace="t")) for _ in range(3)]
    for one in clients:
        await one.open()
    await bot_lease_contest(clients)
    for one in clients:
        await one.close()


async def test_bot_lease_on_a_cluster(redis_cluster: RedisClusterProcs) -> None:
    host, port = redis_cluster.startup[0]
    clients = [RedisClient(RedisOptions(url=f"redis://{host}:{port}", cluster=True,
                                        namespace="bl")) for _ in range(3)]
    for one in clients:
        await one.open()
    await bot_lease_contest(clients)
    for one in clients:
        await one.close()


async def test_deadlines_claimed_once_and_never_lost(client: RedisClient) -> None:
    deadlines = Deadlines(client, buckets=4)
    assert await deadlines.set("m1", NOW + 100, version=3)
    assert await deadlines.set("m2", NOW + 50, version=1)
    assert not await deadlines.set("m1", NOW + 10, version=2)  # an older commit, late
    assert await deadlines.due_at("m1") == NOW + 100
    assert await deadlines.claim(NOW, lease_ms=1_000) == []
    assert sorted(await deadlines.claim(NOW + 100, lease_ms=1_000)) == [
        ("m1", NOW + 100), ("m2", NOW + 50)]
    assert await deadlines.claim(NOW + 200, lease_ms=1_000) == []  # claimed
    assert await deadlines.claim(NOW + 1_100, lease_ms=1_000) != []  # the firer died
    assert await deadlines.set("m1", None, version=4, final=True)
    assert await deadlines.due_at("m1") is None
    assert await deadlines.claim(NOW + 10_000, lease_ms=1) == [("m2", NOW + 2_100)]


async def test_clock_follows_redis_time(client: RedisClient) -> None:
    skewed = RedisClock(client, local_ns=lambda: time.time_ns() - 3_600 * 10**9)
    offset = await skewed.sync()
    assert abs(offset - 3_600_000) < 1_000
    server = await skewed.server_ms()
    assert abs(skewed.now_ms() - server) < 100
    assert skewed.error_ms is not None and skewed.error_ms < 100
