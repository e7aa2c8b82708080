"""Faults the Redis mode survives (issue 16, cases 2 and 4-7): a process killed, one
seat on two processes, a deadline with three processes, Redis restarted, the pub/sub
connection killed. Real server processes on a real redis-server (AOF, fsync always)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from tests.redis_support import RedisClusterProcs, RedisServer
from tests.server.cluster.support import clients, processes, record_in_redis, stored_match
from tests.support import connect, play_out, seated

FIRST, REST = [3, 4, 3], [4, 3, 4, 3]  # seat 0 wins with four in column 4


def _offline_with_grace(seat: int) -> Any:
    def check(view: dict[str, Any]) -> bool:
        player = view["players"][seat]
        return not player["online"] and player["grace"] is not None
    return check


async def test_a_killed_process_loses_no_acknowledged_move_and_its_player_comes_back(
    tmp_path: Path, backend: RedisServer | RedisClusterProcs,
) -> None:
    with processes(tmp_path, backend, 3) as procs:
        async with clients((procs[0], "json"), (procs[1], "msgpack")) as (a, b):
            match, players = await seated(a, b, "connect4")
            await play_out(players, match, FIRST)  # each acknowledged
            seat_b = b.views[match]["you"]
            assert b.token is not None
            procs[1].stop(signal.SIGKILL)
            # the opponent sees them offline with a grace deadline, once the dead
            # process's lease lapsed (seconds)
            await a.until_view(match, _offline_with_grace(seat_b), timeout=20)
            async with connect(procs[2], "msgpack") as again:
                welcome = await again.hello("b", token=b.token)
                assert welcome["player"] == b.player and match in welcome["matches"]
                view = await again.until_view(match, lambda v: v["status"] == "active")
                assert view["moves"] == FIRST and view["you"] == seat_b
                await a.until_view(match, lambda v: v["players"][seat_b]["online"])
                await play_out({seat_b: again, 1 - seat_b: a}, match, REST)
                final = await again.until_view(match, lambda v: v["status"] == "finished")
                assert final["moves"] == FIRST + REST
                assert final["result"]["reason"] == "line"


async def test_one_seat_on_two_processes_moving_on_one_version_commits_once(
    tmp_path: Path, redis: RedisServer,
) -> None:
    with processes(tmp_path, redis, 2) as procs:
        async with clients((procs[0], "json"), (procs[1], "json")) as (a, b):
            match, players = await seated(a, b, "connect4")
            mover = players[0]
            other_process = procs[1] if mover is a else procs[0]
            async with connect(other_process, "msgpack") as twin:
                assert mover.token is not None
                await twin.hello("twin", token=mover.token)
                await twin.until_view(match, lambda v: v["you"] == 0)
                version = mover.versions[match]
                answers = await asyncio.gather(
                    mover.request({"type": "move", "match": match, "move": 2,
                                   "version": version}),
                    twin.request({"type": "move", "match": match, "move": 5,
                                  "version": version}))
                kinds = sorted(answer["type"] for answer in answers)
                assert kinds == ["ack", "error"], answers
                error = next(answer for answer in answers if answer["type"] == "error")
                assert error["code"] == "stale_version", error
                ack = next(answer for answer in answers if answer["type"] == "ack")
                assert ack["version"] == version + 1
                stored = stored_match(procs[0], match)
                assert stored["version"] == version + 1 and len(stored["moves"]) == 1
                # both connections of the seat, and the opponent, agree on the move
                for client in (mover, twin, players[1]):
                    view = await client.until_view(match, lambda v: len(v["moves"]) == 1)
                    assert view["moves"] == stored["moves"]
                # the winner resending its move (same id) gets the replay of its ack
                won = answers.index(ack)
                sender, move = (mover, 2) if won == 0 else (twin, 5)
                assert stored["moves"] == [move]
                await sender.send({"type": "move", "match": match, "move": move,
                                   "version": version, "id": ack["ref"]})
                replay = await sender.expect(lambda m: m.get("ref") == ack["ref"])
                assert replay == ack


async def test_a_turn_deadline_fires_exactly_once_with_three_processes(
    tmp_path: Path, redis: RedisServer,
) -> None:
    with processes(tmp_path, redis, 3, turn_seconds=2) as procs:
        async with clients((procs[0], "json"), (procs[1], "json"),
                           (procs[2], "msgpack")) as (a, b, watcher):
            match, players = await seated(a, b, "connect4")
            await watcher.hello("watcher")
            await watcher.request({"type": "watch", "match": match})
            await play_out(players, match, [3, 4])
            # every process holds the match (a player or a spectator each) and arms its
            # own timer; the shared index is claimed too
            await watcher.until_view(match, lambda v: v["watchers"] == 1)
            before = watcher.versions[match]
            final = await watcher.until_view(match, lambda v: v["status"] == "finished",
                                             timeout=20)
            assert final["result"]["reason"] == "timeout" and final["result"]["winner"] == 1
            assert watcher.versions[match] == before + 1  # one commit: the deadline's
            for server in procs.servers:
                assert stored_match(server, match)["version"] == before + 1


async def test_redis_restarted_mid_match_answers_unavailable_then_play_goes_on(
    tmp_path: Path, redis: RedisServer,
) -> None:
    with processes(tmp_path, redis, 2, redis_timeout_seconds=2) as procs:
        async with clients((procs[0], "json"), (procs[1], "msgpack")) as (a, b):
            match, players = await seated(a, b, "connect4")
            await play_out(players, match, FIRST)
            mover = players[b.views[match]["turn"]]
            version = mover.versions[match]
            redis.stop()
            refused = await asyncio.wait_for(mover.request(
                {"type": "move", "match": match, "move": REST[0], "version": version}), 10)
            assert refused["type"] == "error" and refused["code"] == "unavailable", refused
            redis.start()  # same port and directory: the AOF brings back every ack
            stored = record_in_redis(redis, procs.namespace, match)
            assert list(stored.moves) == FIRST and stored.version == version
            await play_out(players, match, REST)
            final = await a.until_view(match, lambda v: v["status"] == "finished")
            assert final["moves"] == FIRST + REST


async def test_a_killed_pubsub_connection_loses_no_patch(
    tmp_path: Path, redis: RedisServer,
) -> None:
    with processes(tmp_path, redis, 3) as procs:
        async with clients((procs[0], "json"), (procs[1], "msgpack"),
                           (procs[2], "json")) as (a, b, watcher):
            match, players = await seated(a, b, "connect4")
            await watcher.hello("watcher")
            await watcher.request({"type": "watch", "match": match})
            await play_out(players, match, FIRST[:1])
            control = redis.client()
            try:
                killed = control.client_kill_filter(_type="pubsub")
            finally:
                control.close()
            assert killed >= 3  # every process's subscriber
            # the moves right after: every client sees every version, hash-checked, in
            # order (tests.support.Client asserts it), repaired from the stored history
            await play_out(players, match, FIRST[1:] + REST)
            for client in (a, b, watcher):
                view = await client.until_view(match, lambda v: v["status"] == "finished")
                assert view["moves"] == FIRST + REST

