"""An asyncio client of protocol v1 over the ``websockets`` library.

The client keeps a local view of every match it plays or watches, in step with the
server's patches: each patch is applied with :func:`game.protocol.patch.apply_patch`
and its ``hash`` checked; on a version gap it sends ``sync`` with ``since`` and on a
hash mismatch it asks for a snapshot, by itself. When the connection drops it
reconnects with exponential backoff and jitter, says ``hello`` with its token (which
resumes its matches), watches again what it watched, and resends the commands still
waiting for an answer when that is safe (a resent ``move`` keeps its ``id``, so the
server applies it at most once). A restart the server announces (a :class:`Notice`,
then a close with 1012) is no error: from the notice on, new commands wait for the
next connection, which is opened after the notice's ``reconnect_ms`` plus jitter.

Example, against a server started with ``game serve``::

    import asyncio, random
    from game.client import Client

    async def main() -> None:
        async with Client("ws://127.0.0.1:8000/ws", name="ada", codec="msgpack") as client:
            match = await client.play_bot("connect4", "random")
            while True:
                view = await client.wait_view(match, lambda v: v["status"] == "finished"
                                              or v["turn"] == v["you"])
                if view["status"] == "finished":
                    print(view["result"])
                    break
                await client.move(match, random.choice(view["legal"]))

    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from websockets.exceptions import ConnectionClosed

from game.client.connection import Connection
from game.client.errors import (
    NO_RECONNECT,
    RESENDABLE,
    RETRYABLE,
    Backoff,
    ClientClosed,
    ConnectionLost,
    ServerError,
    Stats,
)
from game.client.events import Event, Message, Queued, RoomOpened, Unqueued, View
from game.client.tracker import MatchState
from game.client.wire import CodecName

# the names this module held before the client was split up, for code importing them here
__all__ = [
    "NO_RECONNECT",
    "RESENDABLE",
    "RETRYABLE",
    "Backoff",
    "Client",
    "ClientClosed",
    "CodecName",
    "ConnectionLost",
    "MatchState",
    "ServerError",
    "Stats",
]


class Client(Connection):
    """One player's connection to a game server (protocol v1), kept alive for you.

    Args:
        url: the WebSocket endpoint, e.g. ``ws://127.0.0.1:8000/ws``.
        name: display name sent in ``hello``.
        token: a token from an earlier :class:`Welcome` to resume that player.
        codec: ``"json"`` (text frames) or ``"msgpack"`` (binary frames).
        reconnect: reconnect and resume when the connection drops.
        backoff: reconnect delays.
        request_timeout: seconds :meth:`request` waits for its answer.
        max_events: events kept for :meth:`events` before the oldest are dropped.

    Use it as an async context manager, or call :meth:`connect` and :meth:`close`.
    Every command method waits for the server's direct answer and raises
    :class:`ServerError` when the command is refused.
    """

    # ---- events and waiting ----------------------------------------------------------

    async def events(self) -> AsyncIterator[Event]:
        """Every event in order, until the client closes for good. One consumer only:
        each event is yielded once."""
        while True:
            while self._events:
                yield self._events.popleft()
            if self._done.is_set():
                return
            self._signal.clear()
            await self._signal.wait()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events()

    async def wait_until(self, predicate: Callable[[], bool],
                         timeout: float | None = None) -> None:
        """Wait until ``predicate()`` is true; it is checked after every message.
        Raises TimeoutError, or ClientClosed once the client stopped."""
        async with asyncio.timeout(timeout):
            while not predicate():
                if self._done.is_set():
                    raise ClientClosed("the client is closed", self.close_code)
                await self._changed()

    async def wait_view(self, match: str, predicate: Callable[[View], bool],
                        timeout: float | None = None) -> View:
        """Wait until the local view of ``match`` (in step with the server) satisfies
        ``predicate`` and return it."""
        def ready() -> bool:
            state = self.matches.get(match)
            return state is not None and state.in_sync and predicate(state.view)

        await self.wait_until(ready, timeout)
        return self.matches[match].view

    def view(self, match: str) -> View:
        """The current local view of ``match`` (KeyError if never seen)."""
        return self.matches[match].view

    def forget(self, match: str) -> None:
        """Drop the local state of a match you are done with (it stops being tracked;
        a long-running bot can call this after each finished game to bound memory)."""
        self.matches.pop(match, None)
        self.watching.discard(match)

    # ---- commands --------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        """Send a message as is, without waiting for anything (raises ConnectionError
        when not connected)."""
        await self._outbox.send(message)

    async def request(self, message: Message, timeout: float | None = None) -> Message:
        """Send ``message`` with a fresh ``id`` and return the direct answer (the message
        whose ``ref`` is that id). Raises :class:`ServerError` for an ``error`` answer;
        ``rate_limited`` and ``unavailable`` are retried after a pause. While the
        connection is down the command waits and is sent after the reconnect (or sent
        again, if it is in :data:`RESENDABLE`)."""
        if self._done.is_set():
            raise ClientClosed("the client is closed", self.close_code)
        pending = self._requests.add(message)
        ws = self._outbox.ws
        if ws is not None and self._connected.is_set():
            pending.sent = True
            with contextlib.suppress(ConnectionClosed):
                await ws.send(self._encode(pending.message))
        try:
            return await asyncio.wait_for(
                asyncio.shield(pending.future),
                self.request_timeout if timeout is None else timeout)
        finally:
            self._requests.discard(pending)

    async def ping(self) -> float:
        """Round trip to the server and back, in seconds."""
        started = time.monotonic()
        await self.request({"type": "ping"})
        return time.monotonic() - started

    async def queue(self, game: str) -> Queued:
        """Join the quick-match queue; see :meth:`quick_match` to also wait for the match."""
        answer = await self.request({"type": "queue", "game": game})
        return Queued(answer, answer["game"], answer.get("ref"))

    async def unqueue(self) -> Unqueued:
        answer = await self.request({"type": "unqueue"})
        return Unqueued(answer, answer.get("game"), answer.get("ref"))

    async def quick_match(self, game: str, timeout: float | None = None) -> str:
        """Queue for ``game`` and wait until paired; returns the new match's id."""
        start = len(self._tracker.order)
        await self.queue(game)
        return await self._new_match(start, timeout)

    async def create_room(self, game: str, turn_seconds: int | None = None,
                          grace_seconds: int | None = None) -> RoomOpened:
        """Open a private room; share ``.code``. The match (``.match``) starts when
        someone joins. ``turn_seconds`` / ``grace_seconds`` set the room's clocks."""
        message: Message = {"type": "create_room", "game": game}
        if turn_seconds is not None:
            message["turn_seconds"] = turn_seconds
        if grace_seconds is not None:
            message["grace_seconds"] = grace_seconds
        answer = await self.request(message)
        return RoomOpened(answer, answer["code"], answer["game"], answer["match"],
                          answer.get("ref"))

    async def join_room(self, code: str) -> str:
        """Take the free seat of a private room; returns the match id."""
        answer = await self.request({"type": "join_room", "code": code})
        match_id = str(answer["match"])
        await self.wait_until(lambda: match_id in self.matches, self.request_timeout)
        return match_id

    async def play_bot(self, game: str, level: str, seat: int | None = None,
                       timeout: float | None = None) -> str:
        """Start a match against a built-in bot (``random``, ``easy``, ``medium``,
        ``hard``); ``seat`` is yours (0 moves first). Returns the match id."""
        message: Message = {"type": "play_bot", "game": game, "level": level}
        if seat is not None:
            message["seat"] = seat
        start = len(self._tracker.order)
        while True:
            try:
                return await self._start_match(message, start, timeout)
            except ConnectionLost:
                await self.wait_connected(self.backoff.give_up_after)
                started = self._tracker.started_since(start)
                if started is not None:
                    self._tracker.claimed.add(started)
                    return started

    async def _start_match(self, message: Message, start: int, timeout: float | None) -> str:
        """Send a command whose answer is the new match's snapshot (carrying our ref)."""
        answer = await self.request(message, timeout)
        if answer.get("type") != "snapshot":
            return await self._new_match(start, timeout)
        match_id = str(answer["match"])
        self._tracker.claimed.add(match_id)
        return match_id

    async def _new_match(self, start: int, timeout: float | None) -> str:
        """The first new live match no other caller has taken, once there is one."""
        await self.wait_until(lambda: self._tracker.started_since(start) is not None, timeout)
        found = self._tracker.started_since(start)
        assert found is not None
        self._tracker.claimed.add(found)
        return found

    def started_since(self, count: int) -> str | None:
        """The first live match of yours that started after the first ``count``
        matches this client saw (see :attr:`match_count`) and that no call of this
        client (``play_bot``, ``quick_match``, ``rematch``, ``wait_new_match``) has
        returned already."""
        return self._tracker.started_since(count)

    @property
    def match_count(self) -> int:
        """How many matches this client has seen so far."""
        return len(self._tracker.order)

    async def wait_new_match(self, count: int, timeout: float | None = None) -> str:
        """Wait for a live match of yours that started after the first ``count``."""
        return await self._new_match(count, timeout)

    async def move(self, match: str, move: int, version: int | None = None) -> int:
        """Play ``move``; ``version`` defaults to the local view's version. Returns the
        version the move was committed at (the local view already shows it)."""
        if version is None and match in self.matches:
            version = self.matches[match].version
        message: Message = {"type": "move", "match": match, "move": move}
        if version is not None:
            message["version"] = version
        answer = await self.request(message)
        return int(answer["version"])

    async def resign(self, match: str) -> int:
        answer = await self.request({"type": "resign", "match": match})
        return int(answer["version"])

    async def rematch(self, match: str, wait: bool = True,
                      timeout: float | None = None) -> str | None:
        """Offer (or accept) a rematch; with ``wait``, wait for the new match (seats
        swap) and return its id. Against a built-in bot it starts at once."""
        start = len(self._tracker.order)
        await self.request({"type": "rematch", "match": match})
        if not wait:
            return None
        return await self._new_match(start, timeout)

    async def watch(self, match: str) -> View:
        """Spectate ``match``: returns its view; it is watched again after a reconnect."""
        self.watching.add(match)
        try:
            await self.request({"type": "watch", "match": match})
        except BaseException:
            self.watching.discard(match)
            raise
        return self.matches[match].view

    async def unwatch(self, match: str) -> None:
        self.watching.discard(match)
        await self.request({"type": "unwatch", "match": match})

    async def sync(self, match: str, since: int | None = None) -> int:
        """Bring the local view of ``match`` up to date: the patches after ``since``
        then an ``ack``, or a snapshot (when ``since`` is None or the patches are gone).
        Returns the version the server answered at."""
        message: Message = {"type": "sync", "match": match}
        if since is not None:
            message["since"] = since
        answer = await self.request(message)
        return int(answer["version"])
