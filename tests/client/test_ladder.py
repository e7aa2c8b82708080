"""`game bot URL --bot ... --ladder` as a bot author runs it (issue 17): subprocesses
against a real server, queueing for rated games as bot programs until told to stop,
each result logged with the rating after it (read back from the server here)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import httpx
import pytest

from tests.support import ROOT, ServerProcess, serving_sqlite

PLAYER = re.compile(r"(\S+) is player (\S+) \(a bot\)")
RUNG = re.compile(r"game (\d+): (win|loss|draw).*vs (\S+); rating ([\d.]+) ± ([\d.]+)")
OVER = re.compile(r"Ladder over after (\d+) games: W (\d+)  L (\d+)  D (\d+); rating (.+)")
WAIT = 120.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from serving_sqlite(tmp_path)


class Ladder:
    """`game bot ... --ladder` in a subprocess, its output read line by line."""

    def __init__(self, server: ServerProcess, name: str, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "game", "bot", server.ws, "--bot", "random", "--ladder",
             "--game", "tictactoe", "--name", name, *extra],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._queue: Queue[str | None] = Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, check: Callable[[str], bool], timeout: float = WAIT) -> str:
        """The next line that passes `check` (every line is kept in `lines`)."""
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except Empty:
                raise AssertionError(f"no such line in {timeout}s: {self.lines}") from None
            if line is None:
                raise AssertionError(f"exited first: {self.lines}")
            self.lines.append(line)
            if check(line):
                return line

    def finish(self, timeout: float = WAIT) -> int:
        """Read to the end; the exit code."""
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except Empty:
                raise AssertionError(f"still running after {timeout}s: {self.lines}") from None
            if line is None:
                return self.process.wait(timeout)
            self.lines.append(line)

    def player(self) -> str:
        return next(found[2] for line in self.lines if (found := PLAYER.search(line)))

    def rungs(self) -> list[tuple[int, str, str, float, float]]:
        """(game, outcome, opponent, rating, rd) of each logged game."""
        return [(int(f[1]), f[2], f[3], float(f[4]), float(f[5]))
                for line in self.lines if (f := RUNG.search(line))]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def profile(server: ServerProcess, player: str) -> dict[str, object]:
    data: dict[str, object] = httpx.get(f"{server.http}/api/players/{player}", timeout=10).json()
    return data


def test_two_ladder_bots_play_rated_games_and_their_ratings_move(
        server: ServerProcess) -> None:
    bots = [Ladder(server, "ladder-a", "--games", "3"),
            Ladder(server, "ladder-b", "--games", "3", "--codec", "msgpack")]
    try:
        codes = [bot.finish() for bot in bots]
    finally:
        for bot in bots:
            bot.kill()
    assert codes == [0, 0], [bot.lines for bot in bots]
    for bot, opponent in zip(bots, ("ladder-b", "ladder-a"), strict=True):
        rungs = bot.rungs()
        assert [r[0] for r in rungs] == [1, 2, 3], bot.lines
        assert {r[2] for r in rungs} == {opponent}
        assert "(first rated game)" in next(line for line in bot.lines if RUNG.search(line))
        # each rated game moves the rating (a first game from 1500 always does) and
        # shrinks the RD; the last one logged is what the server keeps
        ratings, rds = [r[3] for r in rungs], [r[4] for r in rungs]
        assert rds == sorted(rds, reverse=True) and rds[0] < 350
        assert ratings[0] != 1500.0 or rungs[0][1] == "draw"
        found = profile(server, bot.player())
        assert found["bot"] is True
        ratings_kept: list[dict[str, Any]] = found["ratings"]  # type: ignore[assignment]
        assert len(ratings_kept) == 1
        rating = ratings_kept[0]
        assert rating["pool"] == "bot" and rating["games"] == 3
        assert round(rating["rating"], 1) == ratings[-1]
        over = OVER.search(bot.lines[-1])
        assert over and over[1] == "3", bot.lines[-1]
    wins = [sum(r[1] == "win" for r in bot.rungs()) for bot in bots]
    losses = [sum(r[1] == "loss" for r in bot.rungs()) for bot in bots]
    assert wins == losses[::-1]  # they played each other every time
    board = httpx.get(f"{server.http}/api/leaderboard", params={"game": "tictactoe",
                                                                "pool": "bot"}, timeout=10)
    listed = {entry["player"] for entry in board.json()["provisional"]}
    assert listed == {bot.player() for bot in bots}


def test_a_signal_ends_the_ladder_cleanly(server: ServerProcess) -> None:
    """SIGINT while queued ends at once; SIGTERM during the games ends after the
    game in progress, which is played out (no game is left hanging)."""
    lone = Ladder(server, "lonely")
    try:
        lone.wait_for(lambda line: "queued for a rated tictactoe game" in line)
        lone.process.send_signal(signal.SIGINT)
        assert lone.finish() == 0, lone.lines
    finally:
        lone.kill()
    over = OVER.search(lone.lines[-1])
    assert over and over[1] == "0", lone.lines
    bots = [Ladder(server, "runner-a"), Ladder(server, "runner-b")]
    try:
        for bot in bots:
            bot.wait_for(lambda line: bool(RUNG.search(line) and "game 2:" in line))
        for bot in bots:
            bot.process.send_signal(signal.SIGTERM)
        codes = [bot.finish() for bot in bots]
    finally:
        for bot in bots:
            bot.kill()
    assert codes == [0, 0], [bot.lines for bot in bots]
    for bot in bots:
        over = OVER.search(bot.lines[-1])
        assert over and int(over[1]) >= 2, bot.lines
        assert int(over[1]) == len(bot.rungs())  # every game it began, it finished
        # a pairing that raced with the stop was played, not left to be aborted
        assert not [line for line in bot.lines if "by aborted" in line], bot.lines
    live = httpx.get(f"{server.http}/api/matches", timeout=10).json()
    assert live["matches"] == []
