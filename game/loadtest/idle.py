"""Idle connections: N clients that say hello and then only hold their sockets open."""

from __future__ import annotations

import asyncio
from typing import Any

from game.loadtest.config import Config
from game.loadtest.stats import Recorder
from game.loadtest.wire import Link, open_link

CONNECT_CONCURRENCY = 64
OPEN_TIMEOUT = 60.0


class Crowd:
    def __init__(self, config: Config, rec: Recorder, index: int, count: int) -> None:
        self.config = config
        self.rec = rec
        self.index = index
        self.count = count
        self.links: list[Link] = []
        self.welcomed = 0
        self._target = 0
        self._closing = False
        self._all: asyncio.Future[None] | None = None

    async def open(self, count: int | None = None) -> int:
        """Connect and say hello `count` times (default: this worker's share)."""
        wanted = self.count if count is None else count
        self._all = asyncio.get_running_loop().create_future()
        target = self.welcomed + wanted
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(tag: int) -> None:
            async with gate:
                link = await open_link(self.config.url_for(self.index, tag), self.config.codec,
                                       self, tag, client=self.config.client)
                self.links.append(link)
                link.send({"type": "hello", "name": f"idle {self.index}.{tag}", "id": 1})

        start = len(self.links)
        outcomes = await asyncio.gather(*(one(start + n) for n in range(wanted)),
                                        return_exceptions=True)
        failed = sum(1 for outcome in outcomes if isinstance(outcome, BaseException))
        if failed:
            self.rec.errors["connect_failed"] += failed
        self._target = target - failed
        if self.welcomed < self._target:
            await asyncio.wait_for(self._all, OPEN_TIMEOUT)
        return wanted - failed

    def on_message(self, link: Link, message: Any, now: float) -> None:
        kind = message.get("type")
        if kind == "welcome":
            self.welcomed += 1
            if self.welcomed >= self._target and self._all is not None and not self._all.done():
                self._all.set_result(None)
        elif kind == "error":
            self.rec.error(f"error:{message.get('code')}")
        else:
            self.rec.error(f"unexpected:{kind}")

    def on_close(self, link: Link, code: int | None) -> None:
        if not self.rec.stopping and not self._closing:
            self.rec.error(f"closed:{code}")

    async def close(self) -> None:
        self._closing = True
        gate = asyncio.Semaphore(256)

        async def one(link: Link) -> None:
            async with gate:
                await link.close()

        await asyncio.gather(*(one(link) for link in self.links), return_exceptions=True)
        self.links.clear()
        self._closing = False
