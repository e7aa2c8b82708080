"""One match watched by many: the time until the LAST watcher has each patch.

Both players and every watcher live in this process. For each match the watchers
`watch` it as soon as its id is known; play starts once every watcher is in step
with the players (the watcher count has settled). Each move is sent only after the
opponent and every watcher have the previous one, so the server is never asked to
queue more than one patch per watcher and the figure is pure fan-out time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from game.loadtest.config import Config
from game.loadtest.play import Duel
from game.loadtest.stats import Recorder
from game.loadtest.verify import Follower
from game.loadtest.wire import Deferred, Link, RawLink

WATCHER_BASE = 2
CONNECT_CONCURRENCY = 64


class FanoutDuel(Duel):
    def __init__(self, config: Config, rec: Recorder, index: int, rng: random.Random) -> None:
        super().__init__(config, rec, index, rng)
        self.count = config.watchers
        self.watchers: list[Follower] = [Follower(rec, False) for _ in range(self.count)]
        self.watcher_links: list[Link] = []
        self.arrivals: dict[int, int] = {}
        self.opponent_has = False
        self.watchers_have = False
        self._welcomes = 0
        self._queued: list[tuple[Follower, str | None, Callable[[dict[str, Any]], None],
                                 dict[str, Any]]] = []
        self._all_welcome: asyncio.Future[None] | None = None

    async def open(self) -> None:
        await super().open()
        self._all_welcome = asyncio.get_running_loop().create_future()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        deferred = Deferred()

        async def one(tag: int) -> Link:
            async with gate:
                link = await self._connect(tag)
                if isinstance(link, RawLink):
                    link.defer = deferred
                link.send({"type": "hello", "name": f"watcher {tag}", "id": "hello"})
                return link

        tags = range(WATCHER_BASE, WATCHER_BASE + self.count)
        self.watcher_links = list(await asyncio.gather(*(one(tag) for tag in tags)))
        self.links.extend(self.watcher_links)
        await asyncio.wait_for(self._all_welcome, 60)

    def _tracked(self) -> bool:
        return True  # two players only: always keep and check their full views

    def _new_match(self, now: float) -> None:
        self._verify_queued()
        super()._new_match(now)
        self.arrivals = {}
        every = self.config.verify_every
        for number, follower in enumerate(self.watchers):
            follower.reset(None, every > 0 and number % every == 0)

    def _joining(self) -> None:
        for number, link in enumerate(self.watcher_links):
            self.watchers[number].match = self.match_id
            link.send({"type": "watch", "match": self.match_id, "id": "watch"})

    def _ready(self) -> bool:
        """Both players and every watcher at the same version, the count settled."""
        first, second = self.followers
        if first.version != second.version or not first.view or not second.view:
            return False
        settled = first.view["watchers"] == second.view["watchers"] == self.count
        return settled and self.arrivals.get(first.version, 0) == self.count

    def _move(self, tag: int) -> None:
        self._verify_queued()
        self.opponent_has = self.watchers_have = False
        super()._move(tag)

    def _arrived(self, tag: int, now: float) -> None:
        self.rec.sample(self.rec.opponent, self.pending_sent, now)
        self.opponent_has = True
        if self.watchers_have:
            self._advance(tag, now)

    def _watcher_message(self, number: int, message: dict[str, Any], now: float) -> None:
        kind = message.get("type")
        if kind in ("patch", "snapshot"):
            if message.get("match") != self.match_id:
                return
            follower = self.watchers[number]
            if kind == "patch":
                if follower.step(message):
                    self._later(follower, follower.apply, message)
            else:
                follower.version = message["version"]
                if follower.view is not None:
                    self._later(follower, follower.take, message)
            version = message["version"]
            arrived = self.arrivals.get(version, 0) + 1
            self.arrivals[version] = arrived
            if arrived < self.count:
                return
            if not self.playing:
                self._maybe_begin()
            elif version == self.pending_version and self.pending_tag >= 0:
                self.rec.move_done(self.pending_sent, now)
                self.watchers_have = True
                if self.opponent_has:
                    self._advance(self.pending_tag ^ 1, now)
        elif kind == "welcome":
            self._welcomes += 1
            if self._welcomes == self.count and self._all_welcome is not None:
                self._all_welcome.set_result(None)
        elif kind == "error":
            self.rec.error(f"error:{message.get('code')}")
        else:
            self.rec.error(f"unexpected:{kind}")

    def _later(self, follower: Follower, work: Callable[[dict[str, Any]], None],
               message: dict[str, Any]) -> None:
        """A tracked watcher's view work (apply the patch, hash the view) waits until
        every watcher has the patch, and runs before the next move is sent, in arrival
        order: outside every measured interval. In line, the generator's verification of
        one watcher would delay the arrival time of every watcher read after it (about
        half of the measured time with 1000 watchers, 100 of them tracked)."""
        self._queued.append((follower, follower.match, work, message))

    def _verify_queued(self) -> None:
        queued, self._queued = self._queued, []
        for follower, match, work, message in queued:
            if follower.match == match:  # not a patch of a match this watcher has left
                work(message)

    def on_message(self, link: Link, message: Any, now: float) -> None:
        if link.tag >= WATCHER_BASE:
            self._watcher_message(link.tag - WATCHER_BASE, message, now)
        else:
            super().on_message(link, message, now)
