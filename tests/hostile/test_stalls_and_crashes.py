"""The match runtime when the process itself misbehaves (RELIABILITY.md cases 28-30):
it stands still (SIGSTOP), its store fails every commit, it is killed between a
rematch's offers and the new match. And a finished match is logged finished once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

from game.core.match import Match, OfferRematch, PlayMove, Seat, TimeControl, handle, new_match
from game.store.base import PlayerRecord
from game.store.sqlite import SQLiteStore
from tests.hostile.harness import answer_to, barrier
from tests.server.test_play import TTT_WIN
from tests.support import Client, ServerProcess, connect, play_out, seated, start_server

# ---- helpers -----------------------------------------------------------------------


def events(server: ServerProcess, since: int = 0) -> list[dict[str, Any]]:
    """The server's structured log lines after byte `since`."""
    with server.log_path.open("rb") as handle_:
        handle_.seek(since)
        text = handle_.read().decode("utf-8", "replace")
    found = []
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:  # a traceback's lines, multiprocessing's warnings
            continue
    return found


def finished_with(reason: str) -> Any:
    def check(view: dict[str, Any]) -> bool:
        return bool(view["status"] == "finished" and view["result"]["reason"] == reason)

    return check


async def offer(client: Client, match: str) -> dict[str, Any]:
    answer = await client.request({"type": "rematch", "match": match})
    assert answer["type"] == "ack", answer
    return answer


def new_snapshot(old: str) -> Any:
    def check(message: dict[str, Any]) -> bool:
        return bool(message.get("type") == "snapshot" and message["match"] != old)

    return check


# ---- match_finished once -------------------------------------------------------------


async def test_a_finished_match_is_logged_finished_once(tmp_path: Path) -> None:
    """Rematch offers and a disconnect after the end change the finished match (or its
    players) again: the ending is still logged once."""
    server = start_server(tmp_path)
    try:
        async with connect(server) as a, connect(server) as b:
            match, seats = await seated(a, b, "tictactoe")
            await play_out(seats, match, TTT_WIN)
            await offer(seats[1], match)
            await offer(seats[0], match)
            rematch = (await seats[0].expect(new_snapshot(match)))["match"]
            await seats[1].expect(new_snapshot(match))
            await seats[1].close()
            await seats[0].until_view(rematch, lambda v: not all(
                p["online"] for p in v["players"]))
            await barrier(seats[0])
        ended = [e for e in events(server)
                 if e.get("event") == "match_finished" and e.get("match") == match]
        assert len(ended) == 1, ended
    finally:
        server.stop()


# ---- a stall of the whole process (case 28) ------------------------------------------


@pytest.mark.parametrize("sent", ["during", "after"])
async def test_a_stopped_server_credits_the_stall_to_the_clocks(
    tmp_path: Path, sent: str
) -> None:
    """SIGSTOP for longer than a whole turn, a move sent during the stop (read after
    SIGCONT together with the overdue deadline timer) or just after it (the timer
    surely first): the move is accepted, and the opponent sees the deadline moved later
    by about the stall. A match where nobody moves still times out afterwards."""
    turn = 3.0
    server = start_server(tmp_path, turn_seconds=turn, first_move_seconds=turn,
                          grace_seconds=60)
    assert server.process is not None
    try:
        async with connect(server) as a, connect(server) as b, \
                connect(server) as c, connect(server) as d:
            match, seats = await seated(a, b, "tictactoe")
            idle, _ = await seated(c, d, "tictactoe")
            x, o = seats[0], seats[1]
            first = await x.request({"type": "move", "match": match, "move": 4,
                                     "version": x.versions[match]})
            assert first["type"] == "ack", first
            await o.until_view(match, lambda v: v["moves"] == [4])
            await barrier(x)
            deadline = x.views[match]["deadline"]
            version = o.versions[match]
            x.inbox.clear()
            stall = turn + 2.0
            stopped = time.monotonic()
            os.kill(server.process.pid, signal.SIGSTOP)
            move = {"type": "move", "match": match, "move": 0, "version": version,
                    "id": "during-stop"}
            try:
                if sent == "during":
                    await asyncio.sleep(1.0)  # a move sent one second into the stop
                    await o.send(move)
                await asyncio.sleep(stopped + stall - time.monotonic())  # the stall itself
            finally:
                os.kill(server.process.pid, signal.SIGCONT)
            if sent == "after":
                await o.send(move)
            answer = await o.expect(answer_to("during-stop"))
            assert answer["type"] == "ack", answer
            await x.until_view(match, lambda v: v["moves"] == [4, 0])
            credited = [op["value"] for patch in x.inbox if patch.get("type") == "patch"
                        for op in patch["ops"] if op["path"] == "/deadline"]
            assert credited, x.inbox
            shift = credited[0] - deadline
            assert (stall - 1.0) * 1000 <= shift <= (stall + 3.0) * 1000, (shift, credited)
            assert x.views[match]["status"] == "active"
            # the other match was credited too, and its deadline still fires
            ended = await c.until_view(idle, lambda v: v["status"] == "finished",
                                       timeout=turn + stall + 15)
            assert ended["result"]["reason"] == "aborted", ended
        assert any(e.get("event") == "loop_stalled" for e in events(server))
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


async def test_without_a_stall_a_deadline_fires_on_time(tmp_path: Path) -> None:
    """The stall watch credits nothing when nothing stalled: an unplayed turn times out
    at its deadline (not later)."""
    server = start_server(tmp_path, turn_seconds=2, first_move_seconds=2)
    try:
        async with connect(server) as a, connect(server) as b:
            match, seats = await seated(a, b, "tictactoe")
            await play_out(seats, match, [4, 0])
            deadline = seats[0].views[match]["deadline"]
            view = await seats[1].until_view(match, finished_with("timeout"), timeout=15)
            assert view["result"]["winner"] == 1
            finishing = [m for m in seats[1].inbox if m.get("type") == "patch"
                         and any(op["path"] == "/status" for op in m["ops"])]
            assert finishing and deadline <= finishing[-1]["at"] < deadline + 3000, finishing
        assert not any(e.get("event") == "loop_stalled" for e in events(server))
    finally:
        server.stop()


# ---- a store that fails every commit (case 29) ---------------------------------------


async def test_a_locked_store_backs_off_then_the_deadline_fires(tmp_path: Path) -> None:
    """Another process holds the SQLite file's write lock while a turn deadline expires:
    the server retries with backoff (little CPU, a few log lines, not a traceback a
    try); once the lock is gone the match ends by timeout within the backoff cap."""
    db = tmp_path / "locked.sqlite3"
    cap = 1.0
    server = start_server(tmp_path, db=str(db), db_busy_timeout=0.001, turn_seconds=1,
                          first_move_seconds=5, timer_backoff_seconds=0.05,
                          timer_backoff_max_seconds=cap)
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    try:
        async with connect(server) as a, connect(server) as b:
            match, seats = await seated(a, b, "tictactoe")
            await play_out(seats, match, [4, 0])
            deadline = seats[0].views[match]["deadline"]
            mark = server.log_path.stat().st_size
            lock = sqlite3.connect(db, isolation_level=None)
            try:
                lock.execute("BEGIN EXCLUSIVE")
                await asyncio.sleep(max(0.0, deadline / 1000 - time.time()) + 0.5)  # expiry
                before = process.cpu_times()
                window = 4.0
                await asyncio.sleep(window)  # the locked period being measured
                after = process.cpu_times()
                assert seats[0].views[match]["status"] == "active"
            finally:
                lock.close()  # rolls the open transaction back, releasing the lock
            unlocked = time.monotonic()
            view = await seats[1].until_view(match, finished_with("timeout"), timeout=cap + 10)
            waited = time.monotonic() - unlocked
        assert view["result"]["winner"] == 1
        assert waited < cap + 5, waited
        cpu = (after.user + after.system) - (before.user + before.system)
        assert cpu < window * 0.25, f"{cpu:.2f}s of CPU in {window}s locked"
        logged = events(server, mark)
        failures = [e for e in logged if e.get("level") in ("error", "warning", "critical")]
        assert 1 <= len(failures) <= 6, failures[:10]
        with server.log_path.open("rb") as handle_:
            handle_.seek(mark)
            assert handle_.read().count(b"Traceback") <= 1
        assert any(e.get("event") == "store_recovered" for e in logged)
    finally:
        server.stop()


# ---- a crash between a rematch's offers and the new match (case 30) -----------------

KILL_AFTER = (0.0, 0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, None)
"""Seconds between B's offer leaving and SIGKILL; None: kill once it is acknowledged."""


async def _crash_round(server: ServerProcess, index: int, delay: float | None) -> str:
    """A match played to its end by two new players on `server`, both offering a
    rematch, SIGKILL `delay` after the second offer left, and `server` started again on
    its file: what the players find there."""
    assert server.process is not None
    async with connect(server) as a, connect(server) as b:
        match, seats = await seated(a, b, "tictactoe")
        await play_out(seats, match, TTT_WIN)
        first, second = seats[index % 2], seats[1 - index % 2]
        await offer(first, match)
        await second.send({"type": "rematch", "match": match, "id": "agree"})
        if delay is None:
            await second.expect(answer_to("agree"))
        elif delay:
            await asyncio.sleep(delay)  # the kill's timing is what this round varies
        server.process.kill()
        server.process.wait()
        tokens = {seat: client.token for seat, client in seats.items()}
        second_seat = 1 - index % 2
    server.start()
    return await _resume_after_crash(server, match, tokens, second_seat)


async def _resume_after_crash(
    server: ServerProcess, match: str, tokens: dict[int, str | None], second: int
) -> str:
    async with connect(server) as a, connect(server) as b:
        back = {0: a, 1: b}
        welcomes = {seat: await back[seat].hello(token=tokens[seat]) for seat in (0, 1)}
        rematches = [set(w["matches"]) - {match} for w in welcomes.values()]
        if rematches[0]:
            assert rematches[0] == rematches[1], welcomes
            fresh = rematches[0].pop()
            for seat, client in back.items():
                view = await client.until_view(fresh, lambda v: v["status"] == "active")
                assert view["you"] == 1 - seat, view
            return "rematch started"
        old = await back[second].request({"type": "sync", "match": match})
        assert old["type"] == "snapshot", old
        assert old["view"]["rematch"][second] is False, (
            "both offered and no rematch", old["view"], welcomes)
        await offer(back[second], match)
        for seat, client in back.items():
            snap = await client.expect(new_snapshot(match))
            assert snap["view"]["you"] == 1 - seat and snap["view"]["status"] == "active"
        return "offer lost, re-offered"


async def test_a_crash_as_a_rematch_is_agreed_never_loses_the_rematch(
    tmp_path: Path,
) -> None:
    """SIGKILL at varied moments around the agreeing offer, restart on the same file:
    either the rematch exists and both players are seated in it, or the agreeing offer
    was not stored and offering again starts it; never both offers and no rematch.

    Each round is a new match between new players; the server a round restarted is the
    one the next round plays on and kills (11 server starts for 10 rounds, not 20)."""
    server = start_server(tmp_path, db=str(tmp_path / "rematch.sqlite3"))
    try:
        outcomes = [await _crash_round(server, index, delay)
                    for index, delay in enumerate(KILL_AFTER)]
    finally:
        server.stop()
    assert "rematch started" in outcomes, outcomes


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def _old_crash_record(db: str) -> dict[str, tuple[str, str]]:
    """What an older version left after a crash: two finished matches whose rematch both
    seats agreed to, one with no pointer to a new match, one pointing at a match that
    was never stored. Their players' tokens, by match id."""
    store = SQLiteStore(db)
    await store.open()
    players: dict[str, tuple[str, str]] = {}
    try:
        for match_id, next_match in (("old-none", None), ("old-ghost", "ghost")):
            one, two = f"{match_id}-p1", f"{match_id}-p2"
            match: Match = new_match(match_id, "tictactoe", TimeControl(), int(time.time() * 1000),
                                     (Seat(one, "One"), Seat(two, "Two")))
            stored = match
            await store.commit(match, 0)
            for turn, move in enumerate(TTT_WIN):
                match = handle(match, PlayMove((one, two)[turn % 2], move), 0).match
            match = handle(match, OfferRematch(one), 0).match
            match = handle(match, OfferRematch(two), 0).match
            assert match.rematch == (True, True) and match.result is not None
            await store.commit(replace(match, next_match=next_match), stored.version)
            for player in (one, two):
                await store.save_player(PlayerRecord(player, player, _token_hash(player)))
            players[match_id] = (one, two)
    finally:
        await store.close()
    return players


async def test_a_rematch_left_unstarted_by_an_older_version_starts_on_restart(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "old.sqlite3")
    players = await _old_crash_record(db)
    server = start_server(tmp_path, db=db)
    try:
        for old, (one, two) in players.items():
            async with connect(server) as a, connect(server) as b:
                first = await a.hello(token=one)
                second = await b.hello(token=two)
                assert len(first["matches"]) == 1 and first["matches"] == second["matches"]
                fresh = first["matches"][0]
                if old == "old-ghost":
                    assert fresh == "ghost"  # the pointer already stored is kept
                view = await b.until_view(fresh, lambda v: v["status"] == "active")
                assert view["you"] == 0  # seats swap in a rematch
                move = await b.request({"type": "move", "match": fresh, "move": 4,
                                        "version": b.versions[fresh]})
                assert move["type"] == "ack", move
                await a.until_view(fresh, lambda v: v["moves"] == [4])
        assert sum(e.get("event") == "rematch_recovered" for e in events(server)) == 2
    finally:
        server.stop()
