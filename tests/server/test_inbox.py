"""The native endpoint's message driver (game.server.inbox): one message at a time and in
order, each in a task, none while idle; a bounded batch per loop iteration;
back-pressure with hysteresis; failures contained."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any, cast

from game.server.inbox import BATCH, HIGH, LOW, Inbox
from game.server.session import Session

current: contextvars.ContextVar[str] = contextvars.ContextVar("current", default="none")


class FakeConn:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.close_code: int | None = None
        self.on_close: Any = None
        self.player, self.address = "p", "127.0.0.1"

    @property
    def reading(self) -> bool:
        return self.close_code is None

    def close(self, code: int, reason: str = "") -> None:
        self.close_code = code


class FakeSession:
    """Records what ran, and in which order."""

    def __init__(self) -> None:
        self.conn = FakeConn()
        self.log: list[str] = []
        self.gates: dict[str, asyncio.Future[None]] = {}
        self.active = 0
        self.most_active = 0

    async def handle(self, frame: str | bytes) -> None:
        name = str(frame)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if name.startswith("set:"):
                current.set(name[4:])
            if name.startswith("wait"):
                self.gates[name] = self.conn.loop.create_future()
                await self.gates[name]
            if name == "yield":
                await asyncio.sleep(0)
            if name == "boom":
                raise RuntimeError("a bug")
            self.log.append(f"{name}@{current.get()}")
        finally:
            self.active -= 1

    async def end(self) -> None:
        self.log.append("end")


def make() -> tuple[Inbox, FakeSession, list[bool]]:
    session = FakeSession()
    pauses: list[bool] = []
    return Inbox(cast(Session, session), pauses.append), session, pauses


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_message_is_handled_in_a_task_and_the_inbox_is_idle_after() -> None:
    inbox, session, _ = make()
    inbox.put("a")
    assert session.log == [] and not inbox.idle  # never inside `put`
    await settle()
    assert session.log == ["a@none"] and inbox.idle


async def test_suspended_handlers_keep_the_order_and_run_one_at_a_time() -> None:
    inbox, session, _ = make()
    inbox.put("wait1")
    inbox.put("b")
    inbox.put("yield")
    inbox.put("c")
    await settle()
    assert session.log == [] and not inbox.idle
    session.gates["wait1"].set_result(None)
    await settle()
    assert session.log == ["wait1@none", "b@none", "yield@none", "c@none"]
    assert session.most_active == 1 and inbox.idle


async def test_context_is_the_connections_own() -> None:
    inbox, session, _ = make()
    other, other_session, _ = make()
    inbox.put("set:alice")
    inbox.put("wait2")
    other.put("x")
    await settle()
    session.gates["wait2"].set_result(None)
    await settle()
    inbox.put("y")
    await settle()
    assert session.log == ["set:alice@alice", "wait2@alice", "y@alice"]
    assert other_session.log == ["x@none"] and current.get() == "none"


async def test_a_long_backlog_is_handled_in_batches_with_hysteresis() -> None:
    inbox, session, pauses = make()
    inbox.put("wait3")
    for index in range(HIGH + 10):
        inbox.put(str(index))
    assert pauses == [True]  # once, however many more arrive
    await settle()
    session.gates["wait3"].set_result(None)
    await asyncio.sleep(0)  # the task resumes and handles one batch, no more
    await asyncio.sleep(0)
    assert 1 <= len(session.log) <= BATCH + 1
    await settle()
    await settle()
    while not inbox.idle:
        await asyncio.sleep(0)
    assert session.log == ["wait3@none", *[f"{i}@none" for i in range(HIGH + 10)]]
    assert pauses == [True, False]  # resumed once the backlog was down to LOW
    assert LOW < HIGH


async def test_a_failure_closes_1011_and_the_end_still_runs() -> None:
    inbox, session, _ = make()
    inbox.put("boom")
    await settle()
    assert session.conn.close_code == 1011
    inbox.put("ignored")  # the server closes: what follows is not read
    inbox.end()
    await settle()
    assert session.log == ["end"]


async def test_end_waits_for_the_message_in_progress() -> None:
    inbox, session, _ = make()
    inbox.put("wait4")
    inbox.end()
    inbox.put("late")  # after the end: dropped
    await settle()
    assert session.log == []
    session.gates["wait4"].set_result(None)
    await settle()
    assert session.log == ["wait4@none", "end"]
