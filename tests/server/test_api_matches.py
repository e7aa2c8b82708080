"""GET /api/matches (issue 15, finding 7): live matches newest first, a page at a time,
with a cursor that stays right while matches start and end, and a bounded answer."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hostile.harness import wait_until
from tests.support import Client, ServerProcess, connect, start_server

PAGE, MAX_PAGE = 10, 20


@pytest.fixture
def listing(tmp_path: Path) -> Iterator[ServerProcess]:
    """A fresh server for each test, so the list holds only that test's matches."""
    proc = start_server(tmp_path, match_list_limit=PAGE, match_list_max_limit=MAX_PAGE)
    try:
        yield proc
    finally:
        proc.stop()


def get(server: ServerProcess, **params: Any) -> httpx.Response:
    return httpx.get(f"{server.http}/api/matches", params=params, timeout=10)


def page(server: ServerProcess, **params: Any) -> dict[str, Any]:
    response = get(server, **params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@contextlib.asynccontextmanager
async def pairs(server: ServerProcess, count: int, name: str = "p{0}{1}") -> AsyncIterator[
        list[tuple[Client, Client]]]:
    """`count` pairs of players, named `name.format(index, "a" or "b")`."""
    async with contextlib.AsyncExitStack() as stack:
        made = []
        for index in range(count):
            a = await stack.enter_async_context(connect(server))
            b = await stack.enter_async_context(connect(server))
            await a.hello(name.format(index, "a"))
            await b.hello(name.format(index, "b"))
            made.append((a, b))
        yield made


async def start_matches(a: Client, b: Client, count: int) -> list[str]:
    """`count` active matches between `a` and `b`, each a room `a` opens and `b` joins."""
    started = []
    for _ in range(count):
        room = await a.request({"type": "create_room", "game": "tictactoe"})
        assert room["type"] == "room", room
        joined = await b.request({"type": "join_room", "code": room["code"]})
        assert joined["type"] == "ack", joined
        await a.until_view(room["match"], lambda v: v["status"] == "active")
        started.append(room["match"])
    return started


def keys(matches: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(m["started_at"], m["id"]) for m in matches]


async def test_thirty_matches_in_three_pages_newest_first(listing: ServerProcess) -> None:
    async with pairs(listing, 4) as players:
        ids: list[str] = []
        for a, b in players[:3]:
            ids += await start_matches(a, b, 10)
        waiting = await players[3][0].request({"type": "create_room", "game": "connect4"})
        first = page(listing, limit=10)
        assert len(first["matches"]) == 10 and first["next"] is not None
        assert first["total"] == 30
        # matches that start now are newer: they come before the first page, and the
        # pages after it are unchanged
        newer = await start_matches(*players[3], 5)
        second = page(listing, limit=10, cursor=first["next"])
        third = page(listing, limit=10, cursor=second["next"])
        assert len(second["matches"]) == len(third["matches"]) == 10
        assert third["next"] is None
        listed = first["matches"] + second["matches"] + third["matches"]
        assert sorted(m["id"] for m in listed) == sorted(ids)  # no gap, no duplicate
        assert keys(listed) == sorted(keys(listed), reverse=True)  # newest first
        assert waiting["match"] not in {m["id"] for m in listed}  # rooms waiting: not live
        # the newer ones lead a fresh first page once the list is rebuilt
        async def newer_first() -> bool:
            return {m["id"] for m in page(listing, limit=5)["matches"]} == set(newer)

        await wait_until(newer_first, what="the new matches listed")
        assert page(listing)["total"] == 35
        # an entry shows its match as it is now; a match that ends leaves at once
        a, b = players[0]
        match = ids[0]
        seat = a.views[match]["you"]
        mover = a if a.views[match]["turn"] == seat else b
        ack = await mover.request({"type": "move", "match": match, "move": 4,
                                   "version": mover.versions[match]})
        assert ack["type"] == "ack", ack
        everything = page(listing, limit=MAX_PAGE)["matches"] + page(
            listing, limit=MAX_PAGE, cursor=page(listing, limit=MAX_PAGE)["next"])["matches"]
        shown = {m["id"]: m for m in everything}
        assert shown[match]["moves"] == 1
        assert {p["name"] for p in shown[match]["players"]} == {"p0a", "p0b"}
        resigned = await a.request({"type": "resign", "match": match})
        assert resigned["type"] == "ack", resigned
        for cursor in (None, first["next"], second["next"]):
            params = {"limit": MAX_PAGE} | ({"cursor": cursor} if cursor else {})
            assert match not in {m["id"] for m in page(listing, **params)["matches"]}


async def test_pages_are_bounded(listing: ServerProcess) -> None:
    """Longest names, more matches than the largest page: the answer stays small."""
    widest = "\U0001f0a1" * 32  # 32 characters of 4 bytes each
    async with pairs(listing, 3, name=widest) as players:
        for a, b in players:
            await start_matches(a, b, 9)
        default = page(listing)
        assert len(default["matches"]) == PAGE and default["next"] is not None
        huge = get(listing, limit=10**6)
        assert huge.status_code == 200
        served = huge.json()
        assert len(served["matches"]) == MAX_PAGE and served["next"] is not None
        assert served["total"] == 27
        assert len(huge.content) < MAX_PAGE * 600, len(huge.content)
        rest = page(listing, limit=10**6, cursor=served["next"])
        assert len(rest["matches"]) == 7 and rest["next"] is None


def test_bad_parameters_are_refused(listing: ServerProcess) -> None:
    cases: list[tuple[dict[str, Any], int]] = [
        ({"cursor": "not-a-cursor"}, 400),
        ({"cursor": "12.x" + "y" * 80}, 400),
        ({"cursor": "-5.abc"}, 400),
        ({"limit": 0}, 422),
        ({"limit": "many"}, 422),
    ]
    for params, status in cases:
        assert get(listing, **params).status_code == status, params
    assert page(listing) == {"matches": [], "next": None, "total": 0}
