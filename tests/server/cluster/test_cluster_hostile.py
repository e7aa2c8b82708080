"""Hostile input in the Redis mode: what a client makes a process follow is let go.

Asking to watch a match makes a process subscribe to the match's channel and list
itself among its followers in Redis, before it knows whether the match exists (a
commit made meanwhile must not be missed). A client asking for thousands of made-up
ids must leave nothing behind: no subscription, no followers set in Redis, and no
memory beyond a bound, while a real match goes on being served."""

from __future__ import annotations

import secrets
from pathlib import Path

from tests.hostile.harness import server_rss, wait_until
from tests.redis_support import RedisServer, redis_fixture  # noqa: F401
from tests.server.cluster.support import processes
from tests.support import connect

UNKNOWN = 2000


async def test_watching_made_up_matches_leaves_nothing_behind(
    tmp_path: Path, redis: RedisServer,
) -> None:
    with processes(tmp_path, redis, 1, rate_per_second=100_000, rate_burst=100_000) as procs:
        server = procs[0]
        admin = redis.client()
        async with connect(server) as a, connect(server) as b, connect(server) as snoop:
            await a.hello("a")
            await b.hello("b")
            await snoop.hello("snoop")
            room = await a.request({"type": "create_room", "game": "connect4"})
            joined = await b.request({"type": "join_room", "code": room["code"]})
            match = joined["match"]
            channels_before = len(admin.pubsub_shardchannels())
            rss_before = server_rss(server)
            for index in range(UNKNOWN):
                made_up = f"m{secrets.token_hex(6)}"
                answer = await snoop.request({"type": "watch", "match": made_up})
                assert answer["type"] == "error" and answer["code"] == "unknown_match", answer
                if index == UNKNOWN // 2:  # the real match goes on meanwhile
                    moved = await a.request({"type": "move", "match": match, "move": 3})
                    assert moved["type"] == "ack", moved
            rss_after = server_rss(server)

            def followers() -> list[bytes]:
                return list(admin.scan_iter(match=f"{procs.namespace}:*:f"))

            async def let_go() -> bool:  # the last unsubscriptions run after the answers
                return len(followers()) == 1 \
                    and len(admin.pubsub_shardchannels()) == channels_before

            await wait_until(let_go, what="made-up matches let go")
            # the real match's followers set only: every made-up one was taken back
            assert match.encode() in followers()[0], followers()
            assert rss_after - rss_before < 8 * 1024 * 1024, (rss_before, rss_after)
            moved = await b.request({"type": "move", "match": match, "move": 3})
            assert moved["type"] == "ack", moved
        admin.close()
