"""The live list's rough edges (issue 17): a match whose players all left is not listed
while their seats wait out the grace time (it was, for 30-60 s), and paging on while
matches start and end never lists one match twice. Against a real server whose list
is rebuilt on every request, so every page sees the matches as they are."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import Client, ServerProcess, connect, start_server


@pytest.fixture
def listing(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path, match_list_refresh_ms=0, grace_seconds=600)
    try:
        yield proc
    finally:
        proc.stop()


def listed(server: ServerProcess, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{server.http}/api/matches", params=params, timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def ids(server: ServerProcess) -> set[str]:
    return {m["match"] for m in listed(server, limit=200)["matches"]}


async def room(a: Client, b: Client, game: str = "tictactoe") -> str:
    opened = await a.request({"type": "create_room", "game": game})
    joined = await b.request({"type": "join_room", "code": opened["code"]})
    assert joined["type"] == "ack", joined
    match: str = opened["match"]
    await a.until_view(match, lambda v: v["status"] == "active")
    return match


def online(seat: int, value: bool) -> Any:
    return lambda view: view["players"][seat]["online"] is value


async def test_a_match_everyone_left_is_not_listed_until_someone_is_back(
        listing: ServerProcess) -> None:
    async with contextlib.AsyncExitStack() as stack:
        watcher = await stack.enter_async_context(connect(listing))
        await watcher.hello("watcher")
        alice = await stack.enter_async_context(connect(listing))
        bob = await stack.enter_async_context(connect(listing))
        await alice.hello("alice")
        await bob.hello("bob")
        match = await room(alice, bob)
        await watcher.request({"type": "watch", "match": match})
        solo = await alice.request({"type": "play_bot", "game": "connect4", "level": "easy"})
        bot_match = solo["match"]
        assert ids(listing) == {match, bot_match}
        await bob.close()  # one left: still played
        await watcher.until_view(match, online(1, False))
        assert ids(listing) == {match, bot_match}
        await alice.close()  # both left: nobody plays either match
        await watcher.until_view(match, online(0, False))
        assert ids(listing) == set()
        assert listed(listing)["total"] == 0
        back = await stack.enter_async_context(connect(listing))
        await back.hello("bob", token=bob.token)
        await watcher.until_view(match, online(1, True))
        assert ids(listing) == {match}  # the bot's human is still away


async def test_paging_while_matches_start_and_end_lists_none_twice(
        listing: ServerProcess) -> None:
    async with contextlib.AsyncExitStack() as stack:
        pairs = []
        for index in range(4):
            a = await stack.enter_async_context(connect(listing))
            b = await stack.enter_async_context(connect(listing))
            await a.hello(f"a{index}")
            await b.hello(f"b{index}")
            pairs.append((a, b))
        started = [await room(*pairs[0]) for _ in range(9)]
        seen: list[str] = []
        page = listed(listing, limit=2)
        ended: set[str] = set()
        turn = 0
        while True:
            seen += [m["match"] for m in page["matches"]]
            if page["next"] is None:
                break
            # between pages: newer matches start, and an older one not yet shown ends
            turn += 1
            started.append(await room(*pairs[turn % 3 + 1]))
            unseen = [m for m in started[:9] if m not in seen and m not in ended]
            if len(unseen) > 2:
                a = pairs[0][0]
                resigned = await a.request({"type": "resign", "match": unseen[-1]})
                assert resigned["type"] == "ack", resigned
                ended.add(unseen[-1])
            page = listed(listing, limit=2, cursor=page["next"])
        assert len(seen) == len(set(seen)), seen  # none twice
        # every match of the first page's time that did not end was listed, in order
        assert set(seen) == set(started[:9]) - ended
        assert seen == sorted(seen, key=started.index, reverse=True)
        assert ended and turn >= 3
