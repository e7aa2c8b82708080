"""What a :class:`game.client.Client` tells you: one dataclass per server message, plus
connection events.

Every event keeps the message it came from in ``raw`` (``{}`` for connection events),
so nothing the server says is ever hidden from you.

>>> from game.client.events import from_message
>>> event = from_message({"type": "queued", "game": "connect4", "ref": "a-1"})
>>> event
Queued(game='connect4', ref='a-1')
>>> event.raw["type"]
'queued'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

View = dict[str, Any]
"""A match as one viewer sees it (see docs/protocol.md, "The view")."""

Message = dict[str, Any]
"""One decoded protocol message: a map with a ``type``."""

Ref = str | int


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of everything :meth:`Client.events` yields."""

    raw: Message = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Welcome(Event):
    """The answer to ``hello``: who you are. ``resumed`` is true after a reconnect."""

    player: str
    name: str
    token: str = field(repr=False)
    matches: list[str]
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class Queued(Event):
    """You wait in the quick-match queue of ``game``."""

    game: str
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Unqueued(Event):
    """You left the queue (``game`` is None when you were not queued)."""

    game: str | None
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class RoomOpened(Event):
    """A private room waits for a second player: share ``code``."""

    code: str
    game: str
    match: str
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class MatchUpdate(Event):
    """The local view of ``match`` is now at ``version`` (verified against the hash)."""

    match: str
    version: int
    view: View = field(repr=False)


@dataclass(frozen=True, slots=True)
class Snapshot(MatchUpdate):
    """A full view: on start, rejoin, watch and sync."""


@dataclass(frozen=True, slots=True)
class Patch(MatchUpdate):
    """A patch was applied; ``ops`` turned version - 1 into ``version``."""

    ops: list[dict[str, Any]] = field(default_factory=list, repr=False)


@dataclass(frozen=True, slots=True)
class Ack(Event):
    """The command ``ref`` was committed at ``version`` of ``match``."""

    ref: Ref | None
    match: str
    version: int


@dataclass(frozen=True, slots=True)
class ErrorEvent(Event):
    """A rejected command; the connection stays open."""

    code: str
    message: str
    ref: Ref | None = None
    match: str | None = None


@dataclass(frozen=True, slots=True)
class Pong(Event):
    """The answer to ``ping``; ``at`` is the server's clock (epoch ms)."""

    at: int | None
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """The server speaks to everyone. ``reason`` ``restart`` or ``shutdown``: it is
    draining and closes with 1012 in a moment; the client holds new commands until it
    has reconnected (after ``reconnect_ms`` plus jitter) and resumed. ``operator``: a
    message from whoever runs the server. Not an error."""

    reason: str
    message: str
    reconnect_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Disconnected(Event):
    """The socket closed with ``code``; ``reconnecting`` says whether the client retries.
    ``notice`` is the server's announcement of the close (a restart), if it sent one:
    then this is a planned pause, not a failure."""

    code: int | None
    reason: str
    reconnecting: bool
    notice: Notice | None = None


@dataclass(frozen=True, slots=True)
class Unknown(Event):
    """A message type this SDK does not know (a newer server): see ``raw``."""

    type: str


def from_message(message: Message) -> Event:
    """The event for a server message that carries no match view (views are tracked by
    the client, which emits :class:`Snapshot` and :class:`Patch` itself)."""
    kind = str(message.get("type"))
    ref = message.get("ref")
    if kind == "welcome":
        return Welcome(message, message["player"], message["name"], message["token"],
                       list(message.get("matches", [])))
    if kind == "queued":
        return Queued(message, message["game"], ref)
    if kind == "unqueued":
        return Unqueued(message, message.get("game"), ref)
    if kind == "room":
        return RoomOpened(message, message["code"], message["game"], message["match"], ref)
    if kind == "ack":
        return Ack(message, ref, message["match"], message["version"])
    if kind == "error":
        return ErrorEvent(message, message["code"], message.get("message", ""), ref,
                          message.get("match"))
    if kind == "pong":
        return Pong(message, message.get("at"), ref)
    if kind == "notice":
        return Notice(message, str(message.get("reason", "")), str(message.get("message", "")),
                      message.get("reconnect_ms"))
    return Unknown(message, kind)
