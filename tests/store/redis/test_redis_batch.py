"""The batch of the Redis mode (`game.store.redis.batch`): what one loop turn issues goes
in one write; a stalled Redis fails the batch within the timeout and the next batch
connects again; scripts Redis forgot are sent again; a password and a database in the
URL are used; a script's own error reaches only its caller."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import redis as redis_py
from redis.exceptions import ResponseError

from game.store.redis import RedisOptions, StoreUnavailable
from game.store.redis.client import RedisClient, lua
from tests.redis_support import RedisServer, redis_fixture, require_redis  # noqa: F401

ADD = lua("return redis.call('INCRBY', KEYS[1], ARGV[1])")
FAILS = lua("return redis.error_reply('BROKEN on purpose')")


async def test_one_loop_turn_goes_in_one_write_in_order(redis: RedisServer) -> None:
    client = RedisClient(RedisOptions(url=redis.url, namespace="t"))
    await client.open()
    assert client.batch is not None
    await asyncio.gather(*(client.script(ADD, ["warm"], [1]) for _ in range(50)))  # EVAL once
    batches, sent = client.batch.batches, client.batch.sent
    admin = redis.client()
    before = admin.info("stats")["total_reads_processed"]
    replies = await asyncio.gather(*(client.script(ADD, ["n"], [1]) for _ in range(50)),
                                   client.command("GET", "n"))
    assert replies[:50] == list(range(1, 51))  # each script alone, in the order issued
    assert replies[50] == b"50"
    assert (client.batch.batches - batches, client.batch.sent - sent) == (1, 51)
    # one read by Redis for the whole batch (and one for the second INFO)
    reads = admin.info("stats")["total_reads_processed"] - before
    assert reads == 2, reads
    admin.close()
    await client.close()


async def test_a_script_error_fails_only_its_caller(redis: RedisServer) -> None:
    client = RedisClient(RedisOptions(url=redis.url, namespace="t"))
    await client.open()
    good: object
    bad: object
    good, bad = await asyncio.gather(client.script(ADD, ["n"], [2]),
                                     client.script(FAILS, [], []), return_exceptions=True)
    assert good == 2
    assert isinstance(bad, ResponseError) and "BROKEN" in str(bad)
    await client.close()


async def test_scripts_forgotten_by_redis_are_sent_again(redis: RedisServer) -> None:
    client = RedisClient(RedisOptions(url=redis.url, namespace="t"))
    await client.open()
    assert await client.script(ADD, ["n"], [1]) == 1
    redis.client().script_flush()
    assert await client.script(ADD, ["n"], [1]) == 2  # NOSCRIPT: sent again, with its source
    assert list(await asyncio.gather(client.script(ADD, ["n"], [1]),
                                     client.command("GET", "n"))) == [3, b"3"]
    redis.restart()  # a restarted Redis knows no script: the new connection sends them
    with pytest.raises(StoreUnavailable):
        await client.command("GET", "n")
    assert list(await asyncio.gather(client.script(ADD, ["n"], [1]),
                                     client.command("GET", "n"))) == [4, b"4"]
    await client.close()


async def test_a_stalled_redis_fails_the_batch_in_time_then_it_recovers(
    redis: RedisServer,
) -> None:
    client = RedisClient(RedisOptions(url=redis.url, namespace="t", timeout=0.5))
    await client.open()
    assert await client.command("SET", "k", "v") == b"OK"
    assert redis.process is not None
    os.kill(redis.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await client.command("GET", "k")
        assert time.monotonic() - started < 2.0
    finally:
        os.kill(redis.process.pid, signal.SIGCONT)
    assert await client.command("GET", "k") == b"v"  # a new connection, replies in step
    redis.restart()
    with pytest.raises(StoreUnavailable):  # the old connection died with the server
        await client.command("GET", "k")
    assert await client.command("GET", "k") == b"v"
    await client.close()


async def test_password_and_database_from_the_url(tmp_path: Path) -> None:
    require_redis()
    server = RedisServer(tmp_path / "auth").start()
    server.client().config_set("requirepass", "s3cret")
    try:
        url = f"redis://:s3cret@127.0.0.1:{server.port}/3"
        client = RedisClient(RedisOptions(url=url, namespace="t"))
        await client.open()
        await client.command("SET", "where", "db3")
        admin = redis_py.Redis(port=server.port, password="s3cret", db=3, socket_timeout=5)
        assert admin.get("where") == b"db3"
        admin.close()
        await client.close()
        wrong = RedisClient(RedisOptions(url=url.replace("s3cret", "nope"), namespace="t"))
        with pytest.raises(StoreUnavailable) as refused:
            await wrong.command("GET", "where")
        assert "nope" not in str(refused.value)  # a password is never in a message
        await wrong.close()
    finally:
        server.stop()


async def test_a_write_on_a_closed_connection_is_unavailable_not_a_crash(
    redis: RedisServer,
) -> None:
    """redis-py may write on a connection it closed meanwhile (a timeout under load);
    uvloop refuses with a RuntimeError: the caller gets StoreUnavailable (`unavailable`,
    retryable), not an internal error. Another RuntimeError is a bug and stays one."""
    client = RedisClient(RedisOptions(url=redis.url, namespace="t"))

    async def closed(_: object) -> None:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True "
                           "reading=False 0x1>; the handler is closed")

    async def bug(_: object) -> None:
        raise RuntimeError("something else")

    with pytest.raises(StoreUnavailable):
        await client.call(closed)
    with pytest.raises(RuntimeError, match="something else"):
        await client.call(bug)
    await client.close()
