"""Issue 17: the profile page (`/?player=ID`) and the leaderboard page
(`/?leaderboard=GAME`) in Chromium against a real server whose players and bot
programs played rated games; the lobby links to both; a bot program is shown as a
bot in the match screen and the live list. Names are text in their own isolate, never
markup.

Every test fails if a page logs a console error or throws (the `pages` fixture).
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support import Client, ServerProcess, play_out
from tests.web.browser import MATCH, Pages, match_attr, shot, tid, wait_status
from tests.web.test_admin_page import Loop, loop
from tests.web.test_client import browser, pages, playwright
from tests.web.test_replay import open_page
from tests.web.test_rough_edges import isolated

__all__ = ["browser", "loop", "pages", "playwright"]  # fixtures, used by name

MARKUP = "<b>Bold</b> & <i>co"  # a free-text name that would be markup in innerHTML
X_WINS = [0, 3, 1, 4, 2]


def rated_game(loop: Loop, server: ServerProcess, names: tuple[str, str],
               bot: bool) -> tuple[str, dict[str, str]]:
    """Two players (bot programs with `bot`) meet in the quick-match queue and seat 0
    wins: the match, and the winner's then the loser's name by player id."""
    a, b = loop.client(server), loop.client(server)

    async def go() -> tuple[str, dict[str, str]]:
        for client, name in ((a, names[0]), (b, names[1])):
            welcome = await client.request({"type": "hello", "name": name, "bot": bot})
            client.player = welcome["player"]
        await a.request({"type": "queue", "game": "tictactoe"})
        await b.request({"type": "queue", "game": "tictactoe"})
        snapshot = await a.expect("snapshot")
        match: str = snapshot["match"]
        await b.until_view(match, lambda v: v["status"] == "active")
        seats: dict[int, Client] = {a.views[match]["you"]: a, b.views[match]["you"]: b}
        await play_out(seats, match, X_WINS)
        await a.until_view(match, lambda v: v["status"] == "finished")
        players = a.views[match]["players"]
        return match, {str(seats[seat].player): players[seat]["name"] for seat in (0, 1)}

    return loop.run(go())


def api(server: ServerProcess, path: str, **params: Any) -> Any:
    return httpx.get(f"{server.http}{path}", params=params, timeout=10).json()


def row(page: Page, player: str) -> Any:
    return page.locator(f'{tid("leaderboard-row")}[data-player="{player}"]')


def test_leaderboard_and_profiles_of_people_and_bots(pages: Pages, loop: Loop,
                                                     server: ServerProcess) -> None:
    match, people_ids = rated_game(loop, server, (MARKUP, "Ann"), bot=False)
    _, bot_ids = rated_game(loop, server, ("robo-1", "robo-2"), bot=True)
    winner, loser = people_ids
    bot_winner, bot_loser = bot_ids
    name_of = {**people_ids, **bot_ids}
    page = open_page(pages, "/?leaderboard=tictactoe")
    # everyone has played one game: provisional, listed apart, in their own pool
    people, bots = page.locator(tid("pool-human")), page.locator(tid("pool-bot"))
    expect(people.locator(tid("provisional-human")).locator(tid("leaderboard-row"))).to_have_count(2)
    expect(bots.locator(tid("provisional-bot")).locator(tid("leaderboard-row"))).to_have_count(2)
    for player in (winner, loser):
        expect(people.locator(f'[data-player="{player}"]')).to_have_count(1)
    for player in (bot_winner, bot_loser):
        expect(row(page, player).locator(".bot-tag")).to_have_count(1)
    expect(row(page, winner).locator(".bot-tag")).to_have_count(0)
    board = api(server, "/api/leaderboard", game="tictactoe")
    [top] = [e for e in board["provisional"] if e["player"] == winner]
    expect(row(page, winner).locator(tid("rating"))).to_have_text(str(round(top["rating"])))
    # the name is text, isolated: no element made of it
    marked = next(player for player, name in people_ids.items() if name == MARKUP)
    expect(row(page, marked).locator("bdi")).to_have_text(MARKUP)
    assert page.locator(f"{tid('leaderboard-page')} b, {tid('leaderboard-page')} i").count() == 0
    found = isolated(page, '[data-testid="pool-human"]', MARKUP)
    assert found and all(found), found
    shot(page, "leaderboard-desktop")

    # a name leads to the profile: name, ratings, recent games with a replay link
    row(page, winner).locator("a.player-link").click()
    profile = page.locator(tid("profile-page"))
    expect(profile).to_have_attribute("data-ready", "true")
    expect(profile).to_have_attribute("data-player", winner)
    expect(profile.locator("h1 bdi")).to_have_text(name_of[winner])
    expect(profile.locator("h1 .bot-tag")).to_have_count(0)
    rating = profile.locator(f'{tid("rating-row")}[data-game="tictactoe"]')
    expect(rating.locator(tid("rating"))).to_have_text(str(round(top["rating"])))
    expect(rating).to_contain_text("provisional")
    game = profile.locator(f'{tid("recent-game")}[data-match-id="{match}"]')
    expect(game).to_have_attribute("data-outcome", "won")
    expect(game).to_contain_text(name_of[loser])
    shot(page, "profile-desktop")
    game.locator(tid("replay-link")).click()
    expect(page.locator(tid("replay-page"))).to_have_attribute("data-match-id", match)

    # a bot program's profile says it is one
    robot = open_page(pages, f"/?player={bot_winner}")
    expect(robot.locator(f'{tid("profile-page")} h1 .bot-tag')).to_have_count(1)
    expect(robot.locator(tid("profile-page"))).to_contain_text("A bot program")


def test_the_lobby_links_to_the_leaderboard_and_the_players_profile(pages: Pages) -> None:
    alice = pages.open("Alice")
    alice.select_option(tid("game-select"), "connect4")
    me = alice.evaluate("() => globalThis.__playroom.conn.player")
    mine = alice.locator(tid("profile-link"))
    expect(mine).to_be_visible()
    mine.click()
    expect(alice.locator(tid("profile-page"))).to_have_attribute("data-player", me)
    expect(alice.locator(tid("profile-page"))).to_contain_text("No rated games yet")
    alice.locator(tid("page-lobby-link")).click()
    expect(alice.locator(tid("connection-status"))).to_have_attribute("data-state", "ready")
    alice.select_option(tid("game-select"), "connect4")
    alice.locator(tid("leaderboard-link")).click()
    board = alice.locator(tid("leaderboard-page"))
    expect(board).to_have_attribute("data-game", "connect4")
    expect(board.locator(tid("pool-human"))).to_be_visible()
    expect(board.locator(tid("pool-bot"))).to_be_visible()


def test_unknown_players_and_games_are_said_in_words(pages: Pages) -> None:
    page = open_page(pages, "/?player=nosuchplayer")
    expect(page.locator(tid("page-problem"))).to_have_text("There is no such player.")
    # Chromium logs the 404 it was answered: the one this test asked for is expected
    pages.problems[:] = [p for p in pages.problems if "nosuchplayer" not in p]
    page = open_page(pages, "/?leaderboard=chess")
    expect(page.locator(tid("page-problem"))).to_have_text("This server has no such game.")


def test_a_bot_program_is_shown_as_a_bot_in_the_match_and_the_live_list(
        pages: Pages, loop: Loop, server: ServerProcess) -> None:
    human = pages.open("Human")
    human.select_option(tid("game-select"), "tictactoe")
    human.click(tid("create-room-button"))
    wait_status(human, "waiting")
    code = human.locator(tid("room-code")).inner_text()
    robot = loop.client(server)

    async def join() -> None:
        await robot.request({"type": "hello", "name": "robo-player", "bot": True})
        await robot.request({"type": "join_room", "code": code})

    loop.run(join())
    wait_status(human, "active")
    seat = 1 - int(match_attr(human, "you"))
    card = human.locator(f'{MATCH} .player[data-seat="{seat}"]')
    expect(card.locator(".bot-tag")).to_have_count(1)
    assert ", bot" in (card.get_attribute("aria-label") or "")
    expect(card).to_have_attribute("data-bot", "false")  # not the server's own bot
    expect(human.locator(f'{MATCH} .player[data-seat="{1 - seat}"] .bot-tag')).to_have_count(0)
    watcher = pages.open("Watcher")
    match = match_attr(human, "match-id")
    listed = watcher.locator(f'{tid("live-match")}[data-match-id="{match}"]')
    expect(listed).to_contain_text("robo-player (bot)")
