"""One connection to Redis (a single server or a Cluster) with bounded operations.

Every call goes through `RedisClient.call` / `RedisClient.script`: each is bounded by
`timeout` seconds overall (socket timeouts are set too) and raises `StoreUnavailable`
for anything that means "Redis is not answering", so no caller ever hangs. An optional
`observer` (the server's metrics) is told of each one once it is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from time import perf_counter
from types import CodeType
from typing import Any, TypeVar

import redis.asyncio as aioredis
import structlog
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.crc import key_slot
from redis.exceptions import NoScriptError

from game.store.redis.batch import Batch
from game.store.redis.errors import UNAVAILABLE, StoreUnavailable
from game.store.redis.keys import Keys

log = structlog.get_logger("game.store.redis")

T = TypeVar("T")
Client = aioredis.Redis | RedisCluster
Arg = str | bytes | int | float
Observer = Callable[[str, str, float, BaseException | None], None]
"""Told of every call and script once it is over: `(operation, kind, seconds, error)`.
`operation` is the method that made it (`MatchRecords.commit`), `kind` is `call` or
`script`, `error` what Redis raised (the cause of a StoreUnavailable) or None."""


def as_bytes(value: object) -> bytes:
    """A reply item as bytes (replies are bytes: clients are made without decoding)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"unexpected reply item {value!r}")


def as_text(value: object) -> str:
    return as_bytes(value).decode()


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """How to reach Redis. `url` is `redis://host:port/db` (or `rediss://`); with
    `cluster`, any node of the cluster."""

    url: str = "redis://127.0.0.1:6379/0"
    cluster: bool = False
    namespace: str = "game"
    timeout: float = 2.0
    """Seconds any one operation may take, retries included, before StoreUnavailable."""
    socket_timeout: float = 1.0
    connect_timeout: float = 0.5


@dataclass(frozen=True, slots=True)
class Script:
    """A Lua script, run by its SHA1 (loaded on first use on each server)."""

    source: str
    sha: str


def lua(source: str) -> Script:
    return Script(source, hashlib.sha1(source.encode()).hexdigest())


CLOSED_TRANSPORT = "unable to perform operation on"
"""uvloop's message for a write on a transport already closed."""

POOL_SIZE = 64
"""Connections one process opens to one Redis node at most: enough to keep Redis busy
(each command is a round trip of well under a millisecond), few enough for many
processes to share a Redis (maxclients 10000)."""


def make_client(options: RedisOptions) -> Client:
    """A redis-py asyncio client with socket timeouts and one quick retry (a pooled
    connection that died with a restarted server is replaced once, not forever)."""
    common: dict[str, Any] = {
        "socket_timeout": options.socket_timeout,
        "socket_connect_timeout": options.connect_timeout,
        "retry": Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
    }
    if options.cluster:
        return RedisCluster.from_url(options.url, max_connections=POOL_SIZE * 8, **common)
    # a full pool makes a call wait for a free connection (within the call's own
    # timeout) instead of failing at once, as redis-py's default pool does past 100
    pool = aioredis.BlockingConnectionPool.from_url(
        options.url, max_connections=POOL_SIZE, timeout=options.timeout,
        health_check_interval=10, **common)
    return aioredis.Redis(connection_pool=pool)


class RedisClient:
    """The shared handle the building blocks use: a client, key names, the timeout."""

    def __init__(self, options: RedisOptions, client: Client | None = None) -> None:
        self.options = options
        self.keys = Keys(options.namespace)
        self.timeout = options.timeout
        self.raw: Client = client if client is not None else make_client(options)
        self.observer: Observer | None = None
        self.batch = None if isinstance(self.raw, RedisCluster) else Batch(
            options.url, self.timeout, options.connect_timeout)
        """Scripts and commands go to a single server in batches (`batch.py`); to a
        Cluster one by one."""

    @property
    def cluster(self) -> bool:
        return isinstance(self.raw, RedisCluster)

    async def open(self) -> None:
        """Check that Redis answers (raises StoreUnavailable otherwise). Call it before
        any concurrent use: a Cluster client learns the slot map here (redis-py races
        when many first commands do it at once)."""
        if isinstance(self.raw, RedisCluster):
            cluster = self.raw
            await self.call(lambda _: cluster.initialize())
        await self.call(lambda r: r.ping())

    async def close(self) -> None:
        if self.batch is not None:
            await self.batch.close()
        with contextlib.suppress(*UNAVAILABLE):  # closing a client whose server is gone
            await self.raw.aclose()

    async def call(self, fn: Callable[[Client], Awaitable[T]]) -> T:
        """Run `fn(client)` within the timeout; Redis errors become StoreUnavailable."""
        observer = self.observer
        if observer is None:
            return await self._bounded(fn)
        return await self._observed(fn, _operation(fn), "call", observer)

    async def _bounded(self, fn: Callable[[Client], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.timeout):
                return await fn(self.raw)
        except UNAVAILABLE as exc:
            raise StoreUnavailable(f"redis: {exc!r}") from exc
        except RuntimeError as exc:
            # redis-py writing on a connection it closed meanwhile (a timeout under load):
            # uvloop refuses with a RuntimeError, which means "not reachable just now"
            if CLOSED_TRANSPORT not in str(exc):
                raise
            raise StoreUnavailable(f"redis: {exc!r}") from exc

    def script(self, script: Script, keys: Sequence[str],
               args: Sequence[Arg]) -> Awaitable[Any]:
        """Run a Lua script (EVALSHA, loading it on NOSCRIPT) within the timeout: await
        it (or gather it). Not itself a coroutine function, so that the observer is
        told who called it even when a task runs it (`asyncio.gather`)."""
        sent: Awaitable[Any]
        if self.batch is not None:
            sent = self.batch.script(script, keys, args)  # bounded by the batch's timeout
        else:
            async def run(client: Client) -> Any:
                try:
                    return await client.evalsha(script.sha, len(keys), *keys, *args)
                except NoScriptError:
                    return await client.eval(script.source, len(keys), *keys, *args)

            sent = self._bounded(run)
        observer = self.observer
        if observer is None:
            return sent
        return self._watched(sent, _name(sys._getframe(1).f_code), "script", observer)

    def command(self, *args: Arg) -> Awaitable[Any]:
        """One command (`redis.command("SADD", key, member)`) within the timeout, its
        reply parsed as redis-py parses it; batched with others on a single server."""
        sent: Awaitable[Any]
        if self.batch is not None:
            sent = self.batch.command(args)
        else:
            sent = self._bounded(lambda client: client.execute_command(*args))
        observer = self.observer
        if observer is None:
            return sent
        return self._watched(sent, _name(sys._getframe(1).f_code), "call", observer)

    def commands(self, *commands: Sequence[Arg]) -> Awaitable[list[Any]]:
        """Several commands, run in the order given, their replies in that order (in the
        batch on a single server; one pipeline, node by node, on a Cluster)."""
        sent: Awaitable[list[Any]]
        if self.batch is not None:
            sent = _all([self.batch.command(args) for args in commands])
        else:
            async def run(client: Client) -> list[Any]:
                pipe = client.pipeline(transaction=False)
                for args in commands:
                    pipe.execute_command(*args)
                return list(await pipe.execute())

            sent = self._bounded(run)
        observer = self.observer
        if observer is None:
            return sent
        return self._watched(sent, _name(sys._getframe(1).f_code), "call", observer)

    def _observed(self, fn: Callable[[Client], Awaitable[T]], operation: str,
                  kind: str, observer: Observer) -> Coroutine[Any, Any, T]:
        return self._watched(self._bounded(fn), operation, kind, observer)

    @staticmethod
    async def _watched(sent: Awaitable[T], operation: str, kind: str,
                       observer: Observer) -> T:
        started = perf_counter()
        try:
            result = await sent
        except Exception as exc:  # a cancelled call is no round trip: not told
            cause = exc.__cause__ if isinstance(exc, StoreUnavailable) else None
            observer(operation, kind, perf_counter() - started, cause or exc)
            raise
        observer(operation, kind, perf_counter() - started, None)
        return result

    def same_slot(self, keys: Sequence[str]) -> bool:
        """Whether all `keys` hash to one cluster slot (always true off a cluster)."""
        if not self.cluster:
            return True
        return len({key_slot(key.encode()) for key in keys}) <= 1


async def _all(sent: list[asyncio.Future[Any]]) -> list[Any]:
    """Every reply, or the first failure (every failure retrieved: none is left to be
    reported as never retrieved)."""
    replies = await asyncio.gather(*sent, return_exceptions=True)
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply
    return replies


_NAMES: dict[CodeType, str] = {}


def _name(code: CodeType) -> str:
    """`MatchRecords.commit` for a lambda or a nested function defined in that method:
    a label from a closed set (the call sites), computed once per site."""
    name = _NAMES.get(code)
    if name is None:
        name = _NAMES[code] = code.co_qualname.split(".<locals>", 1)[0]
    return name


def _operation(fn: Callable[..., object]) -> str:
    code = getattr(fn, "__code__", None)
    return _name(code) if isinstance(code, CodeType) else getattr(fn, "__qualname__", "call")
