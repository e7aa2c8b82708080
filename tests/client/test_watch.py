"""`game watch URL [MATCH]` (issue 17): a terminal spectator run as a subprocess (no
TTY, `--no-color`) against a real server, while SDK clients play: it lists the live
matches, draws the board after each move, and follows the next live match when the
one it watches ends."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

from game.client import Client
from game.rules import get_rules
from tests.support import ROOT, ServerProcess

C4_MOVES = [0, 1, 0, 1, 0, 1, 0]  # X: four in column 1
TTT_MOVES = [4, 0, 8, 2, 1, 7, 5, 3, 6]  # a full board, a draw
WAIT = 60.0


def grid(game: str, moves: list[int]) -> list[str]:
    """The board after `moves` as the command prints it: `| X O . |` per row."""
    rules = get_rules(game)
    board = rules.replay(moves).board()
    marks = {None: ".", 0: "X", 1: "O"}
    return ["| " + " ".join(marks[board[row * rules.cols + col]] for col in range(rules.cols))
            + " |" for row in range(rules.rows)]


class Watch:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def until(self, text: str) -> None:
        """Read lines until one contains `text`."""
        assert self.process.stdout is not None
        async with asyncio.timeout(WAIT):
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError(f"exited before {text!r}: {self.lines}")
                self.lines.append(raw.decode().rstrip("\n"))
                if text in self.lines[-1]:
                    return

    def boards(self) -> list[list[str]]:
        """Every grid printed, in order."""
        found: list[list[str]] = []
        current: list[str] = []
        for line in self.lines:
            if line.startswith("| "):
                current.append(line)
            elif current:
                found.append(current)
                current = []
        return found + ([current] if current else [])


@contextlib.asynccontextmanager
async def watching(server: ServerProcess, *args: str) -> AsyncIterator[Watch]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "game", "watch", server.ws, *args, "--no-color", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        yield Watch(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def room(a: Client, b: Client, game: str) -> str:
    opened = await a.create_room(game)
    await b.join_room(opened.code)
    await a.wait_view(opened.match, lambda v: v["status"] == "active", WAIT)
    return opened.match


async def play(players: dict[int, Client], match: str, moves: list[int]) -> None:
    for index, move in enumerate(moves):
        mover = players[index % 2]
        await mover.wait_view(match, lambda v: v["turn"] == v["you"], WAIT)
        await mover.move(match, move)


async def test_watch_draws_each_move_and_follows_the_next_match(server: ServerProcess) -> None:
    async with Client(server.ws, name="alice") as alice, Client(server.ws, name="bob") as bob:
        first = await room(alice, bob, "connect4")
        seats = {alice.view(first)["you"]: alice, bob.view(first)["you"]: bob}
        async with watching(server, "--max-matches", "2") as watch:
            await watch.until(f"watching {first}")
            assert any(first in line for line in watch.lines)  # the live list's table
            await play(seats, first, C4_MOVES)
            await watch.until(f"match {first} is over")
            await watch.until("waiting for a live match")
            second = await room(bob, alice, "tictactoe")
            await watch.until(f"watching {second}")
            seats = {alice.view(second)["you"]: alice, bob.view(second)["you"]: bob}
            await play(seats, second, TTT_MOVES)
            await watch.until(f"match {second} is over")
            assert await asyncio.wait_for(watch.process.wait(), WAIT) == 0  # two: done
    boards = watch.boards()
    c4 = [grid("connect4", C4_MOVES[:n]) for n in range(len(C4_MOVES) + 1)]
    ttt = [grid("tictactoe", TTT_MOVES[:n]) for n in range(len(TTT_MOVES) + 1)]
    # every position of both matches was drawn, in order (a patch may bring two moves)
    shown = [board for board in boards if board in c4 + ttt]
    assert shown == boards and shown[0] == c4[0] and shown[-1] == ttt[-1]
    assert c4[-1] in shown and shown.index(c4[-1]) < shown.index(ttt[0])
    assert [shown.index(b) for b in shown] == sorted(shown.index(b) for b in shown)
    text = "\n".join(watch.lines)
    assert "alice (X) wins by line" in text or "bob (X) wins by line" in text
    assert "over: a draw" in text
    assert "\x1b[" not in text  # --no-color: plain text


async def test_watch_a_given_match_once(server: ServerProcess) -> None:
    async with Client(server.ws, name="carol") as carol, Client(server.ws, name="dave") as dave:
        older = await room(carol, dave, "tictactoe")
        newer = await room(dave, carol, "tictactoe")
        seats = {carol.view(older)["you"]: carol, dave.view(older)["you"]: dave}
        async with watching(server, older, "--once") as watch:
            await watch.until(f"watching {older}")  # the one asked for, not the newest
            await play(seats, older, [0, 3, 1, 4, 2])
            await watch.until(f"match {older} is over")
            assert await asyncio.wait_for(watch.process.wait(), WAIT) == 0
        assert all(newer not in line for line in watch.lines if line.startswith("watching"))
        assert watch.boards()[-1] == grid("tictactoe", [0, 3, 1, 4, 2])
