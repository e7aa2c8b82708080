"""The same closed loop against a bare relay (benchmarks/relay_app.py).

A pair shares a room on the relay, every message goes to both. A "move" is a
move-shaped message; its latency is measured to the opponent's receipt, and the
opponent answers with the next one at once, as in a real match. This is the floor
any game server is compared with: transport, framing and one broadcast, no game.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from typing import Any

from game.loadtest.config import Config
from game.loadtest.stats import Recorder
from game.loadtest.wire import Link, open_link

OPEN_TIMEOUT = 30.0


class RelayDuel:
    def __init__(self, config: Config, rec: Recorder, index: int, rng: random.Random) -> None:
        self.config = config
        self.rec = rec
        self.index = index
        self.rng = rng
        self.room = f"{index}-{secrets.token_hex(4)}"
        self.links: list[Link] = []
        self.versions = [0, 0]
        self.done = False
        self.since = time.monotonic()
        self.pending_tag = -1
        self.pending_version = -1
        self.pending_sent = 0.0
        self._ready: asyncio.Future[None] | None = None

    async def open(self) -> None:
        self._ready = asyncio.get_running_loop().create_future()
        url = f"{self.config.url.rstrip('/')}/{self.room}"
        for tag in (0, 1):
            self.links.append(await open_link(url, self.config.codec, self, tag,
                                              client=self.config.client))
        self.links[1].send({"type": "ready", "match": self.room})  # proves both joined
        await asyncio.wait_for(self._ready, OPEN_TIMEOUT)

    def start(self) -> None:
        self._move(0)

    def _move(self, tag: int) -> None:
        now = time.monotonic()
        self.since = now
        if not self.rec.active(now):
            self.done = True
            return
        version = self.versions[tag] + 1
        self.pending_tag, self.pending_version = tag, version
        self.pending_sent = time.monotonic()
        self.links[tag].send({"type": "move", "match": self.room, "move": self.rng.randrange(7),
                              "version": version, "id": version})

    def on_message(self, link: Link, message: Any, now: float) -> None:
        tag = link.tag
        kind = message.get("type")
        if kind == "move":
            version = message["version"]
            if version != self.versions[tag] + 1:
                self.rec.error("version_gap")
            self.versions[tag] = version
            if tag != self.pending_tag and version == self.pending_version:
                self.rec.move_done(self.pending_sent, now)
                self._move(tag)
        elif kind == "ready":
            if tag == 0 and self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
        else:
            self.rec.error(f"unexpected:{kind}")

    def on_close(self, link: Link, code: int | None) -> None:
        if not self.rec.stopping:
            self.rec.error(f"closed:{code}")
            self.done = True

    def check_stall(self, now: float) -> None:
        if not self.done and now - self.since > self.config.stall_timeout:
            self.rec.error("stall")
            self.done = True

    async def close(self) -> None:
        await asyncio.gather(*(link.close() for link in self.links), return_exceptions=True)
