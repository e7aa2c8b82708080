"""The admin API in the Redis mode (issue 18 on issue 16): any process lists every
process's matches (and so does the public live list), kicks a player connected to
another process, and sends a notice that every process delivers."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx

from tests.redis_support import RedisServer
from tests.server.cluster.support import clients, processes
from tests.support import ServerProcess, seated

TOKEN = "admin-" + secrets.token_urlsafe(24)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def admin(server: ServerProcess, method: str, path: str, body: Any = None) -> dict[str, Any]:
    response = httpx.request(method, f"{server.http}/api/admin{path}", json=body,
                             headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_any_process_administers_the_whole_world(
    tmp_path: Path, redis: RedisServer,
) -> None:
    with processes(tmp_path, redis, 3, admin_token=TOKEN) as procs:
        async with clients((procs[1], "json"), (procs[2], "msgpack")) as (a, b):
            match, _ = await seated(a, b, "connect4")
            public = httpx.get(f"{procs[0].http}/api/matches", timeout=10).json()
            assert [entry["match"] for entry in public["matches"]] == [match]
            listed = admin(procs[0], "GET", "/matches")  # serves neither player
            assert [entry["id"] for entry in listed["matches"]] == [match]
            assert {p["player"] for p in listed["matches"][0]["players"]} == {a.player,
                                                                             b.player}
            sent = admin(procs[0], "POST", "/notice", {"message": "maintenance at noon"})
            assert sent == {"processes": 3}
            for client in (a, b):
                notice = await client.expect("notice")
                assert notice["message"] == "maintenance at noon"
            kicked = admin(procs[0], "POST", f"/connections/{b.player}/kick")
            assert kicked["code"] == 1008
            await b.closed.wait()
            assert b.close_code == 1008 and not a.closed.is_set()
            ended = admin(procs[0], "POST", f"/matches/{match}/end", {"result": "aborted"})
            assert ended["result"] == {"winner": None, "reason": "aborted"}
            view = await a.until_view(match, lambda v: v["status"] == "finished")
            assert view["result"]["reason"] == "aborted"
