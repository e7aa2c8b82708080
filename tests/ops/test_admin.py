"""Issue 18, the admin API: off without GAME_ADMIN_TOKEN (404 everywhere), 401 without
the right bearer token, the token never in a log line; listing, inspecting and ending
matches, kicking connections and notices, each seen by real clients of a real server.
Also the HTTP API's own documentation: /docs, and /openapi.json without the test hooks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from game.core.match import (
    Adjudicate,
    Match,
    Phase,
    Reason,
    Result,
    Seat,
    TimeControl,
    handle,
    new_match,
)
from game.protocol.errors import ErrorCode
from tests.hostile.harness import assert_clean_logs, barrier, player_pair
from tests.support import ROOT, ServerProcess, connect, start_server

TOKEN = "admin-" + secrets.token_urlsafe(24)
AUTH = {"Authorization": f"Bearer {TOKEN}"}

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/admin/matches", None),
    ("GET", "/api/admin/matches/nosuch", None),
    ("POST", "/api/admin/matches/nosuch/end", {"result": "aborted"}),
    ("GET", "/api/admin/connections", None),
    ("POST", "/api/admin/connections/nosuch/kick", None),
    ("POST", "/api/admin/notice", {"message": "hello"}),
]


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # at debug level, so "never logged" covers the chattiest configuration
    proc = start_server(tmp_path_factory.mktemp("admin"), admin_token=TOKEN, log_level="debug")
    yield proc
    proc.stop()


def call(server: ServerProcess, method: str, path: str, body: Any = None,
         headers: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
    return httpx.request(method, server.http + path, json=body, headers=headers,
                         params=params, timeout=10)


def ok(server: ServerProcess, method: str, path: str, body: Any = None,
       **params: Any) -> dict[str, Any]:
    response = call(server, method, path, body, AUTH, **params)
    assert response.status_code == 200, (path, response.status_code, response.text)
    data: dict[str, Any] = response.json()
    return data


# ---- the core command ------------------------------------------------------------------


def _active(now: int = 1_000) -> Match:
    seats = (Seat("a", "Ada"), Seat("b", "Bob"))
    return new_match("m", "tictactoe", TimeControl(), now, seats)


def test_adjudicate_is_one_versioned_ending() -> None:
    match = _active()
    done = handle(match, Adjudicate(Reason.ADJUDICATED, 1), 2_000)
    assert done.changed and done.error is None and done.match.version == match.version + 1
    assert done.match.phase is Phase.FINISHED and done.match.deadline is None
    assert done.match.result == Result(1, Reason.ADJUDICATED)
    aborted = handle(match, Adjudicate(Reason.ABORTED), 2_000).match
    assert aborted.result == Result(None, Reason.ABORTED)
    again = handle(done.match, Adjudicate(Reason.ABORTED), 3_000)
    assert not again.changed and again.error is not None
    assert again.error.code is ErrorCode.MATCH_OVER


def test_a_lapsed_deadline_ends_the_match_first() -> None:
    match = _active()
    assert match.deadline is not None
    late = handle(match, Adjudicate(Reason.ADJUDICATED, 0), match.deadline + 1)
    assert late.changed and late.match.result is not None  # the expiry is committed
    assert late.match.result.reason is Reason.ABORTED  # no first move: aborted, not decided
    assert late.error is not None and late.error.code is ErrorCode.MATCH_OVER


def test_a_waiting_room_is_aborted_not_adjudicated() -> None:
    room = new_match("r", "tictactoe", TimeControl(), 1_000, (Seat("a", "Ada"), None))
    refused = handle(room, Adjudicate(Reason.ADJUDICATED, 0), 2_000)
    assert not refused.changed and refused.error is not None
    assert handle(room, Adjudicate(Reason.ABORTED), 2_000).match.phase is Phase.FINISHED


# ---- off, refused, never logged ------------------------------------------------------


def test_without_a_token_every_admin_route_is_404(server: ServerProcess) -> None:
    for method, path, body in ROUTES:
        for headers in (None, AUTH):
            response = call(server, method, path, body, headers)
            assert response.status_code == 404, (method, path, response.text)
    # not even a malformed body gets past the 404 (nothing tells the route exists)
    response = httpx.post(f"{server.http}/api/admin/notice", content=b"{not json",
                          headers={**AUTH, "Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 404


def test_a_missing_or_wrong_token_is_401_and_never_logged(admin: ServerProcess) -> None:
    wrong: list[dict[str, Any] | None] = [
        None, {"Authorization": "Bearer"}, {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"}, {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN.upper()}"},
        {"Authorization": ("Bearer " + "é" * 30).encode()}]  # raw non-ASCII bytes
    for method, path, body in ROUTES:
        for headers in wrong:
            response = call(admin, method, path, body, headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
    bad_body = httpx.post(f"{admin.http}/api/admin/notice", content=b"{not json",
                          headers={"Authorization": "Bearer nope",
                                   "Content-Type": "application/json"}, timeout=10)
    assert bad_body.status_code == 401  # refused before the body is read
    assert ok(admin, "GET", "/api/admin/matches")["matches"] is not None
    logs = admin.logs()
    assert TOKEN not in logs and TOKEN[:12] not in logs
    refusals = [e for e in assert_clean_logs(admin) if e.get("event") == "admin_refused"]
    assert len(refusals) == 1, refusals  # once per address, however many refusals
    assert refusals[0]["address"] == "127.0.0.1"


def test_a_short_token_stops_the_server_before_it_starts(tmp_path: Path) -> None:
    short = "tiny-" + secrets.token_hex(4)  # 13 characters
    env = {**os.environ, "GAME_ADMIN_TOKEN": short, "GAME_DB": ":memory:"}
    done = subprocess.run([sys.executable, "-m", "game", "serve", "--port", "1"], env=env,
                          cwd=ROOT, capture_output=True, timeout=60, check=False)
    out = (done.stdout + done.stderr).decode()
    assert done.returncode == 2, out
    assert "GAME_ADMIN_TOKEN" in out and "16 characters" in out, out
    assert short not in out


# ---- the HTTP API's documentation ------------------------------------------------------


def test_docs_and_openapi(admin: ServerProcess) -> None:
    docs = httpx.get(f"{admin.http}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "/openapi.json" in docs.text
    moved = httpx.get(f"{admin.http}/api/docs", timeout=10, follow_redirects=True)
    assert moved.status_code == 200 and str(moved.url).endswith("/docs")
    schema = httpx.get(f"{admin.http}/openapi.json", timeout=10).json()
    paths = schema["paths"]
    assert not [path for path in paths if path.startswith("/_test")], list(paths)
    assert "/api/matches" in paths and "/healthz" in paths
    scheme = schema["components"]["securitySchemes"]["adminToken"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    admin_ops = [(path, method, op) for path, ops in paths.items()
                 if path.startswith("/api/admin/") for method, op in ops.items()]
    assert {(path, method) for path, method, _ in admin_ops} >= {
        ("/api/admin/matches", "get"), ("/api/admin/matches/{match_id}", "get"),
        ("/api/admin/matches/{match_id}/end", "post"), ("/api/admin/connections", "get"),
        ("/api/admin/connections/{player}/kick", "post"), ("/api/admin/notice", "post")}
    for path, method, op in admin_ops:
        assert op["security"] == [{"adminToken": []}], (path, method)
    assert not [path for path in paths if path.startswith("/api/") and "security" in
                paths[path].get("get", {}) and not path.startswith("/api/admin/")]


# ---- matches ---------------------------------------------------------------------------


def _listed(server: ServerProcess, match: str) -> dict[str, Any]:
    page = ok(server, "GET", "/api/admin/matches", limit=200)
    found: list[dict[str, Any]] = [entry for entry in page["matches"] if entry["id"] == match]
    assert len(found) == 1, page
    return found[0]


async def test_a_match_is_listed_and_inspected_with_its_connections(
        admin: ServerProcess) -> None:
    async with player_pair(admin, "connect4", names=("ada", "bob")) as (match, players), \
            connect(admin, "msgpack") as watcher:
        await watcher.hello("wat")
        await watcher.request({"type": "watch", "match": match})
        # the watcher count is committed a moment later (a version of its own): first
        await watcher.until_view(match, lambda v: v["watchers"] == 1)
        moved = await players[0].request({"type": "move", "match": match, "move": 3})
        assert moved["type"] == "ack", moved
        entry = _listed(admin, match)
        assert entry["status"] == "active" and entry["game"] == "connect4"
        assert entry["moves"] == 1 and entry["turn"] == 1 and entry["watchers"] == 1
        assert entry["version"] == moved["version"] and entry["deadline"] is not None
        seats = entry["players"]
        assert [s["name"] for s in seats] == ["ada", "bob"] or [s["name"] for s in seats] == [
            "bob", "ada"]
        for seat, client in players.items():
            assert seats[seat]["player"] == client.player and seats[seat]["online"] is True
            conn = seats[seat]["connection"]
            assert conn["address"] == "127.0.0.1" and conn["codec"] == "json"
            assert match in conn["matches"]
        detail = ok(admin, "GET", f"/api/admin/matches/{match}")
        assert detail["record"]["id"] == match and detail["record"]["phase"] == "active"
        assert detail["moves"] == [3] and detail["view"]["you"] is None
        assert detail["view"]["board"] == watcher.views[match]["board"]
        assert [w["player"] for w in detail["watchers"]] == [watcher.player]
        assert detail["watchers"][0]["codec"] == "msgpack"
        assert "token" not in str(detail).lower()
    assert call(admin, "GET", "/api/admin/matches/nosuchmatch", headers=AUTH).status_code == 404


async def test_admin_match_list_pages(admin: ServerProcess) -> None:
    async with player_pair(admin) as (first, _), player_pair(admin) as (second, _), \
            player_pair(admin) as (third, _):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2} if cursor is None else {"limit": 2,
                                                                           "cursor": cursor}
            page = ok(admin, "GET", "/api/admin/matches", **params)
            assert len(page["matches"]) <= 2
            seen += [entry["id"] for entry in page["matches"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == page["total"]
        assert seen.index(third) < seen.index(second) < seen.index(first)  # newest first
    bad = call(admin, "GET", "/api/admin/matches", headers=AUTH, cursor="nonsense")
    assert bad.status_code == 400


async def test_end_as_adjudicated_is_a_patch_for_players_and_watchers(
        admin: ServerProcess, codec: str) -> None:
    async with player_pair(admin, codec=codec) as (match, players), \
            connect(admin, codec) as watcher:
        await watcher.hello("wat")
        await watcher.request({"type": "watch", "match": match})
        await watcher.until_view(match, lambda v: v["watchers"] == 1)  # its own version
        await players[0].until_view(match, lambda v: v["watchers"] == 1)
        before = players[0].versions[match]
        done = ok(admin, "POST", f"/api/admin/matches/{match}/end",
                  {"result": "adjudicated", "winner": 1})
        assert done == {"match": match, "version": before + 1,
                        "result": {"winner": 1, "reason": "adjudicated"}}
        for client in (*players.values(), watcher):
            view = await client.until_view(match, lambda v: v["status"] == "finished")
            assert view["result"] == {"winner": 1, "reason": "adjudicated", "line": []}
            assert client.versions[match] == before + 1  # one version, as a patch
            assert view["deadline"] is None and view["legal"] == []
        again = call(admin, "POST", f"/api/admin/matches/{match}/end", {"result": "aborted"},
                     AUTH)
        assert again.status_code == 409, again.text
        late = await players[0].request({"type": "move", "match": match, "move": 4})
        assert late["type"] == "error" and late["code"] == "match_over"
        live = ok(admin, "GET", "/api/admin/matches", limit=200)["matches"]
        assert match not in [entry["id"] for entry in live]
    missing = call(admin, "POST", "/api/admin/matches/nosuchmatch/end",
                   {"result": "aborted"}, AUTH)
    assert missing.status_code == 404


async def test_end_as_aborted_and_draws_and_bad_requests(admin: ServerProcess) -> None:
    async with player_pair(admin) as (match, players):
        for bad in ({"result": "aborted", "winner": 0}, {"result": "won"},
                    {"result": "adjudicated", "winner": 2},
                    {"result": "adjudicated", "winner": True}, {"result": "aborted", "x": 1}):
            response = call(admin, "POST", f"/api/admin/matches/{match}/end", bad, AUTH)
            assert response.status_code == 422, (bad, response.text)
        ok(admin, "POST", f"/api/admin/matches/{match}/end", {"result": "aborted"})
        for client in players.values():
            view = await client.until_view(match, lambda v: v["status"] == "finished")
            assert view["result"] == {"winner": None, "reason": "aborted", "line": []}
    async with player_pair(admin) as (drawn, players):
        ok(admin, "POST", f"/api/admin/matches/{drawn}/end",
           {"result": "adjudicated", "winner": None})
        view = await players[0].until_view(drawn, lambda v: v["status"] == "finished")
        assert view["result"] == {"winner": None, "reason": "adjudicated", "line": []}


async def test_a_waiting_room_can_be_aborted_not_adjudicated(admin: ServerProcess) -> None:
    async with connect(admin) as host:
        await host.hello("host")
        room = await host.request({"type": "create_room", "game": "tictactoe"})
        match = room["match"]
        assert _listed(admin, match)["status"] == "waiting"
        refused = call(admin, "POST", f"/api/admin/matches/{match}/end",
                       {"result": "adjudicated", "winner": 0}, AUTH)
        assert refused.status_code == 409, refused.text
        ok(admin, "POST", f"/api/admin/matches/{match}/end", {"result": "aborted"})
        view = await host.until_view(match, lambda v: v["status"] == "finished")
        assert view["result"]["reason"] == "aborted"
        async with connect(admin) as guest:
            await guest.hello("guest")
            joined = await guest.request({"type": "join_room", "code": room["code"]})
            assert joined["type"] == "error" and joined["code"] == "unknown_room", joined


# ---- connections and notices -----------------------------------------------------------


async def test_kick_closes_the_connection_with_1008(admin: ServerProcess) -> None:
    async with player_pair(admin, names=("kee", "pat")) as (match, players):
        target, other = players[0], players[1]
        listed = ok(admin, "GET", "/api/admin/connections", limit=200)
        mine = {c["player"]: c for c in listed["connections"]}
        assert target.player in mine and other.player in mine
        assert mine[target.player]["matches"] == [match]
        assert listed["sockets"] >= 2 and listed["total"] >= 2
        kicked = ok(admin, "POST", f"/api/admin/connections/{target.player}/kick")
        assert kicked["code"] == 1008
        await target.closed.wait()
        assert target.close_code == 1008
        assert target.ws.close_reason == "kicked by an operator"
        view = await other.until_view(match, lambda v: not v["players"][0]["online"])
        assert view["players"][0]["grace"] is not None and view["status"] == "active"
        gone = call(admin, "POST", f"/api/admin/connections/{target.player}/kick",
                    headers=AUTH)
        assert gone.status_code == 404
        async with connect(admin) as back:  # not a ban: the token still works
            welcome = await back.hello("kee", token=target.token)
            assert welcome["matches"] == [match]
    events = assert_clean_logs(admin)
    assert [e for e in events if e.get("event") == "admin_kick"
            and e.get("player") == target.player]


async def test_a_notice_reaches_every_connection(admin: ServerProcess) -> None:
    async with connect(admin, "json") as a, connect(admin, "msgpack") as b, \
            connect(admin) as anonymous:
        await a.hello("na")
        await b.hello("nb")
        await barrier(anonymous)
        sent = ok(admin, "POST", "/api/admin/notice", {"message": "Restart at 18:00 UTC"})
        assert sent["sent"] >= 3
        for client in (a, b, anonymous):
            notice = await client.expect("notice")
            assert notice == {"type": "notice", "reason": "operator",
                              "message": "Restart at 18:00 UTC"}
    for bad in ({"message": ""}, {"message": "x" * 501}, {"text": "hi"}, {"message": 3}):
        response = call(admin, "POST", "/api/admin/notice", bad, AUTH)
        assert response.status_code == 422, (bad, response.text)
    admin.check_sent_messages()  # the notice fits the published schema
