"""Quick-match queues pair atomically across processes; rooms by code expire by TTL."""

from __future__ import annotations

import asyncio
import random
import time

from game.store.redis import Queues, RedisClient, RedisOptions, Rooms
from tests.redis_support import (  # noqa: F401
    RedisClusterProcs,
    RedisServer,
    redis_cluster_fixture,
    redis_fixture,
)

NOW = 1_000_000


def client(url: str, cluster: bool = False, namespace: str = "t") -> RedisClient:
    return RedisClient(RedisOptions(url=url, cluster=cluster, namespace=namespace, timeout=2.0))


async def pair_hundred(clients: list[RedisClient]) -> None:
    """100 players queued at once through several connections ("processes")."""
    for one in clients:
        await one.open()
    queues = [Queues(c) for c in clients]
    players = [f"p{i}" for i in range(100)]
    results = await asyncio.gather(*(
        queues[i % len(queues)].enqueue(player, "connect4", NOW)
        for i, player in enumerate(players)))
    pairs = [(r.paired_with, p) for r, p in zip(results, players, strict=True)
             if r.paired_with is not None]
    assert len(pairs) == 50
    everyone = [name for pair in pairs for name in pair]
    assert sorted(everyone) == sorted(players)  # nobody twice, nobody left out
    assert all(a != b for a, b in pairs)
    assert await queues[0].waiting("connect4") == []


async def test_hundred_players_make_fifty_pairings(redis: RedisServer) -> None:
    clients = [client(redis.url) for _ in range(5)]
    await pair_hundred(clients)
    for c in clients:
        await c.close()


async def test_hundred_players_on_a_cluster(redis_cluster: RedisClusterProcs) -> None:
    host, port = redis_cluster.startup[1]
    clients = [client(f"redis://{host}:{port}", cluster=True, namespace="lq")
               for _ in range(3)]
    await pair_hundred(clients)
    for c in clients:
        await c.close()


async def test_already_queued_dequeue_and_lapse(redis: RedisServer) -> None:
    one = client(redis.url)
    queues = Queues(one, ttl_ms=1_000)
    assert (await queues.enqueue("a", "connect4", NOW)).paired_with is None
    assert (await queues.enqueue("a", "tictactoe", NOW)).already == "connect4"
    assert await queues.queued_game("a") == "connect4"
    assert await queues.dequeue("a") == "connect4"
    assert await queues.dequeue("a") is None
    assert await queues.waiting("connect4") == []
    # b's process dies: b is not renewed, so c is not paired with a ghost
    await queues.enqueue("b", "connect4", NOW)
    assert await queues.refresh(["b", "x"], NOW + 500) == ["x"]
    assert (await queues.enqueue("c", "connect4", NOW + 1_200)).paired_with == "b"
    await queues.enqueue("d", "connect4", NOW)
    assert (await queues.enqueue("e", "connect4", NOW + 1_001)).paired_with is None
    assert await queues.refresh(["d"], NOW + 1_001) == ["d"]
    # a lapsed player queues again at once, even for another game
    assert (await queues.enqueue("d", "tictactoe", NOW + 1_001)).already is None
    assert await queues.waiting("tictactoe") == ["d"]
    await one.close()


async def test_a_retried_enqueue_gets_the_same_answer(redis: RedisServer) -> None:
    one = client(redis.url)
    queues = Queues(one)
    first = await queues.enqueue("a", "connect4", NOW, request="r1")
    assert first == await queues.enqueue("a", "connect4", NOW, request="r1")
    paired = await queues.enqueue("b", "connect4", NOW, request="r2")
    await queues.enqueue("c", "connect4", NOW, request="r3")
    assert paired.paired_with == "a"
    # the reply to r2 was lost and the call is retried: b is not paired again (with c)
    assert await queues.enqueue("b", "connect4", NOW, request="r2") == paired
    assert await queues.waiting("connect4") == ["c"]
    await one.close()


async def test_rooms_by_code_expire(redis: RedisServer) -> None:
    one = client(redis.url)
    rooms = Rooms(one, rng=random.Random(7))
    entry = await rooms.open("connect4", "m1", "p1", NOW + 200, NOW, address="1.2.3.4")
    found = await rooms.room(entry.code.lower() + " ")
    assert found == entry
    assert await rooms.open_rooms_at("1.2.3.4", NOW) == 1
    taken = await asyncio.gather(rooms.close(entry.code), rooms.close(entry.code))
    assert sorted(t is None for t in taken) == [False, True]  # one taker
    assert await rooms.open_rooms_at("1.2.3.4", NOW) == 0
    short = await rooms.open("connect4", "m2", "p1", NOW + 50, NOW)
    assert await rooms.room(short.code) is not None
    deadline = time.monotonic() + 2
    while await rooms.room(short.code) is not None:  # Redis expires it (PX 50)
        assert time.monotonic() < deadline, "the room did not expire"
        await asyncio.sleep(0.01)
    await one.close()
