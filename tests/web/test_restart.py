"""Issue 18: a server restart (SIGTERM: a `notice`, then 1012) is a calm pause in the
browser, not an error: the page says the server is restarting and that it reconnects,
shows no error toast and no button to press, and is back in its match, with the
board as it was, once the server is up again on the same SQLite file."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.support import ServerProcess, serving_sqlite
from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MATCH,
    Pages,
    board,
    expect_result,
    match_id,
    play,
    seats,
    tid,
    wait_filled,
    wait_status,
)

TTT_WIN = [0, 3, 1, 4, 2]
RESTARTING = "The server is restarting. Reconnecting…"
BACK_MS = 30_000  # the restarted process, then the page's next attempt


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    playwright: Playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from serving_sqlite(tmp_path)


@pytest.fixture
def pages(browser: Browser, server: ServerProcess) -> Iterator[Pages]:
    opened = Pages(browser, server.http)
    try:
        yield opened
        # Chromium itself reports each refused attempt while no server listens (the
        # page cannot silence that); anything else is a problem
        problems = [p for p in opened.problems if "WebSocket connection to" not in p]
        assert not problems, "\n".join(problems)
    finally:
        opened.close()


def quick_match(a: Page, b: Page) -> dict[int, Page]:
    for page in (a, b):
        page.select_option(tid("game-select"), "tictactoe")
        page.click(tid("quick-match-button"))
    for page in (a, b):
        wait_status(page, "active")
    assert match_id(a) == match_id(b) != ""
    return seats([a, b])


def expect_calm(page: Page) -> None:
    """The page says the server restarts and that it reconnects by itself."""
    status = page.locator(tid("connection-status"))
    expect(status).to_have_attribute("data-state", "restarting")
    expect(status).to_contain_text("Restarting")
    banner = page.locator(tid("connection-banner"))
    expect(banner).to_be_visible()
    expect(banner.locator(".conn-banner-text")).to_have_text(RESTARTING)
    expect(banner).to_have_attribute("role", "status")
    expect(page.locator(tid("reconnect-button"))).to_be_hidden()
    expect(page.locator(tid("status-line"))).to_have_text("Server restarting, reconnecting…")
    expect(page.locator(f'{tid("toast")}[data-kind="error"]')).to_have_count(0)


def test_a_restart_is_a_calm_pause_and_the_match_goes_on(
        pages: Pages, server: ServerProcess) -> None:
    a = pages.open("Calm")
    b = pages.open("Steady")
    by_seat = quick_match(a, b)
    play(by_seat, "tictactoe", TTT_WIN[:2])
    before = {seat: (match_id(page), board(page)) for seat, page in by_seat.items()}

    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    for page in by_seat.values():
        expect_calm(page)
        expect(page.locator(MATCH)).to_be_visible()  # still on the match screen

    server.start()  # the same port and SQLite file
    for seat, page in by_seat.items():
        expect(page.locator(tid("connection-status"))).to_have_attribute(
            "data-state", "ready", timeout=BACK_MS)
        expect(page.locator(tid("connection-banner"))).to_be_hidden()
        wait_status(page, "active")
        wait_filled(page, 2)
        assert (match_id(page), board(page)) == before[seat]
    play(by_seat, "tictactoe", TTT_WIN[2:])
    expect_result(by_seat[0], "win", "You won!", TTT_WIN[0::2])
    expect_result(by_seat[1], "loss", "You lost", TTT_WIN[0::2])
    for page in by_seat.values():
        expect(page.locator(f'{tid("toast")}[data-kind="error"]')).to_have_count(0)
