"""Issue 5 acceptance: the browser client against a real server, in Chromium.

One browser per module, one fresh context per person. Every test fails if a page logs
a console error or throws. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
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
    my_match,
    play,
    reload,
    resign,
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
    shot(host, "room-cancelled-desktop")
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


# --- one thing at a time: the queue and double clicks ---------------------------------

@pytest.mark.parametrize(("button", "status"), [
    ("play-bot-button", "active"), ("create-room-button", "waiting")])
def test_starting_something_else_leaves_the_queue(pages: Pages, button: str, status: str) -> None:
    searcher = pages.open("Impatient")
    searcher.select_option(tid("game-select"), "tictactoe")
    searcher.click(tid("quick-match-button"))
    expect(searcher.locator(tid("queue-status"))).to_be_visible()
    searcher.click(tid(button))
    wait_status(searcher, status)
    # Out of the queue for real: the next two people searching are paired together.
    by_seat = quick_match(pages.open("Next One"), pages.open("Next Two"), "tictactoe")
    assert searcher not in by_seat.values()
    assert match_id(by_seat[0]) != match_id(searcher)
    searcher.click(tid("lobby-button"))
    expect(searcher.locator(tid("queue-status"))).to_be_hidden()
    expect(searcher.locator(tid("quick-match-button"))).to_be_visible()


@pytest.mark.parametrize(("button", "status"), [
    ("play-bot-button", "active"), ("create-room-button", "waiting")])
def test_double_click_starts_one_match(
        pages: Pages, server: ServerProcess, button: str, status: str) -> None:
    name = f"Double {status}"
    page = pages.open(name)
    page.dblclick(tid(button))
    wait_status(page, status)
    # End it. The server answers in order, so a second start was answered before this.
    if status == "active":
        resign(page)
    else:
        page.click(tid("cancel-room-button"))
    wait_status(page, "finished")
    page.click(tid("lobby-button"))
    expect(page.locator(tid("lobby"))).to_be_visible()
    expect(page.locator(tid("my-match"))).to_have_count(0)
    live = httpx.get(f"{server.http}/api/matches", timeout=10).json()["matches"]
    assert not [m for m in live if any(p and p["name"] == name for p in m["players"])], live


# --- rooms: the invite comes back, a room can be cancelled, a pasted link joins ----------

def test_room_invite_comes_back_and_the_room_can_be_cancelled(pages: Pages) -> None:
    host = pages.open("Room Keeper")
    host.click(tid("create-room-button"))
    wait_status(host, "waiting")
    code = host.locator(tid("room-code")).inner_text().strip()
    room = match_id(host)
    expect(host.locator(tid("resign-button"))).to_be_hidden()
    expect(host.locator(tid("cancel-room-button"))).to_be_visible()

    def invite_shown() -> None:
        wait_status(host, "waiting")
        assert match_id(host) == room
        expect(host.locator(tid("room-invite"))).to_be_visible()
        expect(host.locator(tid("room-code"))).to_have_text(code)
        expect(host.locator(tid("room-link"))).to_have_value(re.compile(rf"\?room={code}$"))

    host.click(tid("lobby-button"))  # back to the lobby, then resume
    my_match(host, room).locator(tid("resume-button")).click()
    invite_shown()
    host.click(tid("lobby-button"))  # back to the lobby, reload, then resume
    reload(host)
    expect(my_match(host, room)).to_be_visible()
    my_match(host, room).locator(tid("resume-button")).click()
    invite_shown()
    reload(host)  # a reload on the room itself
    invite_shown()

    host.click(tid("cancel-room-button"))
    wait_status(host, "finished")
    banner = host.locator(tid("result-banner"))
    expect(banner).to_have_attribute("data-reason", "aborted")
    expect(banner.locator(".result-title")).to_have_text("Room closed")
    expect(banner.locator(".result-detail")).to_have_text("No one joined the room")
    for hidden in ("room-invite", "cancel-room-button", "resign-button", "rematch-button"):
        expect(host.locator(tid(hidden))).to_be_hidden()
    expect(host.locator(tid("player-1"))).not_to_contain_text("offline")
    shot(host, "room-cancelled-desktop")

    late = pages.open("Too Late")
    late.fill(tid("room-code-input"), code)
    late.click(tid("join-room-button"))
    expect(late.locator(f'{tid("toast")}[data-code="unknown_room"]')).to_be_visible()


def test_join_by_pasting_the_invite_link(pages: Pages) -> None:
    host = pages.open("Link Host")
    host.click(tid("create-room-button"))
    wait_status(host, "waiting")
    code = host.locator(tid("room-code")).inner_text().strip()
    link = host.locator(tid("room-link")).input_value()
    assert len(link) > 16, link

    guest = pages.open("Link Guest")
    field = guest.locator(tid("room-code-input"))
    field.focus()
    guest.keyboard.insert_text(link)  # as a paste does
    expect(field).to_have_value(code)
    guest.click(tid("join-room-button"))
    wait_status(guest, "active")
    wait_status(host, "active")
    assert match_id(guest) == match_id(host)


# --- reloads: a match left stays left; a match that ended shows its result ----------------

def test_a_match_left_on_purpose_stays_left_after_a_reload(pages: Pages) -> None:
    leaver = pages.open("Leaver")
    quick_match(leaver, pages.open("Stays"), "connect4")
    match = match_id(leaver)
    leaver.click(tid("lobby-button"))
    expect(my_match(leaver, match)).to_be_visible()

    reload(leaver)
    # Its snapshot came back (the row is listed again) and did not pull the page into it.
    expect(my_match(leaver, match)).to_be_visible()
    expect(leaver.locator(MATCH)).to_be_hidden()

    my_match(leaver, match).locator(tid("resume-button")).click()  # back in by choice
    wait_status(leaver, "active")
    reload(leaver)
    wait_status(leaver, "active")
    assert match_id(leaver) == match


def test_result_of_a_match_that_ended_while_away(pages: Pages) -> None:
    away = pages.open("Away")
    stayer = pages.open("Stayer")
    by_seat = quick_match(away, stayer, "tictactoe")
    play(by_seat, "tictactoe", TTT_WIN[:2])
    match = match_id(away)

    away.goto("about:blank")  # gone: the match ends while the page is away
    expect(stayer.locator(tid("opponent-online"))).to_have_attribute("data-online", "false")
    resign(stayer)
    wait_status(stayer, "finished")

    away.goto(pages.base_url + "/")
    expect(away.locator(tid("connection-status"))).to_have_attribute("data-state", "ready")
    wait_status(away, "finished")
    assert match_id(away) == match
    wait_filled(away, 2)
    banner = away.locator(tid("result-banner"))
    expect(banner).to_have_attribute("data-reason", "resign")
    expect_result(away, "win", "You won!")
    expect(away.locator(BOARD)).to_have_attribute("data-can-play", "false")

    away.click(tid("lobby-button"))  # seen: a reload now stays in the lobby
    reload(away)
    expect(away.locator(tid("lobby"))).to_be_visible()
    expect(away.locator(MATCH)).to_be_hidden()


# --- narrow phones ---------------------------------------------------------------------

@pytest.mark.parametrize("width", [360, 375])
def test_names_are_readable_on_narrow_phones(pages: Pages, width: int) -> None:
    names = ["Guest 4821", "Guadalupe"]
    a, b = (pages.open(name, phone=True, width=width) for name in names)
    by_seat = quick_match(a, b, "connect4")
    for you, page in by_seat.items():
        for seat in (0, 1):
            card = page.locator(tid(f"player-{seat}"))
            text = card.locator(".name-text")
            expect(text).to_have_text(re.compile(r"^(Guest 4821|Guadalupe)$"))
            cut = text.evaluate(
                "e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1")
            assert not cut, f"seat {seat}'s name is cut off at {width}px"
            box, outer = text.bounding_box(), card.bounding_box()
            assert box and outer and box["width"] >= 40, (box, outer)
            assert outer["x"] >= 0 and outer["x"] + outer["width"] <= width, outer
        expect(page.locator(f'{tid(f"player-{you}")} .you-tag')).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    shot(by_seat[0], f"players-{width}px")


# --- a rematch offered to someone already back in the lobby ------------------------------

def finished_then_lobby(pages: Pages, offerer: str, leaver: str,
                        reload_lobby: bool = False) -> tuple[Page, Page, str]:
    """Two people play a match to the end; `leaver` goes back to the lobby (and, with
    `reload_lobby`, reloads it), `offerer` stays on the result and offers a rematch.
    Returns both pages and the match id."""
    a = pages.open(offerer)
    b = pages.open(leaver)
    by_seat = quick_match(a, b, "tictactoe")
    play(by_seat, "tictactoe", TTT_WIN)
    for page in (a, b):
        wait_status(page, "finished")
    match = match_id(a)
    b.click(tid("lobby-button"))
    expect(b.locator(tid("lobby"))).to_be_visible()
    if reload_lobby:
        reload(b)  # the page no longer holds the finished match (the welcome lists live ones)
        expect(b.locator(MATCH)).to_be_hidden()
    expect(b.locator(tid("rematch-offer"))).to_have_count(0)
    a.click(tid("rematch-button"))
    expect(a.locator(tid("rematch-button"))).to_have_attribute("data-state", "offered")
    return a, b, match


def test_rematch_offer_reaches_the_lobby_and_can_be_accepted(pages: Pages) -> None:
    a, b, old = finished_then_lobby(pages, "Offer Maker", "Lobby Sitter")
    seat_a = int(match_attr(a, "you"))
    offer = b.locator(f'{tid("rematch-offer")}[data-match-id="{old}"]')
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("Offer Maker offers a rematch")
    expect(b.locator(tid("announcer"))).to_have_text("Offer Maker offers a rematch")
    expect(b.locator(MATCH)).to_be_hidden()  # told, not pulled into the old match
    shot(b, "rematch-offer-lobby-desktop")

    offer.locator(tid("accept-rematch-button")).click()
    for page in (a, b):
        expect(page.locator(MATCH)).not_to_have_attribute("data-match-id", old)
        wait_status(page, "active")
    assert match_id(a) == match_id(b) != ""
    assert int(match_attr(a, "you")) == 1 - seat_a  # the seats are swapped
    assert int(match_attr(b, "you")) == seat_a
    expect(b.locator(tid("rematch-offer"))).to_have_count(0)
    # The new match plays as any other: the new seat 0 (the old seat 1) moves first.
    play(seats([a, b]), "tictactoe", TTT_WIN)
    wait_status(a, "finished")


def test_rematch_offer_in_the_lobby_can_be_dismissed(pages: Pages) -> None:
    a, b, old = finished_then_lobby(pages, "Hopeful", "Not Now")
    offer = b.locator(f'{tid("rematch-offer")}[data-match-id="{old}"]')
    expect(offer).to_contain_text("Hopeful offers a rematch")
    offer.locator(tid("dismiss-rematch-button")).click()
    expect(b.locator(tid("rematch-offer"))).to_have_count(0)
    expect(b.locator(tid("rematch-offers"))).to_be_hidden()
    expect(b.locator(tid("lobby"))).to_be_visible()
    # Nothing was sent: the offer still stands on the other side.
    expect(a.locator(tid("rematch-button"))).to_have_attribute("data-state", "offered")
    assert match_id(a) == old


def test_rematch_offer_reaches_a_lobby_reloaded_after_the_match(pages: Pages) -> None:
    a, b, old = finished_then_lobby(pages, "Offers Later", "Reloaded", reload_lobby=True)
    offer = b.locator(f'{tid("rematch-offer")}[data-match-id="{old}"]')
    expect(offer).to_contain_text("Offers Later offers a rematch")
    expect(b.locator(MATCH)).to_be_hidden()  # told, not pulled into the old match
    offer.locator(tid("accept-rematch-button")).click()
    for page in (a, b):
        expect(page.locator(MATCH)).not_to_have_attribute("data-match-id", old)
        wait_status(page, "active")
    assert match_id(a) == match_id(b) != ""
