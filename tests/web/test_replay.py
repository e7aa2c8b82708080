"""Issue 17: a finished match replayed in the browser (`/?replay=MATCH`) against a real
server, in Chromium: buttons, arrow keys and a slider step through it, the address
keeps the position (a shared link opens there), the exports download, and the replay
is reached from the end-of-match screen and the lobby's recent games.

Every test fails if a page logs a console error or throws (the `pages` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from game.rules import get_rules
from tests.support import ServerProcess, play_out
from tests.web.browser import DESKTOP, Pages, match_attr, play, shot, tid, wait_status
from tests.web.test_admin_page import Loop, loop
from tests.web.test_client import browser, pages, playwright, quick_match
from tests.web.test_rough_edges import RTL_NAME, isolated

__all__ = ["browser", "loop", "pages", "playwright"]  # fixtures, used by name

C4_MOVES = [3, 3, 4, 2, 5, 4, 6]  # red wins along the bottom row
PONS = "4453657"
REPLAY = tid("replay-page")
CELLS = "#replay-board [data-cell]"


def open_page(pages: Pages, path: str) -> Page:
    """A fresh person's page at `path` (a page that needs no connection), loaded."""
    context = pages.browser.new_context(**DESKTOP, accept_downloads=True)
    context.set_default_timeout(10_000)
    pages.contexts.append(context)
    page = context.new_page()
    page.on("console", lambda message: pages._console(path, message))
    page.on("pageerror", lambda error: pages._page_error(path, error))
    page.goto(pages.base_url + path)
    expect(page.locator("section.page")).to_have_attribute("data-ready", "true")
    return page


def finished_match(loop: Loop, server: ServerProcess, game: str, moves: list[int],
                   names: tuple[str, str] = ("tester", "tester")) -> str:
    """A match two test clients play to its end; its id."""
    a, b = loop.client(server), loop.client(server)

    async def go() -> str:
        await a.hello(names[0])
        await b.hello(names[1])
        opened = await a.request({"type": "create_room", "game": game})
        await b.request({"type": "join_room", "code": opened["code"]})
        match: str = opened["match"]
        for client in (a, b):
            await client.until_view(match, lambda v: v["status"] == "active")
        seats = {a.views[match]["you"]: a, b.views[match]["you"]: b}
        await play_out(seats, match, moves)
        await a.until_view(match, lambda v: v["status"] == "finished")
        return match

    return loop.run(go())


def positions_of(server: ServerProcess, match: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{server.http}/api/matches/{match}/positions",
                                     timeout=10).json()
    return data


def shown(page: Page) -> list[int | None]:
    """The replay board's cells, by cell number (None for an empty one)."""
    values: list[str] = page.eval_on_selector_all(
        CELLS, "cells => cells.sort((a, b) => a.dataset.cell - b.dataset.cell)"
        ".map((c) => c.dataset.value)")
    return [None if v == "" else int(v) for v in values]


def at_ply(page: Page, game: str, moves: list[int], ply: int) -> None:
    """The page shows ply `ply`: its number, the address and the board."""
    expect(page.locator(REPLAY)).to_have_attribute("data-ply", str(ply))
    assert shown(page) == get_rules(game).replay(moves[:ply]).board()
    expect(page.locator(tid("replay-slider"))).to_have_value(str(ply))


def test_step_through_a_connect4_match_and_export_it(pages: Pages, loop: Loop,
                                                     server: ServerProcess) -> None:
    match = finished_match(loop, server, "connect4", C4_MOVES)
    page = open_page(pages, f"/?replay={match}")
    n = len(C4_MOVES)
    at_ply(page, "connect4", C4_MOVES, n)  # opens at the end, with the result
    expect(page.locator(tid("replay-status"))).to_contain_text(f"Move {n} of {n}")
    expect(page.locator(tid("replay-status"))).to_contain_text("wins")
    expect(page.locator("#replay-board .stone.win")).to_have_count(4)
    page.click(tid("replay-first"))
    at_ply(page, "connect4", C4_MOVES, 0)
    expect(page.locator(tid("replay-prev"))).to_be_disabled()
    page.click(tid("replay-next"))
    at_ply(page, "connect4", C4_MOVES, 1)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    at_ply(page, "connect4", C4_MOVES, 3)
    page.keyboard.press("ArrowLeft")
    at_ply(page, "connect4", C4_MOVES, 2)
    page.keyboard.press("End")
    at_ply(page, "connect4", C4_MOVES, n)
    expect(page.locator(tid("replay-next"))).to_be_disabled()
    page.keyboard.press("Home")
    at_ply(page, "connect4", C4_MOVES, 0)
    page.locator(tid("replay-slider")).fill("5")
    at_ply(page, "connect4", C4_MOVES, 5)
    expect(page.locator("#replay-board .stone.win")).to_have_count(0)  # not over yet
    shot(page, "replay-connect4-desktop")
    # the address keeps the position: the link opens where it was left
    assert page.url.endswith(f"?replay={match}&ply=5")
    shared = open_page(pages, page.url.removeprefix(pages.base_url))
    at_ply(shared, "connect4", C4_MOVES, 5)

    with page.expect_download() as pons_download:
        page.click(tid("export-pons"))
    assert Path(pons_download.value.path()).read_text().strip() == PONS
    expect(page.locator(tid("pons-string"))).to_have_text(PONS)
    with page.expect_download() as json_download:
        page.click(tid("export-json"))
    assert json_download.value.suggested_filename == f"connect4-{match}.json"
    record: dict[str, Any] = json.loads(Path(json_download.value.path()).read_text())
    assert record["match"] == match and record["moves"] == C4_MOVES
    assert record["result"]["winner"] == 0 and "positions" not in record
    assert [p["id"] for p in record["players"]] == [
        p["id"] for p in positions_of(server, match)["players"]]


def test_a_tictactoe_replay_has_no_move_string_and_isolates_names(
        pages: Pages, loop: Loop, server: ServerProcess) -> None:
    moves = [0, 3, 1, 4, 2]
    match = finished_match(loop, server, "tictactoe", moves, names=(RTL_NAME, "Bob"))
    page = open_page(pages, f"/?replay={match}&ply=2")
    at_ply(page, "tictactoe", moves, 2)
    expect(page.locator(tid("export-json"))).to_be_visible()
    expect(page.locator(tid("export-pons"))).to_have_count(0)
    for name in (RTL_NAME, "Bob"):
        found = isolated(page, '[data-testid="replay-players"]', name)
        assert found and all(found), (name, found)
    # names link to the players' profiles
    expect(page.locator(f'{tid("replay-players")} a.player-link')).to_have_count(2)
    # the lobby's recent games isolate them too: in the names and in "NAME won"
    lobby = pages.open("Someone")
    recent = lobby.locator(f'{tid("recent-game")}[data-match-id="{match}"]')
    expect(recent).to_contain_text(f"{RTL_NAME} won")
    found = isolated(lobby, '[data-testid="recent-games"]', RTL_NAME)
    assert len(found) >= 2 and all(found), found


def test_an_unknown_match_is_said_in_words(pages: Pages) -> None:
    page = open_page(pages, "/?replay=nosuchmatch1")
    expect(page.locator(tid("page-problem"))).to_contain_text("no such match")
    # Chromium logs the 404 it was answered: the one this test asked for is expected
    expected = "nosuchmatch1/positions"
    assert [p for p in pages.problems if expected in p], pages.problems
    pages.problems[:] = [p for p in pages.problems if expected not in p]
    page = open_page(pages, "/?replay=%3Cscript%3E")  # never sent: not an id
    expect(page.locator(tid("page-problem"))).to_contain_text("not a match id")


def test_replay_from_the_end_of_match_screen_and_the_lobby(pages: Pages) -> None:
    alice = pages.open("Alice")
    bob = pages.open("Bob")
    by_seat = quick_match(alice, bob, "tictactoe")
    match = match_attr(alice, "match-id")
    link = alice.locator(tid("match-replay-link"))
    expect(link).to_be_hidden()  # not while it is played
    play(by_seat, "tictactoe", [0, 3, 1, 4, 2])
    wait_status(alice, "finished")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"./?replay={match}")
    link.click()
    expect(alice.locator(REPLAY)).to_have_attribute("data-ready", "true")
    at_ply(alice, "tictactoe", [0, 3, 1, 4, 2], 5)
    # the lobby's recent games list it, with a replay link
    lobby = pages.open("Watcher")
    row = lobby.locator(f'{tid("recent-game")}[data-match-id="{match}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("Alice")
    shot(lobby, "lobby-recent-games")
    row.locator(tid("replay-link")).click()
    expect(lobby.locator(REPLAY)).to_have_attribute("data-match-id", match)
    # back in the lobby after a match: the recent list has it at once
    lobby.goto(pages.base_url + "/")
    expect(lobby.locator(tid("connection-status"))).to_have_attribute("data-state", "ready")
    expect(row).to_be_visible()
