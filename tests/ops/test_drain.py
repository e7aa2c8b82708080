"""Issue 18: readiness, the drain on SIGTERM / SIGINT, and a stop that leaves nothing.

Every test runs real server processes. A drain tells each client with a `notice`,
finishes the commands in flight, closes with 1012, and the process exits 0; the SDK
rides a restart out on the same SQLite file without one error event; no bot worker
nor any other descendant of the server outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest
import websockets

from game.client import Backoff, Client, Disconnected, ErrorEvent, Event, Notice
from tests.hostile.harness import assert_clean_logs, wait_until
from tests.support import ROOT, ServerProcess, connect, seated, start_server

TTT_WIN = [0, 3, 1, 4, 2]  # seat 0 takes the top row
SLOW_STORE = {"db_busy_timeout": 60.0, "readiness_timeout": 0.5}
"""A commit waits up to a minute for a file the test locks; /readyz gives up early."""


@contextlib.contextmanager
def locked(db: Path) -> Iterator[None]:
    """Another process's write lock on the server's SQLite file: the server's writer
    waits for it (up to db_busy_timeout), so whatever it commits is in flight."""
    other = sqlite3.connect(db, isolation_level=None, timeout=10)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def readyz(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/readyz", timeout=10)


async def test_readyz_needs_a_store_round_trip_while_healthz_needs_the_loop(
        tmp_path: Path) -> None:
    db = tmp_path / "game.sqlite3"
    server = start_server(tmp_path, db=str(db), **SLOW_STORE)
    try:
        async with httpx.AsyncClient(base_url=server.http) as http:
            ready = await readyz(http)
            assert ready.status_code == 200, ready.text
            assert ready.json() == {"ready": True, "draining": False}
            with locked(db):
                stuck = await readyz(http)
                assert stuck.status_code == 503
                assert stuck.json()["problem"] == "the store did not answer in time"
                alive = await http.get("/healthz")
                assert alive.status_code == 200 and alive.json()["ok"] is True

            async def ready_again() -> bool:
                return (await readyz(http)).status_code == 200
            await wait_until(ready_again, what="/readyz to answer 200 once the store does")
    finally:
        assert server.stop() == 0
    assert_clean_logs(server)


async def test_memory_store_is_ready_at_once(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.http) as http:
            assert (await readyz(http)).json() == {"ready": True, "draining": False}
    finally:
        assert server.stop() == 0


async def test_a_drain_refuses_new_work_finishes_moves_in_flight_then_closes_1012(
        tmp_path: Path) -> None:
    db = tmp_path / "game.sqlite3"
    server = start_server(tmp_path, db=str(db), drain_seconds=60, **SLOW_STORE)
    assert server.process is not None
    try:
        async with connect(server) as a, connect(server) as b, connect(server) as c, \
                httpx.AsyncClient(base_url=server.http) as kept:
            match, by_seat = await seated(a, b, "tictactoe")
            await c.hello("bystander")
            assert (await readyz(kept)).status_code == 200  # a kept-alive HTTP socket
            with locked(db):
                mover = by_seat[0]
                await mover.send({"type": "move", "match": match, "move": 4, "version":
                                  mover.versions[match], "id": "in-flight"})
                # the store is stuck: /readyz gives up after readiness_timeout, long after
                # the move (sent first) reached the hub and began waiting for its commit
                assert (await readyz(kept)).status_code == 503
                server.process.send_signal(signal.SIGTERM)
                for client in (a, b, c):
                    notice = await client.expect("notice")
                    assert notice["reason"] == "restart" and notice["reconnect_ms"] == 1000
                # the drain waits for the move's commit: meanwhile nothing new starts
                refused = await c.request({"type": "queue", "game": "tictactoe"})
                assert refused["type"] == "error" and refused["code"] == "unavailable"
                refused = await c.request({"type": "play_bot", "game": "tictactoe",
                                           "level": "random"})
                assert refused["code"] == "unavailable"
                draining = await readyz(kept)
                assert draining.status_code == 503 and draining.json()["draining"] is True
                async with httpx.AsyncClient(base_url=server.http) as fresh:
                    turned_away = await fresh.get("/healthz", timeout=10)
                assert turned_away.status_code == 503, "a new socket during the drain"
                with pytest.raises(websockets.InvalidStatus) as refused_ws:
                    await websockets.connect(server.ws, subprotocols=["game.v1.json"])  # type: ignore[list-item]
                assert refused_ws.value.response.status_code == 503
            # the store answers again: the move in flight is committed and acknowledged
            ack = await mover.expect(lambda m: m.get("ref") == "in-flight")
            assert ack["type"] == "ack", ack
            for client in (a, b, c):
                await asyncio.wait_for(client.closed.wait(), 30)
                assert client.close_code == 1012
        assert await asyncio.to_thread(server.process.wait, 30) == 0

        server.start()  # the same port and SQLite file
        async with connect(server) as again:
            assert mover.token is not None
            welcome = await again.hello(token=mover.token)
            assert welcome["matches"] == [match]
            view = await again.until_view(match, lambda v: v["players"][0]["online"])
            assert view["status"] == "active" and view["moves"] == [4]
    finally:
        server.stop()
    assert_clean_logs(server)


# ---- the SDK across a restart -------------------------------------------------------


@contextlib.asynccontextmanager
async def recording(client: Client) -> AsyncIterator[list[Event]]:
    """Every event the client emits while the block runs."""
    seen: list[Event] = []

    async def record() -> None:
        async for event in client.events():
            seen.append(event)

    task = asyncio.get_running_loop().create_task(record())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def play(by_seat: dict[int, Client], match: str, moves: list[int]) -> None:
    for move in moves:
        view = by_seat[0].view(match)
        count = len(view["moves"]) + 1

        def seen(view: dict[str, Any], count: int = count) -> bool:
            return len(view["moves"]) >= count

        await by_seat[view["turn"]].move(match, move)
        for client in by_seat.values():
            await client.wait_view(match, seen, timeout=30)


def closed(events: list[Event]) -> Callable[[], bool]:
    return lambda: any(isinstance(event, Disconnected) for event in events)


def sdk(server: ServerProcess, name: str, codec: Any) -> Client:
    # quick retries while the server is down, so the test waits little once it is back
    return Client(server.ws, name=name, codec=codec, backoff=Backoff(0.05, 0.5))


async def test_sdk_clients_resume_after_a_drain_and_finish_without_an_error(
        tmp_path: Path, codec: str) -> None:
    server = start_server(tmp_path, db=str(tmp_path / "game.sqlite3"))
    assert server.process is not None
    try:
        async with sdk(server, "ada", codec) as a, sdk(server, "bob", codec) as b, \
                recording(a) as a_events, recording(b) as b_events:
            room = await a.create_room("tictactoe")
            match = await b.join_room(room.code)
            await a.wait_view(match, lambda v: v["status"] == "active", timeout=30)
            by_seat = {a.view(match)["you"]: a, b.view(match)["you"]: b}
            await play(by_seat, match, TTT_WIN[:2])
            deadline = a.view(match)["deadline"]

            signalled = time.time()
            server.process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(server.process.wait, 30) == 0
            for client, events in ((a, a_events), (b, b_events)):
                await client.wait_until(closed(events), timeout=30)
                notices = [e for e in events if isinstance(e, Notice)]
                assert [n.reason for n in notices] == ["restart"]
                closes = [e for e in events if isinstance(e, Disconnected)]
                assert closes[0].code == 1012 and closes[0].reconnecting
                assert closes[0].notice == notices[0]

            restarted = time.time()
            server.start()  # the same port and SQLite file
            for client in (a, b):
                await client.wait_connected(60)
            view = await a.wait_view(match, lambda v: v["players"][1]["online"], timeout=30)
            assert view["status"] == "active"
            # the clocks stood still from the drain to the restart: the deadline moved
            # later by at least that long (less a second for the signal's delivery)
            assert view["deadline"] - deadline >= (restarted - signalled - 1) * 1000

            await play(by_seat, match, TTT_WIN[2:])
            result = a.view(match)["result"]
            assert result["reason"] == "line" and result["winner"] == 0
            for client, events in ((a, a_events), (b, b_events)):
                assert not [e for e in events if isinstance(e, ErrorEvent)], events
                assert client.stats.reconnects == 1
    finally:
        server.stop()
    assert_clean_logs(server)


# ---- nothing left behind ------------------------------------------------------------


async def _descendants_with_busy_bots(server: ServerProcess) -> list[psutil.Process]:
    """Two bot searches that run until the server stops them, and every process the
    server has started by then (bot workers, multiprocessing's resource tracker)."""
    assert server.process is not None
    parent = psutil.Process(server.process.pid)
    async with contextlib.AsyncExitStack() as stack:
        for index in range(2):
            client = await stack.enter_async_context(connect(server))
            await client.hello(f"busy {index}")
            started = await client.request({"type": "play_bot", "game": "tictactoe",
                                            "level": "stalls", "seat": 1})
            assert started["type"] == "snapshot", started

        async def workers_busy() -> bool:
            workers = [p for p in parent.children(recursive=True)
                       if "spawn_main" in " ".join(p.cmdline())]
            return len(workers) >= 2
        await wait_until(workers_busy, what="two bot workers")
        found: list[psutil.Process] = parent.children(recursive=True)
        return found


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_leaves_no_descendant_and_exits_0(
        tmp_path: Path, how: signal.Signals) -> None:
    server = start_server(tmp_path, bot_workers=2, bot_time_budget=5.0,
                          bot_plugins={"stalls": "tests.hostile.bot_plugins:stalls"})
    assert server.process is not None
    try:
        descendants = await _descendants_with_busy_bots(server)
        assert len(descendants) >= 3, descendants  # two workers and the resource tracker
    finally:
        code = server.stop(how)
    assert code == 0

    async def all_gone() -> bool:
        for process in descendants:
            with contextlib.suppress(psutil.NoSuchProcess):
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    return False
        return True
    await wait_until(all_gone, deadline=10, what="every descendant of the server to exit")
    logs = server.logs()
    assert '"event":"drain_finished"' in logs
    reason = "restart" if how == signal.SIGTERM else "shutdown"
    assert f'"reason":"{reason}"' in logs
    assert_clean_logs(server)


# ---- the systemd unit ---------------------------------------------------------------


def unit_settings(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The [Service] keys of a unit file (the last of a repeated key) and its
    Environment= variables."""
    keys: dict[str, str] = {}
    env: dict[str, str] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        if section == "[Service]":
            keys[key] = value
            if key == "Environment":
                name, _, setting = value.partition("=")
                env[name] = setting
    return keys, env


def test_the_systemd_unit_gives_the_drain_time_to_finish() -> None:
    from game.server.settings import Settings

    keys, env = unit_settings(ROOT / "docs" / "deploy" / "game.service")
    assert keys["KillMode"] == "mixed"  # SIGTERM to the server only: it stops its workers
    assert keys["Restart"] == "on-failure"
    drain = float(env["GAME_DRAIN_SECONDS"])
    assert drain == Settings.model_fields["drain_seconds"].default
    # the drain, then closing the store and joining the bot workers
    assert float(keys["TimeoutStopSec"]) >= drain + 10
    assert env["GAME_DB"].startswith(f"/var/lib/{keys['StateDirectory']}/")
    assert keys["ProtectSystem"] == "strict"
    unknown = [name for name in env
               if name.removeprefix("GAME_").lower() not in Settings.model_fields]
    assert not unknown, f"not settings: {unknown}"
