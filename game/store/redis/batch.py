"""Group commit for Redis: the scripts and commands issued in one turn of the event loop
go to Redis in one pipeline, on a connection of its own.

Under load many matches commit at once; sent one by one, each script costs the server a
pooled connection, a timeout, a socket write and a read of its own, and Redis a read and
a reply write of its own. `Batch` queues every script and command issued until the
loop's next turn and sends them together (one connection, one write, the replies read
in one go), as the embedded SQLite store groups its commits into one transaction. Each
script still runs alone and atomically in Redis, and the commands of one caller run in
the order given; only the round trip is shared. A batch is bounded by the client's
timeout like any call, and a failure of the connection fails everything in the batch
with `StoreUnavailable`.

The batch speaks RESP itself over one connection (`wire.py`), so a reply costs no
redis-py machinery: measured, redis-py's pipeline was a quarter of a process's CPU
under load. Replies come as Redis sends them (`SMEMBERS` a list, `HGETALL` a flat
list), errors as `redis.exceptions.ResponseError`. A batch not answered within the
timeout closes the connection (its replies could no longer be told apart) and fails
with `StoreUnavailable`; the next batch connects again. A script's first use on a
connection is an EVAL (which caches it), so a batch never runs out of order to load a
script; a `SCRIPT FLUSH` meanwhile is still repaired (`NOSCRIPT`: sent again).

Only on a single Redis server: on a Cluster each goes to its own slot's node, and the
client sends it alone with redis-py (`RedisClient.script`, `RedisClient.command`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.exceptions import ResponseError

from game.store.redis.errors import StoreUnavailable
from game.store.redis.wire import Wire, open_wire, pack_command

if TYPE_CHECKING:
    from game.store.redis.client import Arg, Script

MAX_BATCH = 256
"""Scripts and commands written at once at most: a longer queue goes in several writes,
so that no one write or reply buffer grows without bound."""


@dataclass(slots=True)
class _Queued:
    script: Script | None
    """None: `args` is a plain command."""
    keys: Sequence[str]
    args: Sequence[Arg]
    future: asyncio.Future[Any]


class Batch:
    """Scripts and commands queued in one loop turn, sent to one Redis server at once."""

    def __init__(self, url: str, timeout: float, connect_timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._queue: list[_Queued] = []
        self._wire: Wire | None = None
        self._connecting: asyncio.Task[Wire] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        """Writes sent (with `sent`, the mean batch size)."""
        self.sent = 0

    def script(self, script: Script, keys: Sequence[str],
               args: Sequence[Arg]) -> asyncio.Future[Any]:
        """Queue a script; the future gets its reply, or StoreUnavailable."""
        return self._queued(script, keys, args)

    def command(self, args: Sequence[Arg]) -> asyncio.Future[Any]:
        """Queue a command (`("SADD", key, member)`); the future gets its raw reply, or
        StoreUnavailable."""
        return self._queued(None, (), args)

    def _queued(self, script: Script | None, keys: Sequence[str],
                args: Sequence[Arg]) -> asyncio.Future[Any]:
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
        self.sent += len(batch)
        try:
            async with asyncio.timeout(self.timeout):
                replies = await self._round_trip(batch)
                missing = [i for i, reply in enumerate(replies) if _no_script(reply)]
                if missing:  # Redis flushed its scripts: send their source
                    again = await self._round_trip([batch[i] for i in missing], load=True)
                    for index, reply in zip(missing, again, strict=True):
                        replies[index] = reply
        except (StoreUnavailable, TimeoutError, OSError) as exc:
            if self._wire is not None and isinstance(exc, TimeoutError):
                self._wire.close("no reply in time")  # later replies would be misread
            self._fail(batch, exc)
            return
        except BaseException as exc:  # cancelled at shutdown: nobody is left waiting
            self._fail(batch, exc)
            raise
        for item, reply in zip(batch, replies, strict=True):
            if item.future.done():
                continue  # its caller gave up (cancelled)
            if isinstance(reply, ResponseError):
                item.future.set_exception(reply)
            else:
                item.future.set_result(reply)

    async def _round_trip(self, batch: list[_Queued], load: bool = False) -> list[Any]:
        wire = await self._connected()
        packed = []
        for item in batch:
            script = item.script
            if script is not None and (load or script.sha not in wire.scripts):
                wire.scripts.add(script.sha)  # EVAL caches it: EVALSHA from now on
                packed.append(pack_command(("EVAL", script.source, len(item.keys),
                                             *item.keys, *item.args)))
            elif script is not None:
                packed.append(pack_command(("EVALSHA", script.sha, len(item.keys),
                                             *item.keys, *item.args)))
            else:
                packed.append(pack_command(tuple(item.args)))
        return list(await asyncio.gather(*wire.request(packed)))

    async def _connected(self) -> Wire:
        if self._wire is not None and not self._wire.lost:
            return self._wire
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(
                open_wire(self.url, self.connect_timeout))
        self._wire = await asyncio.shield(self._connecting)
        return self._wire

    @staticmethod
    def _fail(batch: list[_Queued], exc: BaseException) -> None:
        failure = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(
            f"redis: {exc!r}")
        if failure is not exc:
            failure.__cause__ = exc
        for item in batch:
            if not item.future.done():
                item.future.set_exception(failure)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):  # each waiter got the failure already
                await task
        if self._wire is not None:
            self._wire.close("closed")


def _no_script(reply: Any) -> bool:
    return isinstance(reply, ResponseError) and str(reply).startswith("NOSCRIPT")
