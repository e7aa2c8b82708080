"""How the server stops (SIGTERM, SIGINT) so that players see a pause, not a failure.

A drain begins at the signal (`begin`): from then on

* new sockets are answered 503 at their accept (the `Gate`, in `GuardedHttpProtocol`)
  and `/readyz` answers 503, so a load balancer or a rolling restart stops sending
  players here;
* `queue`, `create_room` and `play_bot` are answered `unavailable` (no new pairings);
  moves and the other commands of matches in play still apply;
* the hub stops its clocks (`Hub.begin_stopping`): no deadline fires, no grace runs
  out, and the next start credits the downtime from this moment.

`run` then tells every connected client with a `notice` (its reason and a suggested
`reconnect_ms`), waits until no command is half-applied, closes every WebSocket with
1012 behind what was queued for it, and waits for the sockets to go; a peer that
has not gone by the end of `drain_seconds` is aborted. Every acknowledged move is in
the store already (the hub commits before it answers), so nothing is lost on the way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

import structlog

from game.protocol.errors import CloseCode
from game.server.connection import Outgoing
from game.server.hub import Hub
from game.server.session import Gate
from game.server.settings import Settings

log = structlog.get_logger("game.drain")

Reason = Literal["restart", "shutdown"]
POLL_SECONDS = 0.02
"""How often the drain looks whether commands are still being applied, or sockets
still open: neither has an event of its own, and the drain lasts seconds at most."""
SETTLE_SHARE = 0.5
"""At most this share of `drain_seconds` waits for commands in flight before the close."""
MESSAGES: dict[str, str] = {
    "restart": "The server is restarting; you will be reconnected in a moment.",
    "shutdown": "The server is stopping; reconnect in a moment.",
}


class Drain:
    """See the module docstring. One per app; `begin` is idempotent."""

    def __init__(self, settings: Settings, hub: Hub, gate: Gate) -> None:
        self.settings = settings
        self.hub = hub
        self.gate = gate
        self.reason: Reason | None = None
        self._began = 0.0

    @property
    def draining(self) -> bool:
        return self.reason is not None

    def begin(self, reason: Reason = "restart") -> None:
        """Stop taking new sockets, pairings and clock events; from the event loop."""
        if self.reason is not None:
            return
        self.reason = reason
        self._began = time.monotonic()
        self.gate.draining = True
        self.hub.begin_stopping()
        log.info("drain_started", reason=reason, websockets=len(self.gate.open),
                 seconds=self.settings.drain_seconds)

    async def run(self, hurry: Callable[[], bool] = lambda: False) -> None:
        """Notice, settle, close with 1012, wait for the sockets (all within
        `drain_seconds` of `begin`); `hurry()` true (a second Ctrl-C) cuts the waits."""
        self.begin()
        deadline = self._began + self.settings.drain_seconds
        told = self._tell_everyone()
        settle_by = time.monotonic() + (deadline - time.monotonic()) * SETTLE_SHARE
        await _until(lambda: not self._applying(), settle_by, hurry)
        for conn in list(self.gate.open):
            conn.close(CloseCode.RESTARTING, "server restarting")
        await _until(lambda: not self.gate.open, deadline, hurry)
        left = list(self.gate.open)
        for conn in left:
            conn.abort()
        log.info("drain_finished", told=told, aborted=len(left),
                 seconds=round(time.monotonic() - self._began, 2))

    def seconds_left(self) -> float:
        """What is left of `drain_seconds` since `begin`."""
        return max(0.0, self._began + self.settings.drain_seconds - time.monotonic())

    def _tell_everyone(self) -> int:
        reason = self.reason or "restart"
        notice = Outgoing({"type": "notice", "reason": reason,
                           "message": MESSAGES.get(reason, MESSAGES["restart"]),
                           "reconnect_ms": self.settings.drain_reconnect_ms})
        told = 0
        for conn in list(self.gate.open):
            if not conn.closing:
                conn.send(notice)  # encoded once per codec, shared
                told += 1
        return told

    def _applying(self) -> bool:
        """A command is between its store commit and its answer on some match."""
        return any(live.lock.locked() for live in self.hub.matches.values())

    async def readiness(self) -> str | None:
        """None when this process should get new players, else why not."""
        if self.draining:
            return "draining"
        try:
            async with asyncio.timeout(self.settings.readiness_timeout):
                await self.hub.store.ping()
        except TimeoutError:
            return "the store did not answer in time"
        except Exception as exc:  # the store is down: logged once a spell, not per probe
            self.hub.outage.failed("readiness_failed", exc)
            return "the store is unavailable"
        return None


async def _until(done: Callable[[], bool], deadline: float,
                 hurry: Callable[[], bool]) -> None:
    """Poll `done` (at least once after letting the loop run) until it holds, the
    monotonic `deadline` passes or `hurry()`."""
    while True:
        await asyncio.sleep(POLL_SECONDS)
        if done() or hurry() or time.monotonic() >= deadline:
            return
