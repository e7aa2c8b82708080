"""`game watch URL [MATCH]`: a spectator in the terminal.

    game watch ws://127.0.0.1:8000/ws              # the newest live match, then the next
    game watch ws://127.0.0.1:8000/ws MATCH-ID     # that match, then the next live one
    game watch ws://127.0.0.1:8000/ws --once       # one match, then exit

It lists the live matches (`GET /api/matches`), watches one through the SDK (a
:class:`game.client.Client` that says `watch`), draws the board as a grid of the
game's rows and columns (`GET /api/games`) after every move, and when the match ends
follows the newest live match it has not watched yet, waiting for one if there is
none. On a terminal the board is redrawn in place; otherwise (a pipe, `--no-color`)
every position is printed in turn, as plain text.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from game.client.api import get_json, http_base
from game.client.client import Client
from game.client.errors import ClientClosed, ServerError
from game.client.events import View

MARKS = ("X", "O")
STYLES = ("bold red", "bold yellow")
POLL_SECONDS = 1.0
"""How often the live list is read while no match is left to follow (HTTP has no push)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the server's WebSocket endpoint, e.g. ws://127.0.0.1:8000/ws")
    parser.add_argument("match", nargs="?", help="the match to watch first (default: the "
                        "newest live one)")
    parser.add_argument("--game", help="follow only matches of this game")
    parser.add_argument("--max-matches", type=int, default=None, metavar="N",
                        help="exit after N matches were watched to their end")
    parser.add_argument("--once", action="store_true", help="the same as --max-matches 1")
    parser.add_argument("--no-color", action="store_true", help="plain text, no colours")
    parser.add_argument("--codec", choices=("json", "msgpack"), default="json")
    parser.add_argument("--name", default="Spectator", help="the name said in hello")


@dataclass(frozen=True, slots=True)
class Shape:
    title: str
    rows: int
    cols: int


def _label(player: dict[str, Any] | None, seat: int) -> str:
    if not player or not player.get("name"):
        return f"{MARKS[seat]} (nobody)"
    bot = " [bot]" if player.get("bot") or player.get("program") else ""
    return f"{MARKS[seat]} {player['name']}{bot}"


def status_text(view: View) -> str:
    """One line: whose turn, or how it ended."""
    players = view.get("players") or [{}, {}]
    name = [(p or {}).get("name") or MARKS[seat] for seat, p in enumerate(players)]
    if view["status"] == "waiting":
        return "waiting for a second player"
    result = view.get("result")
    if view["status"] == "active" or result is None:
        turn = view.get("turn")
        return "" if turn is None else f"{name[turn]} ({MARKS[turn]}) to move"
    winner, reason = result.get("winner"), result.get("reason")
    score = result.get("score")
    counts = f" {score[0]}-{score[1]}" if score else ""
    if reason == "aborted":
        return "over: aborted"
    if winner is None:
        return f"over: a draw{counts}"
    return f"over: {name[winner]} ({MARKS[winner]}) wins by {reason}{counts}"


def board_text(board: list[int | None], shape: Shape, line: set[int], color: bool) -> Text:
    """The grid, row 0 on top: `| X O . |` per row, the winning line emphasised."""
    text = Text()
    for row in range(shape.rows):
        text.append("|")
        for col in range(shape.cols):
            cell = row * shape.cols + col
            value = board[cell] if cell < len(board) else None
            mark = "." if value is None else MARKS[value]
            style = ""
            if color and value is not None:
                style = STYLES[value] + (" reverse" if cell in line else "")
            text.append(" ")
            text.append(mark, style=style)
        text.append(" |\n")
    text.rstrip()
    return text


def frame(match: str, version: int, view: View, shape: Shape, color: bool) -> RenderableType:
    players = view.get("players") or [None, None]
    moves = len(view.get("moves") or [])
    head = Text(f"{shape.title} · match {match} · move {moves} · version {version}",
                style="bold" if color else "")
    vs = Text(f"{_label(players[0], 0)}  vs  {_label(players[1], 1)}")
    line = set((view.get("result") or {}).get("line") or [])
    board = board_text(view.get("board") or [], shape, line, color)
    return Group(head, vs, board, Text(status_text(view)))


def live_table(matches: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(matches)} live match{'es' if len(matches) != 1 else ''}")
    for column in ("match", "game", "players", "moves", "watchers"):
        table.add_column(column)
    for entry in matches:
        players = [(p or {}).get("name", "") for p in entry.get("players", [])]
        table.add_row(entry["match"], entry["game"], " vs ".join(players),
                      str(entry.get("moves", 0)), str(entry.get("watchers", 0)))
    return table


class Watcher:
    def __init__(self, url: str, console: Console, *, game: str | None = None,
                 max_matches: int | None = None, color: bool = True, name: str = "Spectator",
                 codec: str = "json") -> None:
        self.url, self.base, self.console = url, http_base(url), console
        self.game, self.max_matches, self.color = game, max_matches, color
        self.client = Client(url, name=name, codec="msgpack" if codec == "msgpack" else "json")
        self.shapes: dict[str, Shape] = {}
        self.watched: list[str] = []

    def say(self, renderable: RenderableType) -> None:
        self.console.print(renderable)
        self.console.file.flush()  # a pipe is block-buffered: whoever reads waits otherwise

    async def run(self, first: str | None) -> None:
        games = await get_json(f"{self.base}/api/games")
        self.shapes = {g["id"]: Shape(g.get("title", g["id"]), int(g["rows"]), int(g["cols"]))
                       for g in games["games"]}
        live = await self._live()
        self.say(live_table(live))
        await self.client.connect()
        try:
            match = first
            while self.max_matches is None or len(self.watched) < self.max_matches:
                if match is None:
                    match = await self._next()
                await self.follow(match)
                self.watched.append(match)
                match = None
        finally:
            await self.client.close()

    async def _live(self) -> list[dict[str, Any]]:
        data = await get_json(f"{self.base}/api/matches")
        matches: list[dict[str, Any]] = data.get("matches", [])
        return [m for m in matches if self.game is None or m.get("game") == self.game]

    async def _next(self) -> str:
        """The newest live match not watched yet, once there is one."""
        waiting = False
        while True:
            fresh = [str(m["match"]) for m in await self._live()
                     if m["match"] not in self.watched]
            if fresh:
                return fresh[0]
            if not waiting:
                self.say(Text("waiting for a live match…"))
                waiting = True
            await asyncio.sleep(POLL_SECONDS)

    async def follow(self, match: str) -> None:
        """Watch `match` and draw each new version until it is over."""
        view = await self.client.watch(match)
        shape = self.shapes.get(view["game"]) or Shape(view["game"], 1, len(view["board"]))
        self.say(Text(f"watching {match} ({shape.title})"))
        with Live(console=self.console, auto_refresh=False) if self.console.is_terminal \
                else contextlib.nullcontext() as live:
            shown = -1
            while True:
                state = self.client.matches[match]
                if state.version != shown:
                    shown = state.version
                    drawn = frame(match, shown, state.view, shape, self.color)
                    if live is not None:
                        live.update(drawn, refresh=True)
                    else:
                        self.say(drawn)
                if state.view["status"] == "finished":
                    break
                await self.client.wait_until(self._newer(match, shown))
        self.say(Text(f"match {match} is over"))
        with contextlib.suppress(ServerError, ClientClosed, ConnectionError):
            await self.client.unwatch(match)
        self.client.forget(match)

    def _newer(self, match: str, shown: int) -> Callable[[], bool]:
        def newer() -> bool:
            state = self.client.matches[match]
            return state.in_sync and state.version != shown

        return newer


def run(args: argparse.Namespace) -> int:
    color = not args.no_color
    console = Console(highlight=False, soft_wrap=True, no_color=not color)
    limit = 1 if args.once else args.max_matches
    if limit is not None and limit < 1:
        console.print("error: --max-matches must be at least 1")
        return 2
    watcher = Watcher(args.url, console, game=args.game, max_matches=limit, color=color,
                      name=args.name, codec=args.codec)
    try:
        asyncio.run(watcher.run(args.match))
    except KeyboardInterrupt:
        return 130
    except ServerError as exc:
        console.print(f"error: {exc}")
        return 1
    except (OSError, ClientClosed, TimeoutError) as exc:
        console.print(f"error: {type(exc).__name__}: {exc}")
        return 1
    return 0
