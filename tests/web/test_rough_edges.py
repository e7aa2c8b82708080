"""Issue 17: the browser rough edges players hit, each against a real server in Chromium.

Every test fails if a page logs a console error or throws (the `pages` fixture).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, Route, WebSocket, expect

from tests.web.browser import (
    BOARD,
    DESKTOP,
    MATCH,
    TIMEOUT_MS,
    Pages,
    match_attr,
    play,
    resign,
    tid,
    wait_status,
)
from tests.web.test_client import browser, pages, playwright, quick_match

__all__ = ["browser", "pages", "playwright"]  # fixtures, used by name

RTL_NAME = "שרה 42"  # Hebrew, then digits: without isolation the digits join the next word

# The text nodes holding `name` inside `root`, each with whether it sits in a bidi
# isolate that holds exactly the name (and nothing of the sentence around it).
ISOLATION = """([root, name]) => {
  const found = [];
  const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.data.includes(name)) continue;
    let el = node.parentElement;
    const isolates = ['isolate', 'isolate-override', 'plaintext'];
    while (el && !isolates.includes(getComputedStyle(el).unicodeBidi)) {
      el = el.parentElement;
    }
    found.push(Boolean(el) && el.textContent.trim() === name);
  }
  return found;
}"""


def isolated(page: Page, root: str, name: str) -> list[bool]:
    result: list[bool] = page.evaluate(ISOLATION, [root, name])
    return result


# --- 1. names are bidi isolates everywhere they are shown ------------------------

def test_names_are_isolated_everywhere(pages: Pages) -> None:
    sara = pages.open(RTL_NAME)
    bob = pages.open("Bob")
    by_seat = quick_match(sara, bob, "tictactoe")
    watcher = pages.open("Watcher")
    row = watcher.locator(f'{tid("live-match")}[data-match-id="{match_attr(sara, "match-id")}"]')
    expect(row).to_contain_text(RTL_NAME)
    # the live list row "שרה 42 vs Bob": each name on its own
    for name in (RTL_NAME, "Bob"):
        found = isolated(watcher, '[data-testid="live-matches"]', name)
        assert found and all(found), (name, found)
    waiting = by_seat[1] if match_attr(by_seat[0], "you") == "0" else by_seat[0]
    other = by_seat[0] if waiting is by_seat[1] else by_seat[1]
    names = {sara: RTL_NAME, bob: "Bob"}
    # the player cards, and the status line "Waiting for NAME…"
    expect(waiting.locator(tid("status-line"))).to_contain_text(names[other])
    found = isolated(waiting, MATCH, names[other])
    assert len(found) >= 2 and all(found), found  # its card and the status line
    for page in (sara, bob):
        assert all(isolated(page, MATCH, names[page])), names[page]


# --- helpers: a page whose sent WebSocket frames are recorded ----------------------

def open_recorded(pages: Pages, name: str | None, path: str = "/", *,
                  ready: bool = True, viewport: dict[str, int] | None = None,
                  ) -> tuple[Page, list[dict[str, Any]]]:
    """Like `Pages.open`, but returns the commands the page sends too. `name=None`:
    a person who never chose a name (nothing in localStorage)."""
    options = {**DESKTOP, "viewport": viewport} if viewport else DESKTOP
    context = pages.browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    if name is not None:
        context.add_init_script(
            "try { if (!localStorage.getItem('playroom.name'))"
            f" localStorage.setItem('playroom.name', {json.dumps(name)}); }} catch (e) {{}}")
    pages.contexts.append(context)
    page = context.new_page()
    who = name or "nameless"
    page.on("console", lambda message: pages._console(who, message))
    page.on("pageerror", lambda error: pages._page_error(who, error))
    sent: list[dict[str, Any]] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framesent", lambda payload: sent.append(json.loads(payload)))

    page.on("websocket", on_socket)
    page.goto(pages.base_url + path)
    if ready:
        expect(page.locator(tid("connection-status"))).to_have_attribute("data-state", "ready")
    return page, sent


def types(sent: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("type")) for m in sent]


# --- 2. room codes and names the server cannot take -------------------------------

@pytest.mark.parametrize("code", ["<script>alert(1)</script>", "\u2039img src=x onerror=alert(1)>",
                                  "ABC"])
def test_a_garbage_room_link_is_answered_in_words(pages: Pages, code: str) -> None:
    page, sent = open_recorded(pages, "Alice", "/?" + urlencode({"room": code}))
    error = page.locator(tid("room-code-error"))
    expect(error).to_be_visible()
    expect(error).to_contain_text("not a room code")
    expect(page.locator(f'{tid("toast")}[data-code="bad_room_code"]')).to_be_visible()
    assert "room=" not in page.url  # a reload does not bring it back
    assert "join_room" not in types(sent)
    expect(page.locator(f'{tid("toast")}[data-code="bad_message"]')).to_have_count(0)


def test_a_garbage_room_code_typed_in_is_answered_in_words(pages: Pages) -> None:
    page, sent = open_recorded(pages, "Alice")
    page.fill(tid("room-code-input"), "<img src=x>")
    page.click(tid("join-room-button"))
    expect(page.locator(tid("room-code-error"))).to_contain_text("not a room code")
    expect(page.locator(tid("room-code-input"))).to_have_attribute("aria-invalid", "true")
    assert "join_room" not in types(sent)
    # a well-formed code, in small letters, is sent in capitals
    page.fill(tid("room-code-input"), " k7mpq2 ")
    expect(page.locator(tid("room-code-error"))).to_be_hidden()
    page.click(tid("join-room-button"))
    expect(page.locator(f'{tid("toast")}[data-code="unknown_room"]')).to_be_visible()
    assert [m["code"] for m in sent if m.get("type") == "join_room"] == ["K7MPQ2"]


@pytest.mark.parametrize("bad_name", ["x" * 40, "Hard bot", "\u200b\u200b"])
def test_a_name_the_server_refuses_can_be_changed(pages: Pages, bad_name: str) -> None:
    page, sent = open_recorded(pages, bad_name, ready=False)
    status = page.locator(tid("connection-status"))
    expect(status).to_have_attribute("data-state", "refused")
    expect(status).not_to_contain_text("Connecting")
    expect(page.locator(tid("connection-banner"))).to_contain_text("did not accept your name")
    name_error = page.locator(tid("name-error"))
    expect(name_error).to_be_visible()
    expect(name_error).to_contain_text("Pick another name")
    expect(page.locator(tid("name-input"))).to_be_focused()
    page.fill(tid("name-input"), "Alice")
    page.press(tid("name-input"), "Enter")
    expect(status).to_have_attribute("data-state", "ready")
    expect(name_error).to_be_hidden()
    hellos = [m for m in sent if m.get("type") == "hello"]
    assert hellos[-1].get("name") == "Alice", hellos
    assert page.evaluate("() => globalThis.__playroom.conn.name") == "Alice"


# --- 3. the end of a match fits a 1280x800 screen ----------------------------------

BELOW_THE_FOLD = """(ids) => {
  window.scrollTo(0, 0);
  return ids.filter((id) => {
    const box = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
    return box.height === 0 || box.top < 0 || box.bottom > window.innerHeight;
  });
}"""


@pytest.mark.parametrize("game", ["tictactoe", "connect4"])
def test_result_and_rematch_fit_a_laptop_screen(pages: Pages, game: str) -> None:
    laptop = {"width": 1280, "height": 800}
    alice, _ = open_recorded(pages, "Alice", viewport=laptop)
    bob, _ = open_recorded(pages, "Bob", viewport=laptop)
    by_seat = quick_match(alice, bob, game)
    play(by_seat, game, [0, 3, 1, 4, 2] if game == "tictactoe" else [3, 2, 3, 2, 3, 2, 3])
    for page in by_seat.values():
        wait_status(page, "finished")
    by_seat[0].click(tid("rematch-button"))
    expect(by_seat[1].locator(tid("rematch-note"))).to_contain_text("wants a rematch")
    expect(by_seat[0].locator(tid("rematch-note"))).to_contain_text("Waiting for")
    for page in by_seat.values():
        ids = ["result-banner", "rematch-button", "lobby-button", "rematch-note"]
        assert page.evaluate(BELOW_THE_FOLD, ids) == [], page.evaluate(
            "() => [innerHeight, document.documentElement.scrollHeight]")


# --- 4. a click that plays nothing says why ----------------------------------------

def moves_sent(sent: list[dict[str, Any]]) -> int:
    return types(sent).count("move")


def test_out_of_turn_and_taken_squares_say_so(pages: Pages) -> None:
    alice, alice_sent = open_recorded(pages, "Alice")
    bob, bob_sent = open_recorded(pages, "Bob")
    by_seat = quick_match(alice, bob, "tictactoe")
    sent = {alice: alice_sent, bob: bob_sent}
    waiting = by_seat[1]
    before = moves_sent(sent[waiting])
    # force: a person's click lands on a cell marked aria-disabled; Playwright's waits
    waiting.click(f'{BOARD} [data-cell="4"]', force=True)
    hint = waiting.locator(tid("board-hint"))
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Not your turn")
    expect(hint).to_contain_text(f"{names_of(by_seat)[0]} is to move")
    play(by_seat, "tictactoe", [4])
    expect(hint).to_be_hidden()  # the turn came: the note went
    mover = by_seat[1]
    mover.click(f'{BOARD} [data-cell="4"]', force=True)  # X is there
    expect(mover.locator(tid("board-hint"))).to_have_text("That square is taken.")
    assert moves_sent(sent[waiting]) == before
    assert match_attr(mover, "turn") == "1"  # still to move: nothing was played


def test_a_full_column_says_so(pages: Pages) -> None:
    alice, alice_sent = open_recorded(pages, "Alice")
    bob, bob_sent = open_recorded(pages, "Bob")
    by_seat = quick_match(alice, bob, "connect4")
    play(by_seat, "connect4", [3, 3, 3, 3, 3, 3])
    mover = by_seat[0]
    sent = alice_sent if mover is alice else bob_sent
    before = moves_sent(sent)
    mover.click(f'{BOARD} [data-col="3"]', force=True)
    expect(mover.locator(tid("board-hint"))).to_have_text("That column is full.")
    mover.focus(f'{BOARD} [data-col][tabindex="0"]')
    mover.keyboard.press("4")  # the number keys too
    expect(mover.locator(tid("board-hint"))).to_have_text("That column is full.")
    assert moves_sent(sent) == before
    assert match_attr(mover, "turn") == "0"


def names_of(by_seat: dict[int, Page]) -> dict[int, str]:
    return {seat: page.locator(f'{tid(f"player-{seat}")} .name-text').inner_text()
            for seat, page in by_seat.items()}


# --- 5. no rematch with someone who left ---------------------------------------------

def test_no_rematch_offered_against_an_opponent_who_left(pages: Pages) -> None:
    alice, alice_sent = open_recorded(pages, "Alice")
    bob, _ = open_recorded(pages, "Bob")
    by_seat = quick_match(alice, bob, "tictactoe")
    play(by_seat, "tictactoe", [0, 3])
    bob.context.close()  # Bob closes the tab
    pages.contexts.remove(bob.context)
    expect(alice.locator(tid("opponent-online"))).to_have_attribute("data-online", "false")
    resign(alice)  # Alice does not wait for him
    wait_status(alice, "finished")
    note = alice.locator(tid("rematch-note"))
    expect(note).to_have_text("Bob has left.")
    button = alice.locator(tid("rematch-button"))
    expect(button).to_have_attribute("aria-disabled", "true")
    button.click(force=True)
    expect(button).to_have_attribute("aria-pressed", "false")
    assert "rematch" not in types(alice_sent)  # nobody would ever answer it


# --- 6. an invite link asks a newcomer for a name ------------------------------------

def test_an_invite_link_asks_a_newcomer_for_a_name(pages: Pages) -> None:
    host = pages.open("Host")
    host.click(tid("create-room-button"))
    wait_status(host, "waiting")
    code = host.locator(tid("room-code")).inner_text().strip()
    guest, sent = open_recorded(pages, None, f"/?room={code}")
    dialog = guest.locator(tid("name-dialog"))
    expect(dialog).to_be_visible()
    field = guest.locator(tid("join-name-input"))
    expect(field).to_have_value(re.compile(r"^Guest"))  # prefilled with the server's name
    expect(field).to_be_focused()
    assert "join_room" not in types(sent)  # not before a name is chosen
    field.fill("Carol")
    guest.click(tid("join-name-confirm"))
    wait_status(guest, "active")
    wait_status(host, "active")
    expect(host.locator(tid("player-1"))).to_contain_text("Carol")
    expect(guest.locator(tid("name-input"))).to_be_hidden()  # on the match screen now
    assert guest.evaluate("() => localStorage.getItem('playroom.name')") == "Carol"
    assert "room=" not in guest.url


def test_an_invite_link_keeps_a_chosen_name(pages: Pages) -> None:
    host = pages.open("Host")
    host.click(tid("create-room-button"))
    wait_status(host, "waiting")
    code = host.locator(tid("room-code")).inner_text().strip()
    guest, _ = open_recorded(pages, "Dave", f"/?room={code}")
    wait_status(guest, "active")  # a person who has a name is not asked again
    expect(guest.locator(tid("name-dialog"))).to_be_hidden()
    expect(host.locator(tid("player-1"))).to_contain_text("Dave")


def test_not_now_keeps_the_code_for_later(pages: Pages) -> None:
    host = pages.open("Host")
    host.click(tid("create-room-button"))
    wait_status(host, "waiting")
    code = host.locator(tid("room-code")).inner_text().strip()
    guest, sent = open_recorded(pages, None, f"/?room={code}")
    expect(guest.locator(tid("name-dialog"))).to_be_visible()
    guest.click(tid("join-name-cancel"))
    expect(guest.locator(tid("name-dialog"))).to_be_hidden()
    expect(guest.locator(tid("room-code-input"))).to_have_value(code)
    assert "join_room" not in types(sent)
    assert "room=" not in guest.url


# --- renaming during a live match ------------------------------------------------------

def test_a_rename_during_a_live_match_is_said_and_used_next(pages: Pages) -> None:
    alice, sent = open_recorded(pages, "Alice")
    bob, _ = open_recorded(pages, "Bob")
    by_seat = quick_match(alice, bob, "tictactoe")
    match = match_attr(alice, "match-id")
    alice.click(tid("lobby-button"))
    alice.fill(tid("name-input"), "Alicia")
    alice.press(tid("name-input"), "Enter")
    expect(alice.locator(tid("toast"))).to_contain_text("from your next match")
    assert alice.evaluate("() => globalThis.__playroom.conn.name") == "Alice"
    seat = 0 if by_seat[0] is alice else 1
    expect(bob.locator(tid(f"player-{seat}"))).to_contain_text("Alice")
    alice.locator(f'{tid("my-match")}[data-match-id="{match}"] {tid("resume-button")}').click()
    resign(alice)
    wait_status(alice, "finished")
    alice.click(tid("lobby-button"))
    alice.click(tid("play-bot-button"))
    wait_status(alice, "active")
    expect(alice.locator(".player.is-you .name-text")).to_have_text("Alicia")
    assert [m.get("name") for m in sent if m.get("type") == "hello"][-1] == "Alicia"


# --- the live list shows a match once --------------------------------------------------

def test_a_match_listed_twice_is_shown_once(pages: Pages) -> None:
    alice, _ = open_recorded(pages, "Alice")
    bob, _ = open_recorded(pages, "Bob")
    quick_match(alice, bob, "tictactoe")
    match = match_attr(alice, "match-id")
    watcher, _ = open_recorded(pages, "Watcher")
    # other tests' matches may be live on this module's server too
    row = watcher.locator(f'{tid("live-match")}[data-match-id="{match}"]')
    expect(row).to_have_count(1)

    def twice(route: Route) -> None:
        # the same entry twice, as a list read while matches start and end may be;
        # "7 watching" tells when the page has drawn this answer
        answer = route.fetch().json()
        answer["matches"] = [{**m, "watchers": 7} for m in answer["matches"]] * 2
        route.fulfill(json=answer)

    watcher.route("**/api/matches*", twice)
    watcher.evaluate("() => globalThis.__playroom.ctx.lobbyActions.refreshLive()")
    expect(row.first).to_contain_text("7 watching")
    expect(row).to_have_count(1)
