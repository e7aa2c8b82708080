"""Abuse phase for issue 15, finding 9: a flood of hard-bot matches from one address.

* bot-flood - guests from one address start as many hard connect-four bot matches as
              the server lets them and keep them going (answering every bot move at
              once, starting a new match whenever one ends or a refusal may have
              lifted; they play a medium strategy, so games are long); meanwhile an
              unrelated player from another address plays easy
              bots back to back. Reports the flood's matches started and refusals, how
              many flood bots failed (resigned) or stalled (never answered a move), and
              the unrelated bot's move latency (our move sent -> the bot's move) p50 /
              max, whether it ever resigned, and how long it had left a move unanswered
              if the phase ended waiting for it.

Run by `python benchmarks/bench_abuse.py --round2 --phases bot-flood`. Bounded on any
server: at most GUESTS * PER_GUEST matches (the old server's own cap per player), and
everything stops and closes `seconds` after the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from game.bots import choose_move
from tests.support import Client, ServerProcess, connect

FLOOD_HOST = "127.0.4.1"
OTHER_HOST = "127.0.4.2"
GUESTS = 10
PER_GUEST = 10  # the old server's max_live_matches_per_player
GRACE = 10.0  # seconds past the phase any wait may take before it is abandoned
RETRY_SECONDS = 0.5  # a refused guest with nothing in play tries again after this
THINK_SECONDS = 0.05  # the unrelated player's time per move
STALL_SECONDS = 10.0  # a bot that has not answered for this long never will

SETTINGS: dict[str, Any] = {"bot_time_budget": 1.0}
"""The server's default budget (tests.support starts servers with 0.2 s)."""
PhaseRun = Callable[[float], Awaitable[dict[str, Any]]]


@dataclass
class FloodStats:
    started: int = 0
    refused: int = 0
    refusal_codes: dict[str, int] = field(default_factory=dict)
    bot_resigned: int = 0
    bot_stalled: int = 0
    most_in_play: int = 0


def _live(client: Client) -> list[str]:
    return [m for m, view in client.views.items() if view["status"] != "finished"]


def _bot_resigned(view: dict[str, Any]) -> bool:
    result = view.get("result") or {}
    return bool(result.get("reason") == "resign" and result.get("winner") == view["you"])


class Flooder:
    """One guest holding as many hard-bot matches as allowed, moving at once in each."""

    def __init__(self, client: Client, stats: FloodStats, rng: random.Random) -> None:
        self.client, self.stats, self.rng = client, stats, rng
        self.counted: set[str] = set()
        self.moved: dict[str, tuple[int, float]] = {}  # match -> (version, when) of our move
        self.retry_at = 0.0

    async def step(self) -> None:
        client = self.client
        for match in _live(client):
            view, version = client.views[match], client.versions[match]
            if view["turn"] != view["you"] or self.moved.get(match, (-1, 0.0))[0] == version:
                continue
            # a medium player (wins in one, blocks): the hard bot needs a full search
            # for every move of a long game, as against a real opponent
            move = choose_move("connect4", "medium", view["moves"], self.rng.randrange(2**31))
            await client.send({"type": "move", "match": match, "version": version,
                               "move": move})
            self.moved[match] = (version, time.monotonic())
        for match, view in client.views.items():
            if view["status"] == "finished" and match not in self.counted:
                self.counted.add(match)
                self.stats.bot_resigned += _bot_resigned(view)
                self.retry_at = 0.0  # a place was given back
        if len(_live(client)) < PER_GUEST and time.monotonic() >= self.retry_at:
            await self._start_one()

    def stalled(self) -> int:
        """Matches whose bot has not answered our move for STALL_SECONDS."""
        now, client = time.monotonic(), self.client
        return sum(1 for match in _live(client) if match in self.moved
                   and self.moved[match][0] + 1 == client.versions[match]
                   and now - self.moved[match][1] > STALL_SECONDS)

    async def _start_one(self) -> None:
        answer = await self.client.request(
            {"type": "play_bot", "game": "connect4", "level": "hard", "seat": 0})
        if answer["type"] == "snapshot":
            self.stats.started += 1
            return
        self.stats.refused += 1
        code = str(answer.get("code"))
        self.stats.refusal_codes[code] = self.stats.refusal_codes.get(code, 0) + 1
        self.retry_at = time.monotonic() + RETRY_SECONDS


async def _flood(server: ServerProcess, index: int, stats: FloodStats, end: float,
                 clients: list[Client]) -> None:
    async with connect(server, local_addr=(FLOOD_HOST, 0)) as client:
        await client.hello(f"botflood{index}")
        clients.append(client)
        flooder = Flooder(client, stats, random.Random(index))
        while time.monotonic() < end:
            await flooder.step()
            stats.most_in_play = max(stats.most_in_play,
                                     sum(len(_live(other)) for other in clients))
            client.inbox.clear()  # views are kept as they arrive; the messages are not needed
            with contextlib.suppress(TimeoutError):
                await client.expect(lambda message: True,
                                    timeout=max(0.01, min(RETRY_SECONDS, end - time.monotonic())))
        stats.bot_stalled += flooder.stalled()


@dataclass
class OtherStats:
    matches: int = 0
    bot_resigned: int = 0
    error: str | None = None
    waits: list[float] = field(default_factory=list)
    asked_at: float | None = None  # our move the bot has not answered yet

    def row(self) -> dict[str, Any]:
        data = sorted(self.waits)
        row: dict[str, Any] = {"other_matches": self.matches,
                               "other_bot_resigned": self.bot_resigned,
                               "other_bot_moves": len(data)}
        if data:
            row["other_bot_p50_ms"] = round(data[len(data) // 2] * 1000, 1)
            row["other_bot_max_ms"] = round(data[-1] * 1000, 1)
        if self.error is not None:
            row["other_error"] = self.error
        if self.asked_at is not None:  # cut off waiting: its bot never answered
            row["other_bot_unanswered_s"] = round(time.monotonic() - self.asked_at, 1)
        return row


async def _other(server: ServerProcess, end: float, stats: OtherStats) -> None:
    """Easy-bot connect-four matches back to back, until `end`; each bot move's wait."""
    rng = random.Random(99)
    async with connect(server, local_addr=(OTHER_HOST, 0)) as client:
        await client.hello("unrelated")
        while time.monotonic() < end:
            answer = await client.request(
                {"type": "play_bot", "game": "connect4", "level": "easy", "seat": 0})
            if answer["type"] != "snapshot":
                stats.error = f"{answer.get('code')}: {answer.get('message')}"
                return
            stats.matches += 1
            await _play(client, str(answer["match"]), rng, end, stats)
            client.inbox.clear()


async def _play(client: Client, match: str, rng: random.Random, end: float,
                stats: OtherStats) -> None:
    while time.monotonic() < end:
        view = client.views[match]
        if view["status"] == "finished":
            stats.bot_resigned += _bot_resigned(view)
            return
        await asyncio.sleep(THINK_SECONDS)  # a person's pace, under the message rate limit
        moved, since = len(view["moves"]), time.monotonic()
        ack = await client.request({"type": "move", "match": match, "version":
                                    client.versions[match], "move": rng.choice(view["legal"])})
        if ack["type"] != "ack":
            stats.error = str(ack.get("code"))
            return
        stats.asked_at = since
        view = await client.until_view(match, _answered(moved), timeout=60)
        stats.asked_at = None
        if len(view["moves"]) > moved + 1:
            stats.waits.append(time.monotonic() - since)


def _answered(moved: int) -> Callable[[dict[str, Any]], bool]:
    """The view once the bot answered our move (`moved` moves before ours)."""
    def check(view: dict[str, Any]) -> bool:
        return len(view["moves"]) > moved + 1 or view["status"] == "finished"
    return check


def bot_flood(server: ServerProcess) -> PhaseRun:
    async def run(seconds: float) -> dict[str, Any]:
        end = time.monotonic() + seconds
        stats = FloodStats()
        clients: list[Client] = []
        flooders = [asyncio.create_task(_flood(server, i, stats, end, clients))
                    for i in range(GUESTS)]
        other = OtherStats()
        with contextlib.suppress(TimeoutError):  # a bot that never answers: stop anyway
            await asyncio.wait_for(_other(server, end, other), seconds + GRACE)
        _, late = await asyncio.wait(flooders, timeout=GRACE)
        for task in late:
            task.cancel()
        await asyncio.gather(*flooders, return_exceptions=True)
        return {"flood_started": stats.started, "flood_refused": stats.refused,
                "flood_refusal_codes": stats.refusal_codes,
                "flood_most_in_play": stats.most_in_play,
                "flood_bot_resigned": stats.bot_resigned, "flood_bot_stalled": stats.bot_stalled,
                **other.row()}

    return run


PHASES: dict[str, Callable[[ServerProcess], PhaseRun]] = {"bot-flood": bot_flood}
