"""What can go wrong between the client and the server, and how the client recovers:
the exceptions it raises, the close codes and error codes its recovery turns on, the
commands it may send again, and how long it waits between reconnect attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass

from game.client.events import Message, Ref

#: Close codes after which the client does not reconnect: the server replaced this
#: connection by a newer one of the same player (4009: do not fight for the seat),
#: or refused what this client sent (1007 undecodable, 1008 policy, 1009 too big).
NO_RECONNECT = frozenset({1007, 1008, 1009, 4009})

#: Commands that are safe to send again after a reconnect when their answer was lost.
RESENDABLE = frozenset({"move", "resign", "rematch", "join_room", "watch", "unwatch",
                        "sync", "ping", "queue", "unqueue"})

#: Error codes worth retrying after a pause (the server says so).
RETRYABLE = frozenset({"rate_limited", "unavailable"})


class ServerError(Exception):
    """The server refused a command: ``code`` is a stable error code (docs/protocol.md)."""

    def __init__(self, message: Message) -> None:
        self.code: str = str(message.get("code"))
        self.message: str = str(message.get("message", ""))
        self.ref: Ref | None = message.get("ref")
        self.match: str | None = message.get("match")
        self.raw = message
        super().__init__(f"{self.code}: {self.message}")


class ConnectionLost(ConnectionError):
    """A command was in flight when the connection dropped and it is not safe to resend
    (``create_room``, ``play_bot``): find out what happened, then decide."""


class ClientClosed(ConnectionError):
    """The client is closed: by you, by the server replacing it (4009), a refused
    token, or after giving up reconnecting. ``code`` is the last close code."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: ``initial * 2**attempt`` capped at ``maximum``, each scaled by a
    random factor in [0.5, 1] (jitter, so a restarted server is not hit by everyone at
    once). The client gives up after ``give_up_after`` seconds without a connection.

    >>> import random
    >>> b = Backoff(initial=0.1, maximum=2.0)
    >>> [round(b.cap(n), 2) for n in range(7)]
    [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    >>> 0.05 <= b.delay(0, random.Random(1)) <= 0.1
    True
    """

    initial: float = 0.1
    maximum: float = 5.0
    give_up_after: float = 120.0

    def cap(self, attempt: int) -> float:
        return float(min(self.maximum, self.initial * 2 ** min(attempt, 30)))

    def delay(self, attempt: int, rng: random.Random) -> float:
        return self.cap(attempt) * rng.uniform(0.5, 1.0)


@dataclass
class Stats:
    """Counters of what the client had to repair (for logs and tests)."""

    connects: int = 0
    reconnects: int = 0
    snapshots: int = 0
    patches: int = 0
    gaps: int = 0
    hash_mismatches: int = 0
    syncs_sent: int = 0
    resent: int = 0
