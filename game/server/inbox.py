"""Runs one connection's messages through its session: in order, one at a time, with no
task while the connection is idle.

A message is handled at once, inside the `data_received` that completed it: the
session's coroutine is stepped by hand (`coro.send(None)`) in the connection's own
context. A handler that finishes without really suspending (the common case: the
memory store, an uncontended match lock) costs no task and no extra loop iteration.
One that does suspend (a SQLite commit) is adopted by a task that resumes it exactly
where it stopped; the messages that arrive meanwhile wait in the backlog, and the task
goes on with them. At most `BATCH` messages are handled per loop iteration, so a peer
pipelining thousands of cheap messages cannot hold the loop; a backlog over `HIGH`
pauses reading from the socket until it is down to `LOW` (hysteresis: never a
pause/resume per message).
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any

import structlog

from game.protocol.errors import CloseCode
from game.server.session import Session

log = structlog.get_logger("game.ws")

BATCH = 8
HIGH = 64
LOW = 16

_END: Any = object()
"""Backlog marker: the session is over (the socket went, or the server closes it)."""


class Inbox:
    __slots__ = ("_backlog", "_busy", "_context", "_ending", "_pause", "_paused", "_task",
                 "always_task", "session")

    def __init__(self, session: Session, pause: Callable[[bool], None],
                 always_task: bool = False) -> None:
        self.session = session
        self.always_task = always_task
        """Run every message in a task (the Redis mode: every command awaits Redis, and
        its client's timeouts need a task)."""
        self._pause = pause
        """Called with True to stop reading from the socket, False to read again."""
        self._paused = False
        self._backlog: deque[Any] | None = None
        self._busy = False
        self._ending = False
        self._task: asyncio.Task[None] | None = None
        # log context (e.g. the player bound at hello) lives with the connection, as it
        # would in a task of its own
        self._context = contextvars.copy_context()

    def put(self, frame: str | bytes) -> None:
        """A complete message arrived."""
        if self._ending:
            return
        if self._busy:
            self._hold(frame)
        elif self.session.conn.reading:
            self._busy = True
            if self._run(frame):
                self._next(BATCH - 1)

    def end(self) -> None:
        """No more messages: run the session's end after whatever is being handled (the
        rest of the backlog is skipped once the connection is closing)."""
        if self._ending:
            return
        self._ending = True
        if self._busy:
            self._hold(_END)
        else:
            self._busy = True
            # never inside the caller: `end` is called from other sessions' handlers
            # (a takeover closes the older connection) and from transport callbacks
            self._hold(_END)
            self.session.conn.loop.call_soon(self._next, BATCH)

    @property
    def idle(self) -> bool:
        return not self._busy

    def _hold(self, item: Any) -> None:
        backlog = self._backlog
        if backlog is None:
            backlog = self._backlog = deque()
        backlog.append(item)
        if len(backlog) > HIGH and not self._paused:
            self._paused = True
            self._pause(True)

    def _next(self, budget: int) -> None:
        """Handle held messages until one suspends, the budget is spent or none is left."""
        backlog = self._backlog
        while backlog:
            if budget <= 0:
                self.session.conn.loop.call_soon(self._next, BATCH)
                return
            budget -= 1
            item = backlog.popleft()
            if self._paused and len(backlog) <= LOW:
                self._paused = False
                self._pause(False)
            if not self._run(item):
                return
        self._busy = False

    def _run(self, item: Any) -> bool:
        """Start handling `item`; True when it is done already, False when a task now
        finishes it (and then goes on with the backlog)."""
        if item is _END:
            self.session.conn.on_close = None  # the last reference back to this inbox
            coro: Coroutine[Any, Any, None] = self.session.end()
        elif not self.session.conn.reading:
            return True  # the server closes: what the peer sent after that is not read
        else:
            coro = self.session.handle(item)
        if self.always_task:
            # every command of the Redis mode awaits Redis, and its client's timeouts
            # need a task: stepping by hand would only add a step
            task = self.session.conn.loop.create_task(coro, context=self._context)
        else:
            try:
                suspended = self._context.run(coro.send, None)
            except StopIteration:
                return True
            except Exception:
                self._failed()
                return True
            task = self.session.conn.loop.create_task(_resume(coro, suspended),
                                                      context=self._context)
        task.add_done_callback(self._resumed)
        self._task = task
        return False

    def _resumed(self, task: asyncio.Task[None]) -> None:
        self._task = None
        if not task.cancelled() and task.exception() is not None:
            self._failed(task.exception())
        self._next(BATCH)

    def _failed(self, error: BaseException | None = None) -> None:
        conn = self.session.conn
        log.error("session_failed", player=conn.player, address=conn.address,
                  exc_info=error or True)
        conn.close(CloseCode.INTERNAL, "internal error")


async def _resume(coro: Coroutine[Any, Any, None], suspended: Any) -> None:
    await _adopt(coro, suspended)


@types.coroutine
def _adopt(coro: Coroutine[Any, Any, None], suspended: Any) -> Generator[Any, Any, None]:
    """Go on with a coroutine that was started by hand and suspended on `suspended`
    (what it yielded: a future, or None for a bare `sleep(0)`), as `await` would:
    the task sees exactly what the coroutine yields and sends or throws back into it."""
    while True:
        try:
            value = yield suspended
        except BaseException as error:  # e.g. CancelledError: pass it on
            try:
                suspended = coro.throw(error)
            except StopIteration:
                return
        else:
            try:
                suspended = coro.send(value)
            except StopIteration:
                return
