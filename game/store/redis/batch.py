"""Group commit for Redis: the scripts issued in one turn of the event loop go to Redis
in one pipeline.

Under load many matches commit at once; sent one by one, each script costs the server a
pooled connection, a socket write and a read of its own, and Redis a read and a reply
write of its own. `ScriptBatch` queues every script issued until the loop's next turn
and sends them together (one connection, one write, the replies read in one go), as
the embedded SQLite store groups its commits into one transaction. Each script still
runs alone and atomically in Redis; only the round trip is shared. A batch is bounded by
the client's timeout like any call, and a failure of the connection fails every script
of the batch with `StoreUnavailable`.

Only on a single Redis server: on a Cluster each script goes to its own slot's node,
and the client sends it alone (`RedisClient.script`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, ResponseError

from game.store.redis.errors import UNAVAILABLE, StoreUnavailable

if TYPE_CHECKING:
    from game.store.redis.client import Arg, Script

MAX_BATCH = 256
"""Scripts sent in one pipeline at most: a longer queue goes in several, so that one
reply buffer stays small and the first scripts are not held behind the last."""


@dataclass(slots=True)
class _Queued:
    script: Script
    keys: Sequence[str]
    args: Sequence[Arg]
    future: asyncio.Future[Any]


class ScriptBatch:
    """Scripts queued in one loop turn, sent to one Redis server in one pipeline."""

    def __init__(self, client: aioredis.Redis, timeout: float) -> None:
        self.client = client
        self.timeout = timeout
        self._queue: list[_Queued] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        """Pipelines sent (with `scripts`, the mean batch size)."""
        self.scripts = 0

    def submit(self, script: Script, keys: Sequence[str],
               args: Sequence[Arg]) -> asyncio.Future[Any]:
        """Queue a script; the future gets its reply, or StoreUnavailable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._queue:
            loop.call_soon(self._flush)
        self._queue.append(_Queued(script, keys, args, future))
        return future

    def _flush(self) -> None:
        queue, self._queue = self._queue, []
        for start in range(0, len(queue), MAX_BATCH):
            task = asyncio.get_running_loop().create_task(
                self._send(queue[start:start + MAX_BATCH]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Queued]) -> None:
        self.batches += 1
        self.scripts += len(batch)
        try:
            async with asyncio.timeout(self.timeout):
                pipe = self.client.pipeline(transaction=False)
                for item in batch:
                    pipe.evalsha(item.script.sha, len(item.keys), *item.keys, *item.args)
                replies = await pipe.execute(raise_on_error=False)
                missing = [i for i, reply in enumerate(replies)
                           if isinstance(reply, NoScriptError)]
                if missing:  # Redis restarted or flushed its scripts: load them, once
                    await self._run_loading(batch, replies, missing)
        except UNAVAILABLE as exc:
            failure = StoreUnavailable(f"redis: {exc!r}")
            failure.__cause__ = exc
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(failure)
            return
        except BaseException as exc:  # cancelled at shutdown: nobody is left waiting
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(StoreUnavailable(f"redis: {exc!r}"))
            raise
        for item, reply in zip(batch, replies, strict=True):
            if item.future.done():
                continue  # its caller gave up (cancelled)
            if isinstance(reply, ResponseError):
                item.future.set_exception(reply)
            else:
                item.future.set_result(reply)

    async def _run_loading(self, batch: list[_Queued], replies: list[Any],
                           missing: list[int]) -> None:
        for index in missing:
            item = batch[index]
            try:
                replies[index] = await self.client.eval(
                    item.script.source, len(item.keys), *item.keys, *item.args)
            except ResponseError as exc:  # the script's own error, for its caller
                replies[index] = exc

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):  # each waiter got the failure already
                await task
