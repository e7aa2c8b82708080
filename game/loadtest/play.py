"""A pair of bot clients playing one match after another against the game server.

The same process owns both players, so the time from sending a move to the
opponent reading its patch is measured on one monotonic clock. Matches are paired
through `create_room` / `join_room` (deterministic, no queue races); each side plays
a random legal move the moment the opponent's patch arrives. Given several URLs (the
processes of one Redis-mode deployment), the two players may sit on two processes
(`Config.url_for`): the latency then includes the patch's trip through Redis.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from game.loadtest.config import Config
from game.loadtest.stats import Recorder
from game.loadtest.verify import Follower
from game.loadtest.wire import Link, open_link
from game.rules import State, get_rules

OPEN_TIMEOUT = 30.0


class Duel:
    """Two players, one live match at a time, at most one move in flight."""

    def __init__(self, config: Config, rec: Recorder, index: int, rng: random.Random) -> None:
        self.config = config
        self.rec = rec
        self.index = index
        self.rng = rng
        self.rules = get_rules(config.game)
        self.links: list[Link] = []
        self.followers = [Follower(rec, False), Follower(rec, False)]
        self._welcomed: list[asyncio.Future[None]] = []
        self.done = False
        self.since = time.monotonic()
        self.match_id: str | None = None
        self.state: State = self.rules.initial()
        self.moves: list[int] = []
        self.creator = 1
        self.started = 0
        self.join_ref = -1
        self.join_version: int | None = None
        self.playing = False
        self.pending_tag = -1
        self.pending_version = -1
        self.pending_move = -1
        self.pending_sent = 0.0
        self.acks: dict[int, int] = {}
        self._seq = 0

    # ---- setup -------------------------------------------------------------------------

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._welcomed = [loop.create_future(), loop.create_future()]
        for tag in (0, 1):
            self.links.append(await self._connect(tag))
        for tag, link in enumerate(self.links):
            link.send({"type": "hello", "name": f"load {self.index}.{tag}", "id": "hello"})
        await asyncio.wait_for(asyncio.gather(*self._welcomed), OPEN_TIMEOUT)

    async def _connect(self, tag: int) -> Link:
        url = self.config.url_for(self.index, tag)
        return await open_link(url, self.config.codec, self, tag, client=self.config.client)

    def start(self) -> None:
        self._new_match(time.monotonic())

    def _id(self) -> int:
        self._seq += 1
        return self._seq

    def _tracked(self) -> bool:
        every = self.config.verify_every
        return every > 0 and (self.index + self.started) % every == 0

    # ---- matches -----------------------------------------------------------------------

    def _new_match(self, now: float) -> None:
        self.since = now
        if not self.rec.active(now):
            self.done = True
            return
        self.creator ^= 1
        self.started += 1
        track = self._tracked()
        for follower in self.followers:
            follower.reset(None, track)
        self.match_id = None
        self.join_version = None
        self.playing = False
        self.pending_tag = self.pending_version = -1
        self.state = self.rules.initial()
        self.moves = []
        self.join_ref = self._id()
        self.links[self.creator].send(
            {"type": "create_room", "game": self.config.game, "id": self._id()})

    def _maybe_begin(self) -> None:
        if self.playing or self.join_version is None:
            return
        if all(f.version >= self.join_version for f in self.followers) and self._ready():
            self.playing = True
            self._move(self.creator)

    def _ready(self) -> bool:
        return True

    def _move(self, tag: int) -> None:
        now = time.monotonic()
        self.since = now
        if not self.rec.active(now):
            self.done = True
            return
        state = self.state
        seat = 0 if tag == self.creator else 1
        if state.to_move != seat:
            self.rec.error("turn_mismatch")
        move = self.rng.choice(state.legal_moves())
        version = self.followers[tag].version
        ref = self._id()
        self.acks[ref] = version + 1
        self.pending_tag, self.pending_version, self.pending_move = tag, version + 1, move
        self.pending_sent = time.monotonic()
        self.links[tag].send({"type": "move", "match": self.match_id, "move": move,
                              "version": version, "id": ref})

    def _arrived(self, tag: int, now: float) -> None:
        """The opponent (`tag`) has the patch of the pending move."""
        self.rec.move_done(self.pending_sent, now)
        self._advance(tag, now)

    def _advance(self, tag: int, now: float) -> None:
        self.since = now
        self.pending_tag = self.pending_version = -1
        self.state = self.state.apply(self.pending_move)
        self.moves.append(self.pending_move)
        view = self.followers[tag].view
        if view:
            self._check_view(view, tag)
        if self.state.outcome is not None:
            self.rec.match_done(now)
            self._new_match(now)
        else:
            self._move(tag)

    def _check_view(self, view: dict[str, Any], tag: int) -> None:
        """A tracked view must agree with the local rules on board, moves, status, legal."""
        state = self.state
        finished = state.outcome is not None
        seat = 0 if tag == self.creator else 1
        wrong = (
            view["moves"] != self.moves
            or list(view["board"]) != list(state.board())
            or (view["status"] == "finished") != finished
            or (not finished and view["turn"] == seat
                and list(view["legal"]) != list(state.legal_moves()))
        )
        if wrong:
            self.rec.error("view_mismatch")

    # ---- messages ----------------------------------------------------------------------

    def on_message(self, link: Link, message: Any, now: float) -> None:
        kind = message.get("type")
        tag = link.tag
        if kind == "patch":
            if message.get("match") != self.match_id:
                return
            self.followers[tag].patch(message)
            if not self.playing:
                self._maybe_begin()
            elif tag != self.pending_tag and message["version"] == self.pending_version:
                self._arrived(tag, now)
        elif kind == "ack":
            self._ack(message)
        elif kind == "snapshot":
            if message.get("match") == self.match_id:
                self.followers[tag].snapshot(message)
                self._maybe_begin()
        elif kind == "room":
            if tag == self.creator:
                self.match_id = message["match"]
                for follower in self.followers:
                    follower.match = self.match_id
                self.links[tag ^ 1].send(
                    {"type": "join_room", "code": message["code"], "id": self.join_ref})
                self._joining()
        elif kind == "welcome":
            if not self._welcomed[tag].done():
                self._welcomed[tag].set_result(None)
        elif kind == "error":
            self.rec.error(f"error:{message.get('code')}")
            self._new_match(now)
        elif kind != "pong":
            self.rec.error(f"unexpected:{kind}")

    def _joining(self) -> None:
        """Hook: the match id is known (fan-out sends its watchers in here)."""

    def _ack(self, message: dict[str, Any]) -> None:
        ref = message.get("ref")
        if ref == self.join_ref:
            self.join_version = message["version"]
            self._maybe_begin()
            return
        expected = self.acks.pop(ref, None) if isinstance(ref, int) else None
        if expected is None:
            self.rec.error("unexpected_ack")
        elif message.get("version") != expected:
            self.rec.error("ack_version")

    def on_close(self, link: Link, code: int | None) -> None:
        if not self.rec.stopping:
            self.rec.error(f"closed:{code}")
            self.done = True

    def check_stall(self, now: float) -> None:
        if not self.done and now - self.since > self.config.stall_timeout:
            self.rec.error("stall")
            self._new_match(now)

    async def close(self) -> None:
        await asyncio.gather(*(link.close() for link in self.links), return_exceptions=True)
