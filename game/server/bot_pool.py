"""Worker slots for bot searches and the fair order in which bot turns get them.

Each of the N slots is one worker process (`game.server.bot_worker`) and a pipe.
Waiting turns sit in a `FairQueue`, taken round-robin across addresses and, within
an address, across players, so one player's many matches cannot starve another
player's bot. A turn's deadline starts when a slot takes it, never while it waits.
A worker that does not answer within its deadline plus `STUCK_GRACE` (it ignores its
own timer: stuck in C code) is killed and its slot gets a fresh process; the other
slots' searches go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Generic, TypeVar

import structlog

from game.server import bot_worker
from game.server.bot_worker import Answer, Job
from game.server.metrics import Metrics

log = structlog.get_logger("game.bots")

STUCK_GRACE = 5.0
"""Seconds past a worker's own deadline before the server kills it."""
JOIN_SECONDS = 2.0
WARM_UP_SECONDS = 60.0
MAX_RESTART_DELAY = 10.0
Owner = tuple[str, str]
"""(address, player): whose turn it is, for fair scheduling."""
T = TypeVar("T")


class FairQueue(Generic[T]):
    """Round-robin across addresses, then across players of an address; first come
    first served within a player."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, deque[T]]] = {}
        self._addresses: deque[str] = deque()
        self._players: dict[str, deque[str]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, owner: Owner, item: T) -> None:
        address, player = owner
        players = self._items.get(address)
        if players is None:
            players = self._items[address] = {}
            self._addresses.append(address)
            self._players[address] = deque()
        items = players.get(player)
        if items is None:
            items = players[player] = deque()
            self._players[address].append(player)
        items.append(item)
        self._size += 1

    def pop(self) -> T:
        address = self._addresses.popleft()
        order = self._players[address]
        player = order.popleft()
        items = self._items[address][player]
        item = items.popleft()
        self._size -= 1
        if items:
            order.append(player)
        else:
            del self._items[address][player]
        if order:
            self._addresses.append(address)
        else:
            del self._items[address], self._players[address]
        return item

    def remove(self, owner: Owner, item: T) -> None:
        address, player = owner
        items = self._items.get(address, {}).get(player)
        if items is None or item not in items:
            return
        items.remove(item)
        self._size -= 1
        if items:
            return
        del self._items[address][player]
        self._players[address].remove(player)
        if not self._players[address]:
            del self._items[address], self._players[address]
            self._addresses.remove(address)


@dataclass(eq=False)
class Task:
    job: Job
    owner: Owner
    deadline: float
    future: asyncio.Future[Answer] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    queued: float = field(default_factory=time.perf_counter)
    started: float | None = None
    """When a worker took it (perf_counter), for the metrics."""

    def settle(self, answer: Answer) -> None:
        if not self.future.done():
            self.future.set_result(answer)


class State(Enum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    CLOSED = "closed"


class Slot:
    """One worker process, restarted whenever it dies or has to be killed."""

    def __init__(self, index: int, on_change: Callable[[], None]) -> None:
        self.index = index
        self.state = State.STARTING
        self.task: Task | None = None
        self._on_change = on_change
        self._loop = asyncio.get_running_loop()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._failures = 0
        self.dead: list[BaseProcess] = []  # killed, to be reaped
        self._start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        context = get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=bot_worker.main, args=(theirs, os.getpid()),
                                  name=f"bot-worker-{self.index}", daemon=True)
        process.start()  # from the loop's thread: PDEATHSIG follows the starting thread
        theirs.close()
        self._process, self._conn, self.state = process, ours, State.STARTING
        self._loop.add_reader(ours.fileno(), self._on_readable)

    def run(self, task: Task) -> None:
        assert self._conn is not None and self.state is State.IDLE
        self.state, self.task = State.BUSY, task
        task.started = time.perf_counter()
        try:
            self._conn.send(task.job)  # the worker waits in recv: the pipe has room
        except OSError:  # it died since it said it was ready
            self._lost()
            return
        self._timer = self._loop.call_later(task.deadline + STUCK_GRACE, self._stuck)

    def _on_readable(self) -> None:
        assert self._conn is not None
        try:
            message: Answer = self._conn.recv()  # one small write: it is all there
        except (EOFError, OSError):
            self._lost()
            return
        if message[0] == "ready":
            self.state, self._failures = State.IDLE, 0
        else:
            self._settle(message)
        self._on_change()

    def _settle(self, answer: Answer) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task, self.task = self.task, None
        self.state = State.IDLE
        if task is not None:
            task.settle(answer)

    def _lost(self) -> None:
        process = self._process
        exitcode = process.exitcode if process is not None else None
        log.error("bot_worker_exited", slot=self.index, pid=self.pid, exitcode=exitcode,
                  starting=self.state is State.STARTING)
        self._restart(("crashed", "bot worker crashed"))

    def _stuck(self) -> None:
        self._timer = None
        log.error("bot_worker_stuck", slot=self.index, pid=self.pid)
        self._restart(("stuck", "bot worker did not answer; restarted"))

    def _restart(self, answer: Answer) -> None:
        starting = self.state is State.STARTING
        self._stop()
        self._settle(answer)
        self.state = State.STARTING
        if not starting:
            self._start()
            return
        # a worker that dies before it is ready would die again at once: back off
        self._failures += 1
        delay = min(float(self._failures), MAX_RESTART_DELAY)
        self._loop.call_later(delay, self._start_unless_closed)

    def _start_unless_closed(self) -> None:
        if self.state is not State.CLOSED:
            self._start()

    def _stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._conn.fileno())
            self._conn.close()
            self._conn = None
        if self._process is not None:
            with contextlib.suppress(Exception):
                self._process.kill()
            self.dead.append(self._process)
            self._process = None

    def reap(self) -> None:
        self.dead = [process for process in self.dead if process.is_alive()]

    def close(self) -> BaseProcess | None:
        """Stop taking work; the process, for the caller to join."""
        process = self._process
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._conn.fileno())
            self._conn.close()  # the worker's recv ends: it exits on its own
            self._conn = None
        if process is not None:
            with contextlib.suppress(Exception):
                process.terminate()
        self._process = None
        self.state = State.CLOSED
        self._settle(("crashed", "the server is stopping"))
        return process


class BotPool:
    """Up to `workers` slots, started as turns need them, fed in fair order."""

    def __init__(self, workers: int, queue_limit: int, metrics: Metrics | None = None) -> None:
        self.workers = max(1, workers)
        self.queue_limit = queue_limit
        self.metrics = metrics or Metrics()
        self._slots: list[Slot] = []
        self._queue: FairQueue[Task] = FairQueue()
        self._ready: asyncio.Event | None = None
        self._closed = False

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def states(self) -> dict[str, int]:
        """How many worker slots are in each state (for /metrics)."""
        counts = dict.fromkeys((state.value for state in State), 0)
        for slot in self._slots:
            counts[slot.state.value] += 1
        return counts

    async def warm_up(self) -> None:
        """Start one worker and wait until it is ready: a server whose workers cannot
        start fails at start, not at its first bot move."""
        self._ready = asyncio.Event()
        if not self._slots:
            self._add_slot()
        await asyncio.wait_for(self._ready.wait(), WARM_UP_SECONDS)

    async def run(self, owner: Owner, job: Job, deadline: float) -> Answer:
        if self._closed:
            return ("crashed", "the server is stopping")
        if len(self._queue) >= self.queue_limit:
            busy = ("busy", f"{len(self._queue)} bot turns are already waiting")
            self.metrics.bot_turn(job, busy)
            return busy
        task = Task(job, owner, deadline)
        self._queue.push(owner, task)
        self._pump()
        try:
            answer = await task.future
        finally:
            self._queue.remove(owner, task)  # cancelled while waiting: free its place
        started = task.started
        if started is None:
            self.metrics.bot_turn(job, answer)
        else:
            self.metrics.bot_turn(job, answer, started - task.queued,
                                  time.perf_counter() - started)
        return answer

    def _pump(self) -> None:
        """Hand waiting turns to idle slots, fairest first; start slots if short."""
        if self._closed:
            return
        idle = [slot for slot in self._slots if slot.state is State.IDLE]
        if idle and self._ready is not None:
            self._ready.set()
        while idle and self._queue:
            task = self._queue.pop()
            if not task.future.done():
                idle.pop().run(task)
        starting = sum(slot.state is State.STARTING for slot in self._slots)
        while len(self._queue) > starting and len(self._slots) < self.workers:
            self._add_slot()
            starting += 1
        for slot in self._slots:
            slot.reap()

    def _add_slot(self) -> None:
        self._slots.append(Slot(len(self._slots), self._pump))

    def close(self) -> None:
        """Stop every worker and wait for them to exit (kill those that do not)."""
        self._closed = True
        processes = [slot.close() for slot in self._slots]
        processes += [process for slot in self._slots for process in slot.dead]
        for process in processes:
            if process is None:
                continue
            process.join(JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                process.join(JOIN_SECONDS)
        self._slots.clear()
