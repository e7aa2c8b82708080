"""The Redis mode's background duties of every process, on one timer.

- Deadlines: each commit writes the match's next deadline to the shared index (in
  batches); due entries are claimed (one process each, for a short lease) and fired
  as a `Tick`, which the version compare makes idempotent however many race. A bot's
  turn is written as due a little after its lease would lapse, so a process that dies
  while thinking is taken over.
- Presence: this process renews its lease; seats whose holder lapsed are reported
  offline (grace starts) by whoever finds them.
- Queues: the entries of players waiting here are renewed.
- Watchers: the counts of matches watched here are renewed and summed.
- Ratings: any rating a crash left due is applied.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from game.core.match import Match, Phase, Tick
from game.protocol.errors import ProtocolError
from game.server.cluster.hub import ClusterHub
from game.store.redis.deadlines import Deadlines
from game.store.redis.errors import StoreUnavailable
from game.store.redis.store import RATING_SWEEP_SECONDS

log = structlog.get_logger("game.cluster.sweep")

TICK_SECONDS = 0.1
CLAIM_EVERY = 2
"""Ticks between two claims of due deadlines (0.2 s: a deadline fires at most that late
when no process holding its match armed a timer)."""
CLAIM_LEASE_MS = 3_000
BOT_RECHECK_MS = 12_000
"""A bot's turn is looked at again this long after it began (after its lease lapsed)."""
WRITE_BATCH = 64


class Sweeper:
    def __init__(self, hub: ClusterHub) -> None:
        self.hub = hub
        self.deadlines = Deadlines(hub.redis_store.redis)
        self._task: asyncio.Task[None] | None = None
        self._ticks = 0
        renew_ms = hub.presence.ttl_ms / 3
        self._renew_every = max(1, round(renew_ms / 1000 / TICK_SECONDS))
        self._ratings_every = round(RATING_SWEEP_SECONDS / TICK_SECONDS)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            if self.hub.stopping:
                continue  # draining: the other processes fire, this one only finishes
            self._ticks += 1
            try:
                await self.tick()
            except (StoreUnavailable, ProtocolError) as exc:
                self.hub.outage.failed("sweep_failed", exc)
            except Exception:
                log.exception("sweep_crashed")

    async def tick(self) -> None:
        await self.write_deadlines()
        ticks = self._ticks
        if ticks % CLAIM_EVERY == 0:
            await self.fire_due()
        if ticks % self._renew_every == 0:
            await self.renew()
        if ticks % self._ratings_every == 0:
            await self.hub.redis_store.apply_pending_ratings()

    # ---- deadlines -------------------------------------------------------------------

    def _due_at(self, match: Match, now: int) -> int | None:
        due = match.next_wakeup()
        turn = match.turn
        seat = match.seats[turn] if turn is not None else None
        if match.phase is Phase.ACTIVE and seat is not None and seat.bot is not None:
            check = now + BOT_RECHECK_MS
            due = check if due is None else min(due, check)
        return due

    async def write_deadlines(self) -> None:
        hub = self.hub
        while hub.due:
            batch = list(hub.due.values())[:WRITE_BATCH]
            for match in batch:
                del hub.due[match.id]
            now = hub.clock.now_ms()
            try:
                await asyncio.gather(*(
                    self.deadlines.set(match.id, self._due_at(match, now), match.version,
                                       final=match.phase is Phase.FINISHED)
                    for match in batch))
            except StoreUnavailable:
                for match in batch:  # written again next time, unless a newer one came
                    hub.due.setdefault(match.id, match)
                raise

    async def fire_due(self) -> None:
        claimed = await self.deadlines.claim(self.hub.clock.now_ms(), CLAIM_LEASE_MS)
        for match_id, _ in claimed:
            self.hub.spawn(self._fire(match_id))

    async def _fire(self, match_id: str) -> None:
        hub = self.hub
        try:
            live = await hub.live(match_id)
        except ProtocolError:
            return  # unknown (never stored) or Redis down: the claim lapses, tried again
        transition = await hub.submit(match_id, Tick())
        if not transition.changed and transition.error is None:
            hub.due[match_id] = live.match  # the claim moved it: write the real one back
            hub.reconsider(live)  # a bot whose thinker died is taken over here

    # ---- leases ----------------------------------------------------------------------

    async def renew(self) -> None:
        hub = self.hub
        now = hub.clock.now_ms()
        if not await hub.presence.renew(now):
            log.warning("presence_lapsed_here", pid=hub.pid)
            await hub.hold_again()
        for match_id, seat in await hub.presence.lapsed(now):
            hub.spawn(self._gone(match_id, seat))
        await hub.redis_lobby.refresh()
        for live in hub.watched():
            hub.watchers_changed(live)

    async def _gone(self, match_id: str, seat: int) -> None:
        try:
            await self.hub.seat_gone(match_id, seat)
        except (ProtocolError, StoreUnavailable) as exc:
            self.hub.outage.failed("presence_sweep_failed", exc, match=match_id)
