"""Many processes, one game world: whole games across processes, quick-match pairing
across processes; on one Redis and on a local 3-master Redis Cluster (issue 16, cases 1,
3 and 9)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from tests.redis_support import RedisClusterProcs, RedisServer
from tests.server.cluster.support import clients, processes
from tests.support import Client, connect, play_out, seated

WIN = [3, 4, 3, 4, 3, 4, 3]


@pytest.mark.parametrize("codecs", [("json", "msgpack", "json"), ("msgpack", "json", "msgpack")])
async def test_players_and_a_spectator_on_three_processes_play_a_whole_game(
    tmp_path: Path, backend: RedisServer | RedisClusterProcs, codecs: tuple[str, str, str],
) -> None:
    with processes(tmp_path, backend, 3) as procs:
        where = [(procs[index], codecs[index]) for index in range(3)]
        async with clients(*where) as (a, b, watcher):
            match, players = await seated(a, b, "connect4")
            await watcher.hello("watcher")
            snapshot = await watcher.request({"type": "watch", "match": match})
            assert snapshot["type"] == "snapshot" and snapshot["view"]["you"] is None
            # every patch on every client is checked: its version follows and its hash
            # matches the view it makes (tests.support.Client._track)
            await play_out(players, match, WIN)
            for client in (a, b, watcher):
                view = await client.until_view(match, lambda v: v["status"] == "finished")
                assert view["moves"] == WIN
                assert view["result"]["winner"] == a.views[match]["you"]
            # the spectator saw every version, one patch each, and nothing else
            assert watcher.versions[match] == a.versions[match] == b.versions[match]
        for server in procs.servers:
            server.check_sent_messages()


async def _queue(client: Client, index: int) -> str:
    await client.hello(f"q{index}")
    for _ in range(5):  # `unavailable` asks the client to retry (a loaded machine's Redis)
        queued = await client.request({"type": "queue", "game": "tictactoe"})
        if queued.get("code") != "unavailable":
            break
    assert queued["type"] == "queued", queued
    snapshot = await client.expect("snapshot", timeout=60)
    match: str = snapshot["match"]
    return match


async def test_a_hundred_players_queued_at_once_on_three_processes_make_fifty_matches(
    tmp_path: Path, backend: RedisServer | RedisClusterProcs,
) -> None:
    # the hundred connections are opened one by one before any hello: on a loaded
    # machine that outlasts the default hello timeout, which is not what this tests
    with processes(tmp_path, backend, 3, hello_timeout=120) as procs:
        async with contextlib.AsyncExitStack() as stack:
            players = [await stack.enter_async_context(connect(procs[index % 3]))
                       for index in range(100)]
            matches = await asyncio.gather(*(_queue(client, index)
                                             for index, client in enumerate(players)))
            by_match: dict[str, set[str]] = {}
            for client, match in zip(players, matches, strict=True):
                assert client.player is not None
                by_match.setdefault(match, set()).add(client.player)
            assert len(by_match) == 50
            assert all(len(seats) == 2 for seats in by_match.values())
            # nobody was paired twice: each player got exactly one snapshot
            for client in players:
                assert not [m for m in client.inbox if m.get("type") == "snapshot"]
            # and the two players of each match see each other in it
            for client, match in zip(players, matches, strict=True):
                view = client.views[match]
                names = {seat["name"] for seat in view["players"]}
                assert len(names) == 2 and view["status"] == "active"
