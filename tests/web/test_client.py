"""Issue 5 acceptance: the browser client against a real server, in Chromium.

One browser per module, one fresh context per person. Every test fails if a page logs
a console error or throws. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from game.rules import get_rules
from tests.support import ServerProcess
from tests.web.browser import (
    BOARD,
    CHROMIUM,
    CHROMIUM_ARGS,
    MATCH,
    Pages,
    board,
    expect_result,
    match_attr,
    match_id,
    play,
    seats,
    shot,
    tid,
    version,
    wait_filled,
    wait_status,
)

TTT_WIN = [0, 3, 1, 4, 2]  # X takes the top row
TTT_DRAW = [0, 1, 2, 4, 3, 5, 7, 6, 8]
C4_WIN = [3, 2, 3, 2, 3, 2, 3]  # red stacks column 3


def winning_line(game: str, moves: list[int]) -> list[int]:
    outcome = get_rules(game).replay(moves).outcome
    assert outcome is not None and outcome.line
    return list(outcome.line)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def pages(browser: Browser, server: ServerProcess) -> Iterator[Pages]:
    opened = Pages(browser, server.http)
    try:
        yield opened
        assert not opened.problems, "\n".join(opened.problems)
    finally:
        opened.close()


def quick_match(a: Page, b: Page, game: str) -> dict[int, Page]:
    """Both pages pick `game` and press "Find a match"; returns the pages by seat."""
    for page in (a, b):
        page.select_option(tid("game-select"), game)
        page.click(tid("quick-match-button"))
        if page is a:
            expect(a.locator(tid("queue-status"))).to_be_visible()
    for page in (a, b):
        wait_status(page, "active")
        expect(page.locator(MATCH)).to_have_attribute("data-game", game)
        expect(page.locator(MATCH)).to_have_attribute("data-role", "player")
    assert match_id(a) == match_id(b) != ""
    return seats([a, b])


# --- quick match, full games ------------------------------------------------------

@pytest.mark.parametrize(("game", "moves"), [("tictactoe", TTT_WIN), ("connect4", C4_WIN)])
def test_quick_match_full_game_by_clicks(pages: Pages, game: str, moves: list[int]) -> None:
    alice = pages.open("Alice")
    expect(alice.locator(tid("live-empty"))).to_be_visible()
    shot(alice, "lobby-desktop")
    bob = pages.open("Bob")
    by_seat = quick_match(alice, bob, game)
    expect(by_seat[0].locator(tid("status-line"))).to_have_text("Your turn")
    expect(by_seat[1].locator(tid("status-line"))).to_contain_text("Waiting for")

    half = len(moves) // 2
    play(by_seat, game, moves[:half])
    shot(by_seat[0], f"{game}-mid-desktop")
    play(by_seat, game, moves[half:])

    for page in by_seat.values():
        wait_status(page, "finished")
    assert board(by_seat[0]) == board(by_seat[1])
    line = winning_line(game, moves)
    expect_result(by_seat[0], "win", "You won!", line)
    expect_result(by_seat[1], "loss", "You lost", line)
    expect(by_seat[0].locator(tid("rematch-button"))).to_be_visible()
    expect(by_seat[0].locator(tid("resign-button"))).to_be_hidden()
    shot(by_seat[0], f"{game}-finished-win-desktop")
    shot(by_seat[1], f"{game}-finished-loss-desktop")


# --- private room -------------------------------------------------------------------

def test_private_room_link(pages: Pages) -> None:
    host = pages.open("Host")
    host.select_option(tid("game-select"), "tictactoe")
    host.click(tid("create-room-button"))
    wait_status(host, "waiting")
    expect(host.locator(tid("room-invite"))).to_be_visible()
    link = host.locator(tid("room-link"))
    expect(link).to_have_value(re.compile(r"\?room=\w+"))
    code = host.locator(tid("room-code")).inner_text().strip()
    url = link.input_value()
    assert url.endswith(f"?room={code}"), (url, code)
    # Nobody is in the empty seat yet: no "lost connection", no "offline".
    expect(host.locator(tid("player-1"))).to_contain_text("Waiting for a player")
    expect(host.locator(tid("player-1"))).not_to_contain_text("offline")
    expect(host.locator(tid("opponent-online"))).to_be_hidden()
    shot(host, "room-invite-desktop")

    guest = pages.open("Guest", path=url[url.index("/?"):])
    wait_status(guest, "active")
    wait_status(host, "active")
    assert match_id(guest) == match_id(host)
    expect(host.locator(tid("room-invite"))).to_be_hidden()
    assert "room=" not in guest.url  # the intent is used once, not on every reload

    by_seat = seats([host, guest])
    play(by_seat, "tictactoe", TTT_DRAW)
    for page in by_seat.values():
        wait_status(page, "finished")
        expect_result(page, "draw", "It's a draw")


# --- reload --------------------------------------------------------------------------

def test_reload_resumes_the_same_position(pages: Pages) -> None:
    a = pages.open("Reloader")
    b = pages.open("Steady")
    by_seat = quick_match(a, b, "tictactoe")
    play(by_seat, "tictactoe", TTT_WIN[:2])
    mover = by_seat[int(match_attr(a, "turn"))]  # the page to move next reloads
    before_id, before_version, before_board = match_id(mover), version(mover), board(mover)

    mover.reload()
    expect(mover.locator(tid("connection-status"))).to_have_attribute("data-state", "ready")
    wait_status(mover, "active")
    wait_filled(mover, 2)
    assert match_id(mover) == before_id
    assert version(mover) >= before_version
    assert board(mover) == before_board
    expect(mover.locator(BOARD)).to_have_attribute("data-can-play", "true")

    play(by_seat, "tictactoe", TTT_WIN[2:])
    for page in by_seat.values():
        wait_status(page, "finished")
    assert board(a) == board(b)
    line = winning_line("tictactoe", TTT_WIN)
    expect_result(by_seat[0], "win", "You won!", line)
    expect_result(by_seat[1], "loss", "You lost", line)


# --- spectators ----------------------------------------------------------------------

def test_watchers_see_the_whole_game(pages: Pages) -> None:
    a = pages.open("Red Player")
    b = pages.open("Yellow Player")
    by_seat = quick_match(a, b, "connect4")
    play(by_seat, "connect4", C4_WIN[:2])
    match = match_id(a)

    fan = pages.open("Fan")  # from the live list on the lobby
    row = fan.locator(f'{tid("live-match")}[data-match-id="{match}"]')
    expect(row).to_be_visible()
    names = {seat: "Red Player" if page is a else "Yellow Player" for seat, page in by_seat.items()}
    expect(row).to_contain_text(f"{names[0]} vs {names[1]}")
    row.locator(tid("watch-button")).click()
    wait_status(fan, "active")
    expect(fan.locator(MATCH)).to_have_attribute("data-role", "spectator")
    expect(fan.locator(tid("spectator-badge"))).to_be_visible()
    assert match_id(fan) == match
    wait_filled(fan, 2)
    assert f"watch={match}" in fan.url

    late = pages.open("Late Fan", path=f"/?watch={match}")  # from a shared link
    wait_status(late, "active")
    expect(late.locator(MATCH)).to_have_attribute("data-role", "spectator")
    for page in (a, b, fan, late):
        expect(page.locator(tid("watcher-count"))).to_have_attribute("data-count", "2")
    expect(fan.locator(tid("watcher-count"))).to_contain_text("2 watching")
    expect(fan.locator(tid("status-line"))).to_contain_text("to move")
    expect(fan.locator(BOARD)).to_have_attribute("data-can-play", "false")

    play(by_seat, "connect4", C4_WIN[2:], watchers=[fan, late])
    line = winning_line("connect4", C4_WIN)
    for page in (fan, late):
        wait_status(page, "finished")
        assert board(page) == board(a) == board(b)
        expect_result(page, "neutral", f"{names[0]} (Red) wins", line)
    expect(fan.locator(tid("rematch-button"))).to_be_hidden()
    shot(fan, "connect4-finished-spectator-desktop")


# --- bots ------------------------------------------------------------------------------

@pytest.mark.parametrize(("game", "level"), [("tictactoe", "random"), ("connect4", "easy")])
def test_game_against_a_bot_runs_to_the_end(pages: Pages, game: str, level: str) -> None:
    page = pages.open("Solo")
    page.select_option(tid("game-select"), game)
    page.select_option(tid("bot-level-select"), level)
    page.click(tid("play-bot-button"))
    wait_status(page, "active")
    you = int(match_attr(page, "you"))
    expect(page.locator(tid(f"player-{1 - you}"))).to_have_attribute("data-bot", "true")
    container = page.locator(BOARD)
    item = "[data-col]" if game == "connect4" else "[data-cell]"
    for _ in range(42):
        # Either the bot finished it, or it is our turn again.
        page.wait_for_function(
            "() => { const m = document.querySelector('[data-testid=\"match-screen\"]');"
            " return m.dataset.status === 'finished' ||"
            " document.getElementById('board-container').dataset.canPlay === 'true'; }")
        if match_attr(page, "status") == "finished":
            break
        filled = len(page.locator('#board-container [data-cell]:not([data-value=""])').all())
        container.locator(f'{item}[aria-disabled="false"]').first.click()
        wait_filled(page, filled + 1)  # ours landed: the next can-play is after the bot's
    wait_status(page, "finished")
    expect(page.locator(tid("result-banner"))).to_have_attribute(
        "data-outcome", re.compile("^(win|loss|draw)$"))


# --- keyboard --------------------------------------------------------------------------

@pytest.mark.parametrize(("game", "moves"), [("tictactoe", TTT_WIN), ("connect4", C4_WIN)])
def test_keyboard_only_play(pages: Pages, game: str, moves: list[int]) -> None:
    a = pages.open("Keys A")
    b = pages.open("Keys B")
    by_seat = quick_match(a, b, game)
    # Arrow keys to the cell or column, then Enter (X, red) or Space (O); yellow uses
    # the number keys of connect-four (1..7).
    play(by_seat, game, moves, how="keyboard")
    for page in by_seat.values():
        wait_status(page, "finished")
    expect_result(by_seat[0], "win", "You won!", winning_line(game, moves))


# --- phone -------------------------------------------------------------------------------

@pytest.mark.parametrize(("game", "moves"), [("tictactoe", TTT_WIN), ("connect4", C4_WIN)])
def test_phone_layout_by_tapping(pages: Pages, game: str, moves: list[int]) -> None:
    a = pages.open("Pocket A", phone=True)
    shot(a, "lobby-phone")
    b = pages.open("Pocket B", phone=True)
    by_seat = quick_match(a, b, game)
    for page in by_seat.values():  # the board fits the screen: no sideways scrolling
        box = page.locator(f"{BOARD} {tid('board')}").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide on a 390px phone"
    for seat, page in by_seat.items():  # the "you" tag is shown whole, not cut off
        card = page.locator(tid(f"player-{seat}")).bounding_box()
        tag = page.locator(f'{tid(f"player-{seat}")} .you-tag')
        expect(tag).to_be_visible()
        box = tag.bounding_box()
        assert card and box and card["x"] <= box["x"] and (
            box["x"] + box["width"] <= card["x"] + card["width"]), (card, box)
        name = page.locator(f'{tid(f"player-{seat}")} .player-name').bounding_box()
        assert name and name["x"] <= box["x"] and (
            box["x"] + box["width"] <= name["x"] + name["width"] + 0.5), (name, box)
    half = len(moves) // 2
    play(by_seat, game, moves[:half], how="tap")
    shot(by_seat[1], f"{game}-mid-phone")
    play(by_seat, game, moves[half:], how="tap")
    for page in by_seat.values():
        wait_status(page, "finished")
    line = winning_line(game, moves)
    expect_result(by_seat[0], "win", "You won!", line)
    expect_result(by_seat[1], "loss", "You lost", line)
    shot(by_seat[0], f"{game}-finished-phone")


# --- errors --------------------------------------------------------------------------------

def test_errors_are_shown(pages: Pages) -> None:
    page = pages.open("Lost")
    page.fill(tid("room-code-input"), "ZZZZZZ")
    page.click(tid("join-room-button"))
    toast = page.locator(f'{tid("toast")}[data-code="unknown_room"]')
    expect(toast).to_be_visible()
    expect(toast).to_have_attribute("data-kind", "error")
    expect(toast).to_have_attribute("role", "alert")
    expect(toast).to_contain_text("No room with that code")
    expect(page.locator(tid("lobby"))).to_be_visible()
    shot(page, "error-toast-desktop")

    lost = pages.open("Lost Watcher", path="/?watch=no-such-match")
    toast = lost.locator(f'{tid("toast")}[data-code="unknown_match"]')
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("does not exist")
    expect(lost.locator(tid("lobby"))).to_be_visible()
    expect(lost.locator(MATCH)).to_be_hidden()
