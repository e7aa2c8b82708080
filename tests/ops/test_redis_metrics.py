"""Issue 18, the Redis mode's metrics and readiness on a real redis-server: every Redis
call and script is timed by the operation that made it, failures are counted by error,
a patch's pub/sub lag runs from its commit to its delivery in this process, and the
store's ping (what `/readyz` asks) fails within its timeout when Redis is stopped or
frozen, and `/readyz` of a server in the Redis mode turns 503."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from game.core.match import Match, Seat, TimeControl, new_match
from game.server.metrics import Metrics
from game.server.settings import Settings
from game.store.redis import (
    MatchFeed,
    Patches,
    Presence,
    RedisOptions,
    RedisStore,
    StoreUnavailable,
)
from tests.redis_support import RedisServer, redis_fixture  # noqa: F401
from tests.support import start_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(metrics: Metrics) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def a_match(match_id: str) -> Match:
    return new_match(match_id, "connect4", TimeControl(), 1_000, (Seat("a", "A"), Seat("b", "B")))


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)  # a pub/sub delivery has no event a test can await


@pytest.fixture
async def watched(redis: RedisServer) -> AsyncIterator[tuple[RedisStore, Metrics]]:
    store = RedisStore(RedisOptions(url=redis.url, namespace="metrics"))
    metrics = Metrics()
    metrics.watch_redis(store.redis)
    await store.open()
    yield store, metrics
    await store.close()


async def test_each_call_and_script_is_timed_by_the_operation_that_made_it(
        watched: tuple[RedisStore, Metrics]) -> None:
    store, metrics = watched
    await store.commit(a_match("m1"), 0)
    await store.heartbeat(wall_ms())
    await store.ping()
    await store.ping()
    found = samples(metrics)
    count = "game_redis_seconds_count"
    assert value(found, count, op="RedisStore.ping", kind="call") == 2
    assert value(found, count, op="RedisStore.heartbeat", kind="script") == 1
    assert value(found, count, op="MatchRecords.commit", kind="script") == 1
    assert value(found, count, op="RedisClient.open", kind="call") >= 1
    # a round trip to a local Redis takes some time, and far less than a second
    ping_sum = value(found, "game_redis_seconds_sum", op="RedisStore.ping", kind="call")
    assert 0 < ping_sum < 1
    assert value(found, "game_redis_seconds_bucket", op="RedisStore.ping", kind="call",
                 le="+Inf") == 2
    assert not [key for key in found if key[0] == "game_redis_errors_total"]


async def test_scripts_run_by_a_task_are_named_by_their_caller(
        watched: tuple[RedisStore, Metrics]) -> None:
    store, metrics = watched
    presence = Presence(store.redis, "process-1", buckets=4)
    await presence.renew(wall_ms())  # four scripts, gathered: each run by a task
    found = samples(metrics)
    assert value(found, "game_redis_seconds_count", op="Presence.renew", kind="script") == 4


async def test_a_stopped_redis_is_counted_as_errors_of_the_operation(
        redis: RedisServer, watched: tuple[RedisStore, Metrics]) -> None:
    store, metrics = watched
    await store.ping()
    redis.stop()
    with pytest.raises(StoreUnavailable):
        await store.ping()
    found = samples(metrics)
    assert value(found, "game_redis_errors_total", op="RedisStore.ping",
                 error="ConnectionError") == 1
    # the failed call is timed too: the histogram shows how long callers waited
    assert value(found, "game_redis_seconds_count", op="RedisStore.ping", kind="call") == 2


async def test_pubsub_lag_runs_from_the_commit_to_the_delivery(
        watched: tuple[RedisStore, Metrics]) -> None:
    store, metrics = watched
    delivered: list[int] = []

    def on_patches(match_id: str, patches: Patches) -> None:
        # what the hub does with each delivered patch (the shared clock in production)
        metrics.observe_pubsub_lag(wall_ms() - patches.at)
        delivered.append(patches.version)

    feed = MatchFeed(store.redis, on_patches, lambda match_id: None)
    match = a_match("lagged")
    await store.commit(match, 0)
    await feed.add("lagged")
    moved = replace(match, watchers=match.watchers + 1, version=match.version + 1)
    await store.commit(moved, match.version, Patches(moved.version, wall_ms(), b"{}"))
    await until(lambda: delivered == [moved.version])
    await feed.close()
    metrics.observe_pubsub_lag(-3)  # a clock behind by 3 ms is no negative lag
    found = samples(metrics)
    assert value(found, "game_redis_pubsub_lag_seconds_count") == 2
    assert 0 <= value(found, "game_redis_pubsub_lag_seconds_sum") < 5
    assert value(found, "game_redis_pubsub_lag_seconds_bucket", le="0.0005") >= 1


def test_without_redis_there_are_no_redis_figures() -> None:
    text = Metrics().exposition().decode()
    assert "game_moves_total" in text
    assert "game_redis" not in text


# ---- readiness: the store's ping against a stopped or frozen Redis ----------------------


async def test_the_ping_fails_within_the_readiness_timeout(redis: RedisServer) -> None:
    timeout = Settings.model_fields["readiness_timeout"].default
    store = RedisStore(RedisOptions(url=redis.url, namespace="ready"))
    await store.open()
    try:
        await store.ping()
        assert redis.process is not None
        redis.process.send_signal(signal.SIGSTOP)  # frozen: connected, never answering
        try:
            started = time.monotonic()
            with pytest.raises((StoreUnavailable, TimeoutError)):
                async with asyncio.timeout(timeout):
                    await store.ping()
            assert time.monotonic() - started < timeout + 0.5
        finally:
            redis.process.send_signal(signal.SIGCONT)
        redis.stop()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.ping()
        assert time.monotonic() - started < timeout  # refused at once, not timed out
        redis.start()  # the same port: the pooled client reconnects
        await store.ping()
    finally:
        await store.close()


async def test_readyz_of_a_redis_server_turns_503_when_redis_freezes_or_stops(
        tmp_path: Path, redis: RedisServer) -> None:
    server = start_server(tmp_path, redis_url=redis.url, readiness_timeout=1.0)
    try:
        async with httpx.AsyncClient(base_url=server.http, timeout=10) as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert redis.process is not None
            redis.process.send_signal(signal.SIGSTOP)  # frozen: the ping times out
            try:
                started = time.monotonic()
                frozen = await http.get("/readyz")
                assert frozen.status_code == 503, frozen.text
                assert time.monotonic() - started < 1.0 + 1.0
            finally:
                redis.process.send_signal(signal.SIGCONT)
            redis.stop()
            started = time.monotonic()
            down = await http.get("/readyz")
            assert down.status_code == 503, down.text
            assert down.json()["ready"] is False
            assert time.monotonic() - started < 1.0 + 1.0
            assert (await http.get("/healthz")).status_code == 200  # alive, not ready
            redis.start()

            async def ready_again() -> bool:
                return (await http.get("/readyz")).status_code == 200
            deadline = time.monotonic() + 15
            while not await ready_again():
                assert time.monotonic() < deadline, "/readyz stayed 503 after Redis came back"
                await asyncio.sleep(0.1)  # polling the probe, as a load balancer does
    finally:
        server.stop()
