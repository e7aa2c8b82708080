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
from collections.abc import Awaitable, Callable

import structlog

from game.core.match import Match, Phase, Tick
from game.protocol.errors import ProtocolError
from game.server.cluster.hub import ClusterHub
from game.store.redis.deadlines import Deadlines
from game.store.redis.errors import StoreUnavailable
from game.store.redis.store import RATING_SWEEP_SECONDS

log = structlog.get_logger("game.cluster.sweep")

WRITE_SECONDS = 0.1
"""How often the deadlines committed meanwhile are written to the shared index."""
CLAIM_SECONDS = 0.2
"""How often due deadlines are claimed (a deadline fires at most this late when no
process holding its match armed a timer)."""
CLAIM_LEASE_MS = 3_000
BOT_RECHECK_MS = 12_000
"""A bot's turn is looked at again this long after it began (after its lease lapsed)."""
WRITE_BATCH = 64
"""Deadlines written at once, at most; the rest wait for the next round."""


class Sweeper:
    """One loop per duty, each on its own period: a slow one (Redis answering late, a
    burst of deadlines to write) never holds up the presence lease of the others."""

    def __init__(self, hub: ClusterHub) -> None:
        self.hub = hub
        self.deadlines = Deadlines(hub.redis_store.redis)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        renew_seconds = self.hub.presence.ttl_ms / 3000
        for name, seconds, duty in (
                ("deadline_write", WRITE_SECONDS, self.write_deadlines),
                ("deadline_claim", CLAIM_SECONDS, self.fire_due),
                ("presence", renew_seconds, self.renew),
                ("ratings", RATING_SWEEP_SECONDS, self.hub.redis_store.apply_pending_ratings)):
            self._tasks.append(loop.create_task(self._every(name, seconds, duty)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _every(self, name: str, seconds: float,
                     duty: Callable[[], Awaitable[object]]) -> None:
        """Run `duty` every `seconds` of the loop's clock (not after each run: a slow
        run is followed at once by the next, never by a whole period more)."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += seconds
            await asyncio.sleep(max(0.0, due - loop.time()))
            due = max(due, loop.time() - seconds)  # after a stall: no burst of catch-ups
            if self.hub.stopping:
                continue  # draining: the other processes fire, this one only finishes
            try:
                await duty()
            except (StoreUnavailable, ProtocolError) as exc:
                self.hub.outage.failed(f"{name}_failed", exc)
            except Exception:
                log.exception("sweep_crashed", duty=name)

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
        if not hub.due:
            return
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
