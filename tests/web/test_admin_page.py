"""Issue 18: the admin page (client_web/admin.html) in Chromium against a real server
with an admin token, while two players of the Python test client play a match: the
page lists the match, ends it as adjudicated to seat 1 (the players and a browser
spectator see the result), kicks a connection (closed with 1008) and sends a notice."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from tests.support import Client, ServerProcess, connect, seated, start_server
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TIMEOUT_MS, Pages, shot, tid

TOKEN = "admin-" + secrets.token_urlsafe(24)
T = TypeVar("T")
REFUSED = "Failed to load resource"  # Chromium's console line for a 401 / 404 answer


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(Path(tmp_path_factory.mktemp("admin-page")), admin_token=TOKEN)
    yield proc
    proc.stop()


class Loop:
    """An asyncio loop in a thread, for the Python test clients: Playwright's sync API
    has the test's own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = contextlib.AsyncExitStack()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def client(self, server: ServerProcess, codec: str = "json") -> Client:
        return self.run(self.stack.enter_async_context(connect(server, codec)))

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    try:
        yield running
    finally:
        running.close()


class AdminPages:
    """Admin pages in fresh contexts; console errors other than refused requests and
    page errors fail the test."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.problems: list[str] = []
        self.contexts: list[Any] = []

    def open(self) -> Page:
        context = self.browser.new_context(**DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.goto(f"{self.base_url}/admin.html")
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and REFUSED not in message.text:
            self.problems.append(f"console error: {message.text}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@contextlib.contextmanager
def admin_pages(browser: Browser, server: ServerProcess) -> Iterator[AdminPages]:
    opened = AdminPages(browser, server.http)
    try:
        yield opened
        assert not opened.problems, "\n".join(opened.problems)
    finally:
        opened.close()


def sign_in(page: Page, token: str) -> None:
    page.fill(f"{tid('token-form')} {tid('token-input')}", token)
    page.click(tid("token-submit"))


def row(page: Page, match: str) -> Any:
    return page.locator(f'{tid("match-row")}[data-match-id="{match}"]')


def test_the_page_adjudicates_a_match_kicks_and_sends_a_notice(
        browser: Browser, admin: ServerProcess, loop: Loop) -> None:
    a, b = loop.client(admin), loop.client(admin, "msgpack")
    match, players = loop.run(seated(a, b, "tictactoe"))
    with admin_pages(browser, admin) as pages:
        page = pages.open()
        expect(page.locator(tid("admin-status"))).to_have_attribute("data-state", "signed-out")
        sign_in(page, TOKEN)
        expect(page.locator(tid("admin-status"))).to_have_attribute("data-state", "ok")
        listed = row(page, match)
        expect(listed).to_have_attribute("data-status", "active")
        for seat, client in players.items():
            assert client.player is not None
            expect(listed.locator("td").nth(3 + seat)).to_contain_text(
                "json" if client is a else "msgpack")
        # the token stays in this tab's sessionStorage, nowhere else
        kept = page.evaluate("() => [sessionStorage.getItem('playroom.admin.token'), "
                             "JSON.stringify(localStorage), document.cookie]")
        assert kept[0] == TOKEN and TOKEN not in kept[1] and TOKEN not in kept[2]

        watcher = Pages(browser, admin.http)  # the real client, watching in the browser
        try:
            spectator = watcher.open("Sam", path=f"/?watch={match}")
            expect(spectator.locator('[data-testid="match-screen"]')).to_have_attribute(
                "data-status", "active")

            listed.locator(tid("inspect-button")).click()
            detail = page.locator(tid("match-detail"))
            expect(detail).to_have_attribute("data-match-id", match)
            seat_items = detail.locator(f'{tid("detail-seats")} {tid("connection-item")}')
            expect(seat_items).to_have_count(2)
            expect(detail.locator(f'{tid("detail-watchers")} li')).to_contain_text("Sam")
            shot(page, "admin-inspect-desktop")
            page.select_option(tid("end-result"), "adjudicated:1")
            page.click(tid("end-button"))
            page.click(tid("end-confirm"))

            for client in players.values():
                view = loop.run(client.until_view(match, lambda v: v["status"] == "finished"))
                assert view["result"] == {"winner": 1, "reason": "adjudicated", "line": []}
            expect(page.locator(tid("admin-message"))).to_contain_text("ended (adjudicated)")
            expect(detail).to_have_attribute("data-status", "finished")
            expect(row(page, match)).to_have_count(0)  # no longer live
            banner = spectator.locator(tid("result-banner"))
            expect(banner).to_have_attribute("data-reason", "adjudicated")
            expect(banner).to_have_attribute("data-winner", "1")
            expect(banner).to_contain_text("operator decided")
            assert not watcher.problems, watcher.problems
        finally:
            watcher.close()

        kick = page.locator(f'{tid("connection-row")}[data-player="{a.player}"] '
                            f'{tid("kick-button")}')
        kick.click()
        loop.run(asyncio.wait_for(a.closed.wait(), 10))
        assert a.close_code == 1008
        expect(page.locator(f'{tid("connection-row")}[data-player="{a.player}"]')
               ).to_have_count(0)
        expect(page.locator(tid("admin-message"))).to_contain_text("closed with 1008")

        page.fill(tid("notice-input"), "Maintenance at 18:00 UTC")
        page.click(tid("notice-send"))
        notice = loop.run(b.expect("notice"))
        assert notice["message"] == "Maintenance at 18:00 UTC"
        assert notice["reason"] == "operator"
        expect(page.locator(tid("admin-message"))).to_contain_text("Notice sent to")

        page.reload()  # the tab keeps the token: still signed in
        expect(page.locator(tid("admin-status"))).to_have_attribute("data-state", "ok")
        page.click(tid("sign-out"))
        expect(page.locator(tid("token-form"))).to_be_visible()
        assert page.evaluate("() => sessionStorage.getItem('playroom.admin.token')") is None
    assert TOKEN not in admin.logs()


def test_a_wrong_token_is_refused_on_the_page(browser: Browser, admin: ServerProcess) -> None:
    with admin_pages(browser, admin) as pages:
        page = pages.open()
        sign_in(page, "not-the-token-" + secrets.token_hex(8))
        expect(page.locator(tid("admin-message"))).to_contain_text("refused that token")
        expect(page.locator(tid("token-form"))).to_be_visible()
        expect(page.locator(tid("admin-panels"))).to_be_hidden()
        assert page.evaluate("() => sessionStorage.getItem('playroom.admin.token')") is None


def test_the_page_says_when_the_admin_api_is_off(browser: Browser, tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        with admin_pages(browser, server) as pages:
            page = pages.open()
            sign_in(page, TOKEN)
            expect(page.locator(tid("admin-message"))).to_contain_text("admin API is off")
            expect(page.locator(tid("token-form"))).to_be_visible()
    finally:
        server.stop()
