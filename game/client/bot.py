"""Write a bot in a few lines: subclass :class:`Bot`, implement :meth:`Bot.choose`.

>>> import random
>>> from game.client import Bot
>>> class RandomBot(Bot):
...     name = "random-sdk"
...     def choose(self, view):
...         return random.choice(view["legal"])
>>> RandomBot().choose({"legal": [3]})
3

Then play it: ``asyncio.run(run_games(RandomBot(), "ws://127.0.0.1:8000/ws", games=10,
mode=VsBot("easy")))``, or from a shell ``game bot ws://127.0.0.1:8000/ws --bot
mymodule:RandomBot --games 10 --vs-bot easy``. The runner keeps one connection, plays
the games one after another, and survives a server restart in the middle of a game.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from game.client.client import Client
from game.client.errors import ServerError
from game.client.events import View
from game.client.wire import CodecName

Outcome = Literal["win", "loss", "draw"]


class Bot:
    """A player. ``choose`` is called with the view each time it is the bot's turn.

    The view is a plain dict (docs/protocol.md, "The view"): ``view["legal"]`` lists
    the legal moves, ``view["board"]`` the cells (row 0 at the top), ``view["moves"]``
    the history, ``view["you"]`` the bot's seat. ``choose`` may be a coroutine.
    """

    name: str = "bot"
    """The player name said in ``hello`` (unless the runner is given one)."""

    def choose(self, view: View) -> int | Awaitable[int]:
        """Return a move from ``view["legal"]``."""
        raise NotImplementedError

    def on_start(self, match: str, view: View) -> None:
        """Called once when a match starts (or is resumed), before the first move."""

    def on_end(self, match: str, view: View) -> None:
        """Called once when a match is over; ``view["result"]`` says how it ended."""


@dataclass(frozen=True, slots=True)
class QuickMatch:
    """Play whoever is next in the quick-match queue."""


@dataclass(frozen=True, slots=True)
class RoomCode:
    """Join the private room ``code`` (or, with no code, open one and wait for someone);
    later games are rematches in the same pairing."""

    code: str | None = None


@dataclass(frozen=True, slots=True)
class VsBot:
    """Play the server's built-in bot at ``level``; seats alternate from game to game."""

    level: str = "random"


Mode = QuickMatch | RoomCode | VsBot


@dataclass(frozen=True, slots=True)
class GameResult:
    match: str
    game: str
    seat: int
    outcome: Outcome
    reason: str
    moves: list[int]
    opponent: str


@dataclass
class Score:
    """Wins, losses and draws so far.

    >>> s = Score()
    >>> s.wins += 2; s.draws += 1
    >>> str(s)
    'W 2  L 0  D 1'
    """

    wins: int = 0
    losses: int = 0
    draws: int = 0
    results: list[GameResult] = field(default_factory=list)

    @property
    def played(self) -> int:
        return self.wins + self.losses + self.draws

    def add(self, result: GameResult) -> None:
        self.results.append(result)
        if result.outcome == "win":
            self.wins += 1
        elif result.outcome == "loss":
            self.losses += 1
        else:
            self.draws += 1

    def __str__(self) -> str:
        return f"W {self.wins}  L {self.losses}  D {self.draws}"


def outcome_of(view: View) -> Outcome:
    """How a finished view ended for its viewer.

    >>> outcome_of({"you": 1, "result": {"winner": 1}})
    'win'
    >>> outcome_of({"you": 1, "result": {"winner": None}})
    'draw'
    """
    winner = (view.get("result") or {}).get("winner")
    if winner is None:
        return "draw"
    return "win" if winner == view.get("you") else "loss"


async def play_match(client: Client, bot: Bot, match: str) -> GameResult:
    """Play ``match`` with ``bot`` until it is over; the connection may drop and come
    back in between (the client resumes; a resent move is applied once)."""
    view = await client.wait_view(match, lambda v: True)
    bot.on_start(match, view)
    chosen_at: int | None = None  # number of moves on the board when we last moved

    def ready(v: View) -> bool:
        if v["status"] == "finished":
            return True
        return v["turn"] is not None and v["turn"] == v["you"] and len(v["moves"]) != chosen_at

    while True:
        view = await client.wait_view(match, ready)
        if view["status"] == "finished":
            break
        version = client.matches[match].version
        choice = bot.choose(view)
        move = await choice if inspect.isawaitable(choice) else choice
        chosen_at = len(view["moves"])
        try:
            await client.move(match, int(move), version=version)
        except ServerError as error:
            if error.code not in ("stale_version", "not_your_turn", "match_over"):
                raise
            chosen_at = None  # the position moved on under us: look again
    bot.on_end(match, view)
    seat = int(view["you"])
    opponent = view["players"][1 - seat]["name"]
    return GameResult(match, view["game"], seat, outcome_of(view),
                      str((view["result"] or {}).get("reason")), list(view["moves"]), opponent)


Status = Callable[[str], None]


async def run_games(
    bot: Bot,
    url: str,
    *,
    games: int = 1,
    game: str = "connect4",
    mode: Mode | None = None,
    codec: CodecName = "json",
    name: str | None = None,
    client: Client | None = None,
    on_result: Callable[[int, GameResult, Score], None] | None = None,
    on_status: Status | None = None,
    score: Score | None = None,
) -> Score:
    """Play ``games`` games of ``game`` with ``bot`` and return the score.

    ``mode`` is :class:`QuickMatch`, :class:`RoomCode` or :class:`VsBot` (default
    ``VsBot("random")``). Pass a ``client`` to reuse a connection (it is not closed);
    ``on_result(index, result, score)`` is called after each game and ``on_status(text)``
    whenever the runner starts waiting for something. Results are added to ``score``
    when given (so a caller keeps them even when a later game fails).
    """
    mode = mode or VsBot()
    status: Status = on_status or (lambda text: None)
    own = client is None
    if client is None:
        client = Client(url, name=name or bot.name, codec=codec)
        await client.connect()
    score = Score() if score is None else score
    previous: str | None = None
    try:
        for index in range(games):
            match = await _start(client, mode, game, index, previous, status)
            status(f"game {index + 1}: playing")
            result = await play_match(client, bot, match)
            score.add(result)
            previous = match
            if on_result is not None:
                on_result(index, result, score)
    finally:
        if own:
            await client.close()
    return score


async def _start(client: Client, mode: Mode, game: str, index: int, previous: str | None,
                 status: Status) -> str:
    if isinstance(mode, VsBot):
        status(f"game {index + 1}: starting against the {mode.level} bot")
        return await client.play_bot(game, mode.level, seat=index % 2)
    if isinstance(mode, QuickMatch):
        status(f"game {index + 1}: waiting for an opponent")
        return await client.quick_match(game)
    if previous is not None:
        status(f"game {index + 1}: waiting for the rematch")
        match = await client.rematch(previous)
        assert match is not None
        return match
    if mode.code is None:
        room = await client.create_room(game)
        status(f"room {room.code}: waiting for someone to join")
        await client.wait_view(room.match, lambda v: v["status"] != "waiting")
        return room.match
    status(f"joining room {mode.code}")
    return await client.join_room(mode.code)
