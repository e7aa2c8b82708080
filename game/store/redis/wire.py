"""One RESP connection to one Redis node, spoken directly (hiredis packs and parses).

The batch (`batch.py`) and the pub/sub subscriber (`subscriber.py`) are the hot paths of
the Redis mode: every move goes through both. redis-py spends, per reply, a pooled
connection, an `asyncio.timeout` and a parser call; here a reply costs a hiredis `gets`.
Replies are matched in order to the futures of `request`; a reply nobody waits for (a
pub/sub message, a `pong` while subscribed) goes to `on_push`. Replies come as Redis
sends them (`SMEMBERS` a list, `HGETALL` a flat list), errors as `ResponseError`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import hiredis
from redis.asyncio.connection import parse_url
from redis.exceptions import ResponseError

from game.store.redis.errors import StoreUnavailable

pack_command = cast(Callable[[tuple[Any, ...]], bytes], hiredis.pack_command)
"""hiredis' RESP packer (its stub wrongly types the tuple as of one item)."""

Push = Callable[[Any], None]


class Wire(asyncio.Protocol):
    """A RESP connection: `request` answers in order; anything else goes to `on_push`."""

    def __init__(self, on_push: Push | None = None) -> None:
        self.reader = hiredis.Reader(replyError=ResponseError)
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.on_push = on_push
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Resolved when the connection is gone (closed, or lost)."""
        self.last_data = asyncio.get_running_loop().time()
        self.scripts: set[str] = set()
        """Scripts (SHA1) sent here with EVAL, so cached by this Redis (`batch.py`)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def write(self, data: bytes) -> None:
        if self.transport is None or self.lost:
            raise StoreUnavailable("redis: the connection is gone")
        self.transport.write(data)

    def request(self, packed: list[bytes]) -> list[asyncio.Future[Any]]:
        """Send packed commands; a future for each reply, in order."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = [loop.create_future() for _ in packed]
        self.write(b"".join(packed))
        self.waiting.extend(futures)
        return futures

    def data_received(self, data: bytes) -> None:
        self.last_data = asyncio.get_running_loop().time()
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            if self.waiting:
                future = self.waiting.popleft()
                if not future.done():
                    future.set_result(reply)
            elif self.on_push is not None:
                self.on_push(reply)
            else:  # a reply nobody asked for: the stream is out of step
                self.close("unexpected reply")
                return

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone(f"connection lost: {exc!r}")

    def close(self, why: str) -> None:
        if self.transport is not None:
            self.transport.abort()
        self._gone(why)

    def _gone(self, why: str) -> None:
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(StoreUnavailable(f"redis: {why}"))
        if not self.done.done():
            self.done.set_result(None)


async def open_wire(url: str, connect_timeout: float, on_push: Push | None = None) -> Wire:
    """Connect to the node of `url` (`redis://` or `rediss://`, with its user, password
    and database); raises StoreUnavailable, OSError or TimeoutError. The password is
    never put in a message."""
    options: dict[str, Any] = dict(parse_url(url))
    loop = asyncio.get_running_loop()
    secure = ssl.create_default_context() if url.startswith("rediss://") else None
    async with asyncio.timeout(connect_timeout):
        _, wire = await loop.create_connection(
            lambda: Wire(on_push), str(options.get("host", "localhost")),
            int(options.get("port", 6379)), ssl=secure)
        try:
            await _hello(wire, options)
        except BaseException:
            wire.close("refused")
            raise
    return wire


async def _hello(wire: Wire, options: dict[str, Any]) -> None:
    """Log in and pick the database, as the URL says."""
    hello: list[tuple[Any, ...]] = []
    password = options.get("password")
    if password is not None:
        user = options.get("username")
        hello.append(("AUTH", user, password) if user else ("AUTH", password))
    if int(options.get("db", 0)):
        hello.append(("SELECT", int(options["db"])))
    if hello:
        for reply in await asyncio.gather(*wire.request([pack_command(c) for c in hello])):
            if isinstance(reply, ResponseError):
                raise StoreUnavailable(f"redis refused the connection: {reply}")
