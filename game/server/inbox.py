"""Runs one connection's messages through its session: in order, one at a time, with no
task while the connection is idle.

Each message is handled by a task of its own, in the connection's own context; the
messages that arrive meanwhile wait in the backlog, and the task's end starts the next.
At most `BATCH` messages are taken from the backlog per loop iteration, so a peer
pipelining thousands of messages cannot hold the loop; a backlog over `HIGH` pauses
reading from the socket until it is down to `LOW` (hysteresis: never a pause/resume
per message).

A handler that does not suspend could be stepped by hand (`coro.send(None)`) inside
the `data_received` that completed its message, with no task: that saves 1.7-2.8 µs
per message, 1-2 % of a whole move in the server (`bench_move_path.py
--dispatch-turns`; "Hot-path tricks" in docs/performance.md), too little for the code
it takes.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Callable, Coroutine
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
                 "session")

    def __init__(self, session: Session, pause: Callable[[bool], None]) -> None:
        self.session = session
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
        """Start handling `item` in a task, which goes on with the backlog when it is
        done (False); True when there is nothing to handle."""
        if item is _END:
            self.session.conn.on_close = None  # the last reference back to this inbox
            coro: Coroutine[Any, Any, None] = self.session.end()
        elif not self.session.conn.reading:
            return True  # the server closes: what the peer sent after that is not read
        else:
            coro = self.session.handle(item)
        task = self.session.conn.loop.create_task(coro, context=self._context)
        task.add_done_callback(self._resumed)
        self._task = task
        return False

    def _resumed(self, task: asyncio.Task[None]) -> None:
        self._task = None
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self._failed(error)
        self._next(BATCH)

    def _failed(self, error: BaseException) -> None:
        conn = self.session.conn
        log.error("session_failed", player=conn.player, address=conn.address, exc_info=error)
        conn.close(CloseCode.INTERNAL, "internal error")

