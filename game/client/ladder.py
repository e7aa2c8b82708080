"""`game bot URL --bot module:Class --ladder`: a bot on the rated ladder, game after game.

The bot says `bot: true` in `hello` (so it is rated in the bot pool, against other
bots only), queues for a quick match (every quick match is rated), plays it, reads its
rating from `/api/players/{player}` and queues again, until it is stopped: the first
SIGINT / SIGTERM ends the run once the game in progress is over (or at once while it
waits in the queue), a second one resigns that game first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from game.client.api import Rating, http_base, rating_of
from game.client.bot import Bot, GameResult, Score, play_match
from game.client.client import Client
from game.client.errors import ClientClosed, ServerError
from game.client.events import Message
from game.client.wire import CodecName

if TYPE_CHECKING:
    from rich.console import Console


PAIRED_TIMEOUT = 10.0
"""Seconds to wait for the match of a pairing that raced with leaving the queue."""


class ProgramClient(Client):
    """A :class:`Client` whose every `hello` says `bot: true`: a program plays."""

    def _encode(self, message: Message) -> str | bytes:
        if message.get("type") == "hello":
            message = {**message, "bot": True}
        return super()._encode(message)


@dataclass(frozen=True, slots=True)
class Rung:
    """One ladder game: its result and the bot's rating after it (None: not rated)."""

    index: int
    result: GameResult
    rating: Rating | None
    before: Rating | None


OnRung = Callable[[Rung, Score], None]
OnStatus = Callable[[str], None]


class Ladder:
    def __init__(self, bot: Bot, url: str, *, game: str = "connect4", games: int | None = None,
                 codec: CodecName = "json", name: str | None = None,
                 on_rung: OnRung | None = None, on_status: OnStatus | None = None) -> None:
        self.bot, self.url, self.game, self.games = bot, url, game, games
        self.client = ProgramClient(url, name=name or bot.name, codec=codec)
        self.score = Score()
        self.rating: Rating | None = None
        self._on_rung = on_rung or (lambda rung, score: None)
        self._status = on_status or (lambda text: None)
        self._stopping = asyncio.Event()
        self._resigning = asyncio.Event()

    def stop(self) -> None:
        """Stop after the game in progress; called again, resign it and stop."""
        if self._stopping.is_set():
            self._resigning.set()
            self._status("stopping: resigning the game in progress")
        else:
            self._stopping.set()
            self._status("stopping after this game (again to resign it)")

    async def run(self) -> Score:
        await self.client.connect()
        player = self.client.player
        assert player is not None
        base = http_base(self.url)
        try:
            self.rating = await self._rating(base, player)
            self._status(f"{self.client.name} is player {player} (a bot); rating "
                         f"{self.rating or 'none yet'}")
            while not self._stopping.is_set() and (
                    self.games is None or self.score.played < self.games):
                match = await self._queue()
                if match is None:
                    break
                result = await self._play(match)
                self.client.forget(match)
                self.score.add(result)
                before, self.rating = self.rating, await self._rating(base, player)
                self._on_rung(Rung(self.score.played, result, self.rating, before), self.score)
        finally:
            await self.client.close()
        return self.score

    async def _rating(self, base: str, player: str) -> Rating | None:
        try:
            return await rating_of(base, player, self.game)
        except (OSError, ValueError) as exc:  # the games go on without it
            self._status(f"could not read the rating: {exc}")
            return None

    async def _queue(self) -> str | None:
        """The next quick match, or None when stopped while waiting for one."""
        start = self.client.match_count
        await self.client.queue(self.game)
        self._status(f"queued for a rated {self.game} game")
        # only the wait is cancelled, never a request: Python 3.11's wait_for (under
        # every request) can swallow a cancellation that races with the answer
        paired = asyncio.ensure_future(self.client.wait_new_match(start))
        stopped = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({paired, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if paired.done():
            return paired.result()
        paired.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await paired
        left = await self.client.unqueue()
        if left.game is None:
            # not in the queue any more: paired meanwhile, and the new match's snapshot
            # may still be on its way (the server stores it first); a real game, so it
            # is played out
            with contextlib.suppress(TimeoutError):
                return await self.client.wait_new_match(start, PAIRED_TIMEOUT)
        return self.client.started_since(start)

    async def _play(self, match: str) -> GameResult:
        playing = asyncio.ensure_future(play_match(self.client, self.bot, match))
        resign = asyncio.ensure_future(self._resigning.wait())
        await asyncio.wait({playing, resign}, return_when=asyncio.FIRST_COMPLETED)
        resign.cancel()
        if not playing.done():
            with contextlib.suppress(ServerError):  # it may have ended meanwhile
                await self.client.resign(match)
        return await playing


# ---- the command line ------------------------------------------------------------------


def _change(rung: Rung) -> str:
    if rung.rating is None:
        return "not rated"
    if rung.before is None:
        return f"rating {rung.rating} (first rated game)"
    delta = rung.rating.rating - rung.before.rating
    return f"rating {rung.rating} ({delta:+.1f})"


def run_ladder(args: argparse.Namespace, bot: Bot, console: Console) -> int:
    """`game bot URL --ladder`: 0 once stopped (by a signal, or after `--games`)."""

    def say(text: str) -> None:
        console.print(text)
        console.file.flush()  # piped output (a log, `tee`) shows each game as it ends

    def on_rung(rung: Rung, score: Score) -> None:
        result = rung.result
        how = "" if result.reason == "draw" else f" by {result.reason}"
        say(f"game {rung.index}: {result.outcome}{how} as seat {result.seat} in "
            f"{len(result.moves)} moves vs {result.opponent}; {_change(rung)}; {score}")

    async def main() -> Ladder:
        ladder = Ladder(bot, args.url, game=args.game, games=args.games, codec=args.codec,
                        name=args.name, on_rung=on_rung, on_status=say)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, ladder.stop)
        await ladder.run()
        return ladder

    try:
        ladder = asyncio.run(main())
    except (OSError, ClientClosed, ServerError, TimeoutError) as exc:
        console.print(f"error: {type(exc).__name__}: {exc}", style="red")
        return 1
    rating = "none yet" if ladder.rating is None else str(ladder.rating)
    say(f"Ladder over after {ladder.score.played} games: {ladder.score}; rating {rating}")
    return 0
