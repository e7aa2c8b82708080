"""Issue 19: Othello in the browser, and the generic grid board, against a real server
in Chromium.

Othello by mouse, keyboard and touch between two people (the legal squares marked on
the mover's page only, a pass shown and announced), and against the random bot to the
end; a game whose renderer module is missing is drawn and played on the generic grid.
Every test fails if a page logs a console error or throws (the `pages` fixture), but
for the 404 of a renderer module a test removes on purpose.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from game.games.othello import OTHELLO
from game.rules import get_rules
from tests.web.browser import (
    BOARD,
    MATCH,
    TIMEOUT_MS,
    Pages,
    board,
    match_attr,
    play,
    shot,
    tid,
    wait_filled,
    wait_status,
)
from tests.web.test_client import C4_WIN, TTT_WIN, browser, pages, playwright, quick_match

__all__ = ["browser", "pages", "playwright"]  # fixtures, used by name

# Eight moves after which black (seat 0) has no legal move: white moves again.
PASS_GAME = [19, 18, 17, 9, 37, 16, 0, 2]
PLAYABLE = f"{BOARD} .oth-cell.playable"


def marked(page: Page) -> list[int]:
    """The squares the page marks as playable."""
    cells: list[int] = page.eval_on_selector_all(
        PLAYABLE, "els => els.map((e) => Number(e.dataset.cell)).sort((a, b) => a - b)")
    return cells


def shown(page: Page) -> list[int | None]:
    """The board as the page shows it, as the rules write it."""
    return [None if v == "" else int(v) for v in board(page)]


def wait_board(page: Page, cells: list[int | None]) -> None:
    """Until the page shows exactly `cells` (every flip included)."""
    wanted = ["" if v is None else str(v) for v in cells]
    page.wait_for_function(
        "want => { const cells = [...document.querySelectorAll('#board-container [data-cell]')];"
        " cells.sort((a, b) => a.dataset.cell - b.dataset.cell);"
        " return cells.length === want.length"
        " && cells.every((c, i) => c.dataset.value === want[i]); }",
        arg=wanted, timeout=TIMEOUT_MS)


def counts(page: Page) -> tuple[int, int]:
    """The disc counts above the board."""
    values = [page.locator(tid(f"disc-count-{seat}")).get_attribute("data-count")
              for seat in (0, 1)]
    return int(values[0] or -1), int(values[1] or -1)


def keyboard_to(page: Page, cell: int) -> None:
    """Walk the focus to `cell` with the arrow keys (rows and columns wrap), press Enter."""
    focused = page.evaluate("() => document.activeElement?.dataset?.cell ?? null")
    if focused is None:
        page.focus(f'{BOARD} [data-cell][tabindex="0"]')
        focused = page.evaluate("() => document.activeElement.dataset.cell")
    at = int(focused)
    steps = ["ArrowRight"] * ((cell % 8 - at % 8) % 8) + ["ArrowDown"] * ((cell // 8 - at // 8) % 8)
    for key in steps:
        page.keyboard.press(key)
    expect(page.locator(f'{BOARD} [data-cell="{cell}"]')).to_be_focused()
    page.keyboard.press("Enter")


def allow_missing_module(pages: Pages, module: str) -> None:
    """Forget the console errors of the 404 a test made for `module` on purpose."""
    pages.problems[:] = [p for p in pages.problems if module not in p]


# --- two people: mouse, keyboard, touch, and a pass -------------------------------------

def test_othello_by_mouse_keyboard_and_touch_with_a_pass(pages: Pages) -> None:
    desk = pages.open("Desk")
    phone = pages.open("Phone", phone=True)
    by_seat = quick_match(desk, phone, "othello")
    names = {seat: "Desk" if page is desk else "Phone" for seat, page in by_seat.items()}
    expect(desk.locator(f"{BOARD} .oth")).to_be_visible()
    assert counts(desk) == (2, 2)
    desk_moves = 0
    for index, move in enumerate(PASS_GAME):
        before = OTHELLO.replay(PASS_GAME[:index])
        mover = by_seat[index % 2]  # no pass before the last move
        other = by_seat[1 - index % 2]
        # the legal squares are marked for the side to move, and only on its page
        expect(mover.locator(BOARD)).to_have_attribute("data-can-play", "true")
        expect(mover.locator(PLAYABLE)).to_have_count(len(before.legal_moves()))
        assert marked(mover) == sorted(before.legal_moves())
        expect(other.locator(PLAYABLE)).to_have_count(0)
        target = mover.locator(f'{BOARD} [data-cell="{move}"]')
        expect(target).to_have_attribute("aria-disabled", "false")
        if mover is phone:
            target.tap()
        elif desk_moves % 2 == 0:
            keyboard_to(desk, move)
            desk_moves += 1
        else:
            target.click()
            desk_moves += 1
        after = OTHELLO.replay(PASS_GAME[: index + 1])
        for page in (desk, phone):
            wait_board(page, after.board())
            last = page.locator(f"{BOARD} .oth-cell.last")
            expect(last).to_have_attribute("data-cell", str(move))
            assert counts(page) == after.disc_counts()
    assert desk_moves == 4

    # Black was passed over: white moves again, and both pages say so.
    black, white = by_seat[0], by_seat[1]
    for page in (black, white):
        expect(page.locator(MATCH)).to_have_attribute("data-turn", "1")
        expect(page.locator(tid("pass-note"))).to_be_visible()
    expect(black.locator(tid("pass-note"))).to_contain_text("You")
    expect(white.locator(tid("pass-note"))).to_contain_text(names[0])
    note = black.locator(tid("pass-note")).inner_text()
    expect(black.locator(tid("announcer"))).to_contain_text(note)
    after = OTHELLO.replay(PASS_GAME)
    expect(black.locator(PLAYABLE)).to_have_count(0)
    expect(white.locator(PLAYABLE)).to_have_count(len(after.legal_moves()))
    assert marked(white) == sorted(after.legal_moves())
    shot(white, "othello-pass-desktop" if white is desk else "othello-pass-phone")


# --- against the random bot, by mouse, to the end ---------------------------------------

def test_othello_against_the_random_bot_to_the_end(pages: Pages) -> None:
    page = pages.open("Solo")
    page.select_option(tid("game-select"), "othello")
    page.select_option(tid("bot-level-select"), "random")
    page.click(tid("play-bot-button"))
    wait_status(page, "active")
    expect(page.locator(MATCH)).to_have_attribute("data-game", "othello")
    you = int(match_attr(page, "you"))
    container = page.locator(BOARD)
    for _ in range(64):
        # Either the game is over, or it is our turn again (the bot may have moved
        # several times in a row while we were passed over).
        page.wait_for_function(
            "() => { const m = document.querySelector('[data-testid=\"match-screen\"]');"
            " return m.dataset.status === 'finished' ||"
            " document.getElementById('board-container').dataset.canPlay === 'true'; }",
            timeout=TIMEOUT_MS * 3)
        if match_attr(page, "status") == "finished":
            break
        filled = len(page.locator('#board-container [data-cell]:not([data-value=""])').all())
        container.locator('[data-cell][aria-disabled="false"]').first.click()
        wait_filled(page, filled + 1)
    wait_status(page, "finished")
    expect(page.locator(PLAYABLE)).to_have_count(0)

    result = page.evaluate(
        "() => { const p = globalThis.__playroom;"
        " return p.store.get(p.app.current.match).view.result; }")
    assert result["reason"] == "score"
    score = result["score"]
    cells = shown(page)
    assert score == [cells.count(0), cells.count(1)]
    assert list(counts(page)) == score
    banner = page.locator(tid("result-banner"))
    expect(banner).to_have_attribute("data-reason", "score")
    mine, theirs = score[you], score[1 - you]
    outcome = "win" if mine > theirs else "loss" if mine < theirs else "draw"
    expect(banner).to_have_attribute("data-outcome", outcome)
    # the result says both disc counts
    detail = banner.locator(".result-detail")
    expect(detail).to_contain_text(str(max(score)))
    expect(detail).to_contain_text(str(min(score)))
    shot(page, "othello-finished-desktop")


# --- a game with no renderer of its own gets the grid -----------------------------------

@pytest.mark.parametrize(("game", "moves"), [("tictactoe", TTT_WIN), ("connect4", C4_WIN)])
def test_a_game_without_its_renderer_module_is_played_on_the_grid(
        pages: Pages, game: str, moves: list[int]) -> None:
    module = f"js/games/{game}.js"
    a = pages.open("Grid A")
    b = pages.open("Grid B")

    def missing(route: Route) -> None:
        route.fulfill(status=404, body="no renderer here")

    for page in (a, b):
        # renderers load on first use: from now on this game has none
        page.route(f"**/{module}", missing)
    by_seat = quick_match(a, b, game)
    for page in (a, b):
        expect(page.locator(f"{BOARD} .board.grid")).to_be_visible()
        expect(page.locator(f"{BOARD} .ttt, {BOARD} .c4")).to_have_count(0)
    if game == "tictactoe":
        # a cell game: one button per cell; the first moves by click, the rest by keyboard
        expect(a.locator(f"{BOARD} button[data-cell]")).to_have_count(9)
        play(by_seat, game, moves[:2])
        play(by_seat, game, moves[2:], how="keyboard")
    else:
        # a column game: one button per column, a click anywhere in it plays it
        expect(a.locator(f"{BOARD} button[data-col]")).to_have_count(7)
        expect(a.locator(f"{BOARD} [data-cell]")).to_have_count(42)
        play(by_seat, game, moves)
    for page in (a, b):
        wait_status(page, "finished")
    assert board(a) == board(b)
    outcome = get_rules(game).replay(moves).outcome
    assert outcome is not None
    lit = a.eval_on_selector_all(
        f"{BOARD} .grid-cell.win",
        "els => els.map((e) => Number(e.dataset.cell)).sort((x, y) => x - y)")
    assert lit == sorted(outcome.line)
    expect(by_seat[0].locator(tid("result-banner"))).to_have_attribute("data-outcome", "win")
    shot(by_seat[0], f"grid-{game}-finished")
    allow_missing_module(pages, module)


def test_every_game_with_a_board_is_offered_and_listed(pages: Pages) -> None:
    """The lobby offers what /api/games serves (the page has no list of its own), but
    not a game it could not draw: one without a rectangular board."""
    page = pages.open("Lobby")

    def with_cards(route: Route) -> None:
        answer = route.fetch().json()
        answer["games"].append({"id": "cards", "title": "Cards", "rows": 0, "cols": 0,
                                "bot_levels": []})
        route.fulfill(json=answer)

    page.route("**/api/games", with_cards)
    page.reload()
    expect(page.locator(tid("connection-status"))).to_have_attribute("data-state", "ready")
    served = page.evaluate("() => fetch('/api/games').then((r) => r.json())")
    ids = [g["id"] for g in served["games"]]
    assert "othello" in ids and "cards" in ids
    options = page.locator(f'{tid("game-select")} option')
    expect(options).to_have_count(len(ids) - 1)
    assert options.evaluate_all("(nodes) => nodes.map((n) => n.value)") == [
        i for i in ids if i != "cards"]
    othello = served["games"][ids.index("othello")]
    expect(page.locator(f'{tid("game-select")} option[value="othello"]')).to_have_text(
        othello["title"])

    def live(route: Route) -> None:
        answer = route.fetch().json()
        answer["matches"] = [
            {"match": f"{game}-1", "id": f"{game}-1", "game": game, "status": "active",
             "players": [{"name": "A", "bot": False}, {"name": "B", "bot": False}],
             "moves": 3, "watchers": 9, "started_at": 1} for game in ("othello", "cards")]
        route.fulfill(json=answer)

    page.route("**/api/matches*", live)
    page.evaluate("() => globalThis.__playroom.ctx.lobbyActions.refreshLive()")
    expect(page.locator(f'{tid("live-match")}[data-match-id="othello-1"]')).to_have_count(1)
    expect(page.locator(f'{tid("live-match")}[data-match-id="cards-1"]')).to_have_count(0)
    expect(page.locator(f'{tid("live-match")}[data-match-id="othello-1"]')).to_contain_text(
        re.compile(re.escape(othello["title"])))
