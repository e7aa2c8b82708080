"""Helpers for the browser tests: pages that record console errors, and the moves of
a game played through the page (clicks, taps or the keyboard).

Everything waits on the page itself (`data-*` hooks of client_web/README.md): whose
turn it is comes from `data-turn` / `data-can-play`, never from counting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    expect,
)

from tests.support import ROOT

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 860}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
    "is_mobile": True, "has_touch": True,
    "user_agent": ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                   "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"),
}

Input = Literal["click", "tap", "keyboard"]

MATCH = '[data-testid="match-screen"]'
BOARD = "#board-container"
FILLED = '#board-container [data-cell]:not([data-value=""])'


def tid(name: str) -> str:
    return f'[data-testid="{name}"]'


@dataclass
class Pages:
    """Opens fresh browser contexts (one per person) and collects what goes wrong."""

    browser: Browser
    base_url: str
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def open(self, name: str, *, phone: bool = False, width: int | None = None,
             path: str = "/") -> Page:
        """A new person's page at `path`, connected. `width` narrows the viewport."""
        options = PHONE if phone else DESKTOP
        if width is not None:
            options = {**options, "viewport": {**options["viewport"], "width": width}}
        context = self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        # The name a person would type once; the page keeps it in localStorage.
        context.add_init_script(
            "try { if (location.origin !== 'null' && !localStorage.getItem('playroom.name'))"
            f" localStorage.setItem('playroom.name', {json.dumps(name)}); }} catch (e) {{}}"
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self._console(name, message))
        page.on("pageerror", lambda error: self._page_error(name, error))
        page.goto(self.base_url + path)
        expect(page.locator(tid("connection-status"))).to_have_attribute("data-state", "ready")
        return page

    def _console(self, who: str, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" and "favicon" not in text:
            self.problems.append(f"{who}: console error: {text} ({message.location})")
        elif message.type == "warning" and "hash" in text:  # client and server disagree
            self.problems.append(f"{who}: console warning: {text}")

    def _page_error(self, who: str, error: Error) -> None:
        self.problems.append(f"{who}: page error: {error.name}: {error.message}\n{error.stack}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def reload(page: Page) -> None:
    """Reload and wait until the page is connected again."""
    page.reload()
    expect(page.locator(tid("connection-status"))).to_have_attribute("data-state", "ready")


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot into test-artifacts/screenshots/ (animations finished)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


# --- the match screen ---------------------------------------------------------------

def match_attr(page: Page, name: str) -> str:
    return page.locator(MATCH).get_attribute(f"data-{name}") or ""


def match_id(page: Page) -> str:
    return match_attr(page, "match-id")


def version(page: Page) -> int:
    return int(match_attr(page, "version"))


def wait_status(page: Page, status: str, timeout: float = TIMEOUT_MS) -> None:
    screen = page.locator(MATCH)
    expect(screen).to_be_visible(timeout=timeout)
    expect(screen).to_have_attribute("data-status", status, timeout=timeout)


def board(page: Page) -> list[str]:
    """The board as the page shows it: `data-value` of every cell, by cell number."""
    values: list[str] = page.eval_on_selector_all(
        "#board-container [data-cell]",
        "cells => cells.sort((a, b) => a.dataset.cell - b.dataset.cell)"
        ".map((c) => c.dataset.value)",
    )
    return values


def wait_filled(page: Page, count: int) -> None:
    """Until the page shows at least `count` stones or marks."""
    page.wait_for_function(
        "n => document.querySelectorAll('#board-container [data-cell]:not([data-value=\"\"])')"
        ".length >= n",
        arg=count, timeout=TIMEOUT_MS,
    )


def seats(pages: Iterable[Page]) -> dict[int, Page]:
    """The players' pages by seat, as each page says (`data-you`)."""
    by_seat = {int(match_attr(page, "you")): page for page in pages}
    assert set(by_seat) == {0, 1}, by_seat
    return by_seat


def target(page: Page, game: str, move: int) -> str:
    return f'{BOARD} [data-col="{move}"]' if game == "connect4" else f'{BOARD} [data-cell="{move}"]'


def keyboard_move(page: Page, game: str, move: int, key: str) -> None:
    """Walk the focus to `move` with the arrow keys, then press `key` (Enter / Space)."""
    attr = "col" if game == "connect4" else "cell"
    focused = page.evaluate(f"() => document.activeElement?.dataset?.{attr} ?? null")
    if focused is None:  # focus is elsewhere: put it on the board's tabbable cell
        page.focus(f'{BOARD} [data-{attr}][tabindex="0"]')
        focused = page.evaluate(f"() => document.activeElement.dataset.{attr}")
    at = int(focused)
    if game == "connect4":
        steps = ["ArrowRight"] * ((move - at) % 7)
    else:
        steps = ["ArrowRight"] * ((move % 3 - at % 3) % 3) + ["ArrowDown"] * (
            (move // 3 - at // 3) % 3)
    for step in steps:
        page.keyboard.press(step)
    expect(page.locator(f"{BOARD} [data-{attr}='{move}']")).to_be_focused()
    page.keyboard.press(key)


def play(by_seat: dict[int, Page], game: str, moves: list[int], *, how: Input = "click",
         watchers: Iterable[Page] = ()) -> None:
    """Play `moves` in order, each by the page whose turn it is, through the board.

    After each move, waits until every page (players and watchers) shows it.
    """
    everyone = [*by_seat.values(), *watchers]
    start = len(by_seat[0].locator(FILLED).all())
    for index, move in enumerate(moves):
        turn = match_attr(by_seat[0], "turn")
        assert turn in ("0", "1"), f"no one to move before move {index}: {turn!r}"
        mover = by_seat[int(turn)]
        assert match_attr(by_seat[1], "turn") == turn, "the two players disagree on the turn"
        expect(mover.locator(BOARD)).to_have_attribute("data-can-play", "true")
        cell = mover.locator(target(mover, game, move))
        expect(cell).to_have_attribute("aria-disabled", "false")
        if how == "click":
            cell.click()
        elif how == "tap":
            cell.tap()
        elif game == "connect4" and index % 2 == 1:
            # Number keys drop straight into a column (1 is the leftmost).
            mover.focus(f'{BOARD} [data-col][tabindex="0"]')
            mover.keyboard.press(str(move + 1))
        else:
            keyboard_move(mover, game, move, "Enter" if index % 2 == 0 else "Space")
        for page in everyone:
            wait_filled(page, start + index + 1)


def resign(page: Page) -> None:
    """Resign the match on screen through the confirmation dialog."""
    page.click(tid("resign-button"))
    expect(page.locator(tid("resign-dialog"))).to_be_visible()
    page.click(tid("resign-confirm"))


def my_match(page: Page, match: str) -> Locator:
    """The row of `match` under "Your matches" in the lobby."""
    return page.locator(f'{tid("my-match")}[data-match-id="{match}"]')


def expect_result(page: Page, outcome: str, title: str | re.Pattern[str],
                  line: Iterable[int] = ()) -> None:
    """The result banner and the highlighted winning line."""
    banner = page.locator(tid("result-banner"))
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-outcome", outcome)
    expect(banner.locator(".result-title")).to_have_text(title)
    wanted = sorted(line)
    game = match_attr(page, "game")
    selector = ".c4-slot:has(.stone.win)" if game == "connect4" else ".ttt-cell.win"
    lit = page.eval_on_selector_all(
        f"{BOARD} {selector}", "els => els.map((e) => Number(e.dataset.cell))")
    assert sorted(lit) == wanted, f"highlighted {lit}, winning line {wanted}"
    if game == "tictactoe" and wanted:
        expect(page.locator(f"{BOARD} svg.strike line")).to_have_count(1)
