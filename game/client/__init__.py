"""Python SDK for protocol v1: an async client, a :class:`Bot` base class and a runner.

A complete bot::

    import asyncio, random
    from game.client import Bot, VsBot, run_games

    class RandomBot(Bot):
        name = "my-random-bot"

        def choose(self, view):
            return random.choice(view["legal"])

    score = asyncio.run(run_games(RandomBot(), "ws://127.0.0.1:8000/ws",
                                  games=5, game="connect4", mode=VsBot("easy")))
    print(score)        # W 3  L 2  D 0

or ``game bot ws://127.0.0.1:8000/ws --bot mybot.py:RandomBot --games 5 --vs-bot easy``.
The lower-level :class:`Client` speaks every message of the protocol and keeps a
hash-checked view of each match; see docs/protocol.md for the wire format.

The SDK needs only ``websockets`` and ``msgpack`` (and :mod:`game.protocol.patch`); it
never imports the server.
"""

from game.client.bot import (
    Bot,
    GameResult,
    Mode,
    QuickMatch,
    RoomCode,
    Score,
    VsBot,
    outcome_of,
    play_match,
    run_games,
)
from game.client.client import Client
from game.client.errors import (
    NO_RECONNECT,
    RESENDABLE,
    Backoff,
    ClientClosed,
    ConnectionLost,
    ServerError,
    Stats,
)
from game.client.events import (
    Ack,
    Disconnected,
    ErrorEvent,
    Event,
    MatchUpdate,
    Message,
    Notice,
    Patch,
    Pong,
    Queued,
    RoomOpened,
    Snapshot,
    Unknown,
    Unqueued,
    View,
    Welcome,
)
from game.client.tracker import MatchState
from game.client.wire import CodecName

__all__ = [
    "NO_RECONNECT",
    "RESENDABLE",
    "Ack",
    "Backoff",
    "Bot",
    "Client",
    "ClientClosed",
    "CodecName",
    "ConnectionLost",
    "Disconnected",
    "ErrorEvent",
    "Event",
    "GameResult",
    "MatchState",
    "MatchUpdate",
    "Message",
    "Mode",
    "Notice",
    "Patch",
    "Pong",
    "Queued",
    "QuickMatch",
    "RoomCode",
    "RoomOpened",
    "Score",
    "ServerError",
    "Snapshot",
    "Stats",
    "Unknown",
    "Unqueued",
    "View",
    "VsBot",
    "Welcome",
    "outcome_of",
    "play_match",
    "run_games",
]
