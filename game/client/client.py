"""An asyncio client of protocol v1 over the ``websockets`` library.

The client keeps a local view of every match it plays or watches, in step with the
server's patches: each patch is applied with :func:`game.protocol.patch.apply_patch`
and its ``hash`` checked; on a version gap it sends ``sync`` with ``since`` and on a
hash mismatch it asks for a snapshot, by itself. When the connection drops it
reconnects with exponential backoff and jitter, says ``hello`` with its token (which
resumes its matches), watches again what it watched, and resends the commands still
waiting for an answer when that is safe (a resent ``move`` keeps its ``id``, so the
server applies it at most once).

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
import json
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import msgpack
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from game.client.events import (
    Ack,
    Disconnected,
    ErrorEvent,
    Event,
    Message,
    Patch,
    Queued,
    Ref,
    RoomOpened,
    Snapshot,
    Unqueued,
    View,
    Welcome,
    from_message,
)
from game.protocol.patch import PatchError, apply_patch, view_hash

log = logging.getLogger("game.client")

CodecName = Literal["json", "msgpack"]

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
class MatchState:
    """The client's copy of one match: ``view`` at ``version``, proven by ``hash``."""

    id: str
    version: int
    view: View
    hash: int
    in_sync: bool = True
    syncing: str | None = None  # id of the outstanding sync, if any

    @property
    def finished(self) -> bool:
        return bool(self.view.get("status") == "finished")

    @property
    def my_turn(self) -> bool:
        turn = self.view.get("turn")
        return turn is not None and turn == self.view.get("you")


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


@dataclass
class _Pending:
    message: Message
    future: asyncio.Future[Message]
    sent: bool = False


class Client:
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

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        token: str | None = None,
        codec: CodecName = "json",
        reconnect: bool = True,
        backoff: Backoff | None = None,
        request_timeout: float = 60.0,
        open_timeout: float = 10.0,
        max_events: int = 10_000,
    ) -> None:
        if codec not in ("json", "msgpack"):
            raise ValueError("codec must be 'json' or 'msgpack'")
        self.url = url
        self.name = name
        self.token = token
        self.codec: CodecName = codec
        self.reconnect = reconnect
        self.backoff = backoff or Backoff()
        self.request_timeout = request_timeout
        self.open_timeout = open_timeout
        self.player: str | None = None
        self.matches: dict[str, MatchState] = {}
        """Local state of every match this client has seen, by match id."""
        self.watching: set[str] = set()
        self.stats = Stats()
        self.close_code: int | None = None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[Ref, _Pending] = {}
        self._internal: dict[Ref, str] = {}  # id of an automatic sync -> its match
        self._prefix = secrets.token_hex(4)
        self._counter = 0
        self._events: deque[Event] = deque(maxlen=max_events)
        self._signal = asyncio.Event()
        self._connected = asyncio.Event()
        self._done = asyncio.Event()
        self._closing = False
        self._queued: str | None = None
        self._order: list[str] = []  # matches in the order their first snapshot came
        self._rng = random.Random()
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiters: list[asyncio.Future[None]] = []

    # ---- connecting ------------------------------------------------------------------

    async def connect(self) -> Welcome:
        """Open the socket and say hello (resuming ``token`` if set); start reading.

        Raises OSError / websockets errors when the server cannot be reached, and
        :class:`ServerError` (``bad_token``) for an unknown token."""
        if self._reader is not None:
            raise RuntimeError("already connected")
        ws, welcome = await self._open(resumed=False)
        self._reader = asyncio.get_running_loop().create_task(self._run(ws))
        return welcome

    async def close(self) -> None:
        """Close the connection for good; pending commands fail with ClientClosed."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            await ws.close()
        elif self._reader is not None:
            self._reader.cancel()  # between two reconnect attempts
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        self._finish(ClientClosed("the client was closed", self.close_code))

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def closed(self) -> bool:
        """True once the client stopped for good (see :class:`ClientClosed`)."""
        return self._done.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the client is connected (after a reconnect: resumed and in step)."""
        async with asyncio.timeout(timeout):
            while not self._connected.is_set():
                if self._done.is_set():
                    raise ClientClosed("the client is closed", self.close_code)
                waiter = asyncio.ensure_future(self._connected.wait())
                done_waiter = asyncio.ensure_future(self._done.wait())
                try:
                    await asyncio.wait({waiter, done_waiter},
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                    done_waiter.cancel()

    async def _open(self, resumed: bool) -> tuple[ClientConnection, Welcome]:
        ws = await ws_connect(
            self.url,
            subprotocols=[Subprotocol(f"game.v1.{self.codec}")],
            open_timeout=self.open_timeout,
            max_size=2**22,
        )
        try:
            welcome = await asyncio.wait_for(self._handshake(ws, resumed), self.open_timeout)
        except BaseException:
            await ws.close()
            raise
        if self._closing:
            await ws.close()
            raise ClientClosed("the client was closed", self.close_code)
        self._ws = ws
        self.stats.connects += 1
        self._connected.set()
        # what waited for the connection (or lost its answer and may be resent) goes now;
        # from here on new commands are sent by request() itself
        for pending in list(self._pending.values()):
            if not pending.sent and not pending.future.done():
                pending.sent = True
                if resumed:
                    self.stats.resent += 1
                self._spawn_send(ws, pending.message)
        self._notify()
        return ws, welcome

    async def _handshake(self, ws: ClientConnection, resumed: bool) -> Welcome:
        """hello -> welcome, then the snapshots of the resumed matches, so that once
        connected every local view is in step; then watch again and resend."""
        ref = self._next_id()
        hello: Message = {"type": "hello", "id": ref}
        if self.name is not None:
            hello["name"] = self.name
        if self.token is not None:
            hello["token"] = self.token
        await ws.send(self._encode(hello))
        while True:
            message = self._decode(await ws.recv())
            if message.get("ref") == ref and message.get("type") == "error":
                raise ServerError(message)
            if message.get("ref") == ref and message.get("type") == "welcome":
                break
        event = from_message(message)
        assert isinstance(event, Welcome)
        welcome = Welcome(message, event.player, event.name, event.token, event.matches,
                          resumed)
        self.player, self.token, self.name = welcome.player, welcome.token, welcome.name
        self._emit(welcome)
        waiting = set(welcome.matches)
        for state in self.matches.values():
            state.syncing = None
        while waiting:
            message = self._decode(await ws.recv())
            self._dispatch(message)
            if message.get("type") == "snapshot":
                waiting.discard(message.get("match", ""))
        if resumed:
            await self._after_reconnect(ws, welcome)
        return welcome

    async def _after_reconnect(self, ws: ClientConnection, welcome: Welcome) -> None:
        live = set(welcome.matches)
        for match_id in sorted(self.watching):
            await ws.send(self._encode({"type": "watch", "match": match_id,
                                        "id": self._internal_id(match_id)}))
        for match_id, state in self.matches.items():
            mine = state.view.get("you") is not None
            if match_id in live or match_id in self.watching or state.finished or not mine:
                continue
            # a match of ours that ended while we were away: fetch its final view
            state.syncing = self._internal_id(match_id)
            await ws.send(self._encode({"type": "sync", "match": match_id,
                                        "id": state.syncing}))
        queue_pending = any(p.message["type"] == "queue" for p in self._pending.values())
        if self._queued is not None and not queue_pending:
            await ws.send(self._encode({"type": "queue", "game": self._queued,
                                        "id": self._next_id()}))

    async def _run(self, ws: ClientConnection) -> None:
        try:
            while True:
                try:
                    async for frame in ws:
                        try:
                            self._dispatch(self._decode(frame))
                        except (ValueError, KeyError, TypeError):
                            log.exception("ignored a message the client cannot read")
                except ConnectionClosed:
                    pass
                code, reason = ws.close_code, ws.close_reason or ""
                self.close_code = code
                self._ws = None
                self._connected.clear()
                if self._closing:
                    break
                again = self.reconnect and code not in NO_RECONNECT
                self._lost()
                self._emit(Disconnected({}, code, reason, again))
                log.info("disconnected code=%s reason=%r reconnecting=%s", code, reason, again)
                if not again:
                    self._finish(ClientClosed(f"connection closed with {code} {reason}", code))
                    break
                next_ws = await self._reconnect_loop()
                if next_ws is None:
                    self._emit(Disconnected({}, self.close_code, "gave up reconnecting", False))
                    self._finish(ClientClosed("gave up reconnecting", self.close_code))
                    break
                ws = next_ws
        finally:
            self._finish(ClientClosed("the client is closed", self.close_code))

    async def _reconnect_loop(self) -> ClientConnection | None:
        started = time.monotonic()
        attempt = 0
        while not self._closing:
            await asyncio.sleep(self.backoff.delay(attempt, self._rng))
            attempt += 1
            try:
                ws, _ = await self._open(resumed=True)
            except ServerError as error:  # bad_token: the server forgot this player
                log.warning("reconnect refused: %s", error)
                return None
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ConnectionClosed) as exc:
                log.info("reconnect attempt %d failed: %r", attempt, exc)
                if time.monotonic() - started > self.backoff.give_up_after:
                    return None
                continue
            self.stats.reconnects += 1
            return ws
        return None

    def _lost(self) -> None:
        """The socket is gone: resend what is safe later, fail the rest now."""
        for ref, pending in list(self._pending.items()):
            if not pending.sent or pending.future.done():
                continue
            if pending.message["type"] in RESENDABLE:
                pending.sent = False
            else:
                self._pending.pop(ref, None)
                pending.future.set_exception(ConnectionLost(
                    f"connection lost before the answer to {pending.message['type']}"))
        self._internal.clear()

    def _finish(self, error: ClientClosed) -> None:
        if self._done.is_set():
            return
        self._done.set()
        self._connected.clear()
        for timer in self._timers:
            timer.cancel()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()
        self._notify()

    # ---- codec -----------------------------------------------------------------------

    def _encode(self, message: Message) -> str | bytes:
        if self.codec == "json":
            return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        data: bytes = msgpack.packb(message, use_bin_type=True)
        return data

    @staticmethod
    def _decode(frame: str | bytes) -> Message:
        value = json.loads(frame) if isinstance(frame, str) else msgpack.unpackb(frame, raw=False)
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise ValueError("the server sent something that is not a message")
        return value

    # ---- incoming --------------------------------------------------------------------

    def _dispatch(self, message: Message) -> None:
        kind = message["type"]
        event: Event | None
        if kind == "snapshot":
            event = self._on_snapshot(message)
        elif kind == "patch":
            event = self._on_patch(message)
        else:
            event = from_message(message)
            if isinstance(event, Queued):
                self._queued = event.game
            elif isinstance(event, Unqueued):
                self._queued = None
            elif isinstance(event, ErrorEvent):
                self._on_error(event)
            elif isinstance(event, Ack):
                self._on_sync_ack(event)
        if event is not None:
            self._emit(event)
        ref = message.get("ref")
        if ref is not None:
            self._answer(ref, message)
            if kind != "error":
                self._internal.pop(ref, None)
        self._notify()

    def _answer(self, ref: Ref, message: Message) -> None:
        pending = self._pending.get(ref)
        if pending is None or pending.future.done():
            return
        if message["type"] == "error" and message.get("code") in RETRYABLE:
            return  # request() retries it
        self._pending.pop(ref, None)
        if message["type"] == "error":
            pending.future.set_exception(ServerError(message))
        else:
            pending.future.set_result(message)

    def _on_error(self, event: ErrorEvent) -> None:
        if event.ref is None:
            return
        match_id = self._internal.pop(event.ref, None)
        state = self.matches.get(match_id) if match_id is not None else None
        if state is not None and state.syncing == event.ref:
            state.syncing = None
        pending = self._pending.get(event.ref)
        if pending is not None and event.code in RETRYABLE:
            pending.sent = False
            delay = 0.5 if event.code == "rate_limited" else 0.2
            self._later(delay, self._resend, event.ref)

    def _on_snapshot(self, message: Message) -> Snapshot | None:
        match_id, version, view = message["match"], message["version"], message["view"]
        state = self.matches.get(match_id)
        if state is not None and state.in_sync and version < state.version:
            return None  # an older snapshot that crossed newer patches
        if view_hash(view) != message["hash"]:
            self.stats.hash_mismatches += 1
            log.warning("snapshot of %s does not match its hash", match_id)
        if state is None:
            self.matches[match_id] = MatchState(match_id, version, view, message["hash"])
            self._order.append(match_id)
            if view.get("you") is not None and view.get("game") == self._queued:
                self._queued = None
        else:
            state.version, state.view, state.hash = version, view, message["hash"]
            state.in_sync, state.syncing = True, None
        self.stats.snapshots += 1
        return Snapshot(message, match_id, version, view)

    def _on_patch(self, message: Message) -> Patch | None:
        match_id, version = message["match"], message["version"]
        state = self.matches.get(match_id)
        if state is None:
            return None  # a match we forgot (a snapshot always comes first otherwise)
        if not state.in_sync or version <= state.version:
            return None  # waiting for a snapshot, or a patch we already have
        if version != state.version + 1:
            self.stats.gaps += 1
            self._resync(match_id, state.version)
            return None
        try:
            view = apply_patch(state.view, message["ops"])
        except PatchError:
            view = None
        if view is None or view_hash(view) != message["hash"]:
            self.stats.hash_mismatches += 1
            log.warning("patch %d of %s is out of step; asking for a snapshot",
                        version, match_id)
            state.in_sync = False
            self._resync(match_id, None)
            return None
        state.version, state.view, state.hash, state.syncing = version, view, message["hash"], None
        self.stats.patches += 1
        return Patch(message, match_id, version, view, message["ops"])

    def _resync(self, match_id: str, since: int | None) -> None:
        """Ask for what we missed (``since``: the patches, then an ``ack``) or for a
        snapshot; one request at a time per match."""
        state = self.matches.get(match_id)
        if state is not None and state.syncing is not None:
            return
        ws = self._ws
        if ws is None:
            return  # the reconnect brings snapshots anyway
        ref = self._internal_id(match_id)
        message: Message = {"type": "sync", "match": match_id, "id": ref}
        if since is not None:
            message["since"] = since
        if state is not None:
            state.syncing = ref
        self.stats.syncs_sent += 1
        self._spawn_send(ws, message)

    def _on_sync_ack(self, ack: Ack) -> None:
        """The answer to an automatic ``sync`` with ``since``: every missed patch came
        before it. Still behind (the patches were no longer kept)? Ask for a snapshot."""
        if ack.ref is None or ack.ref not in self._internal:
            return
        state = self.matches.get(ack.match)
        if state is None or state.syncing != ack.ref:
            return
        state.syncing = None
        if state.version < ack.version:
            state.in_sync = False
            self._resync(ack.match, None)

    def _resend(self, ref: Ref) -> None:
        pending = self._pending.get(ref)
        ws = self._ws
        if pending is None or pending.future.done() or pending.sent or ws is None:
            return
        pending.sent = True
        self._spawn_send(ws, pending.message)

    def _later(self, delay: float, callback: Callable[..., None], *args: Any) -> None:
        handles: list[asyncio.TimerHandle] = []

        def fire() -> None:
            self._timers.difference_update(handles)
            callback(*args)

        handles.append(asyncio.get_running_loop().call_later(delay, fire))
        self._timers.update(handles)

    def _spawn_send(self, ws: ClientConnection, message: Message) -> None:
        async def send() -> None:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(self._encode(message))

        task = asyncio.get_running_loop().create_task(send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _emit(self, event: Event) -> None:
        self._events.append(event)
        self._signal.set()

    def _notify(self) -> None:
        self._signal.set()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def _next_id(self) -> str:
        self._counter += 1
        return f"{self._prefix}-{self._counter}"

    def _internal_id(self, match_id: str) -> str:
        ref = self._next_id()
        self._internal[ref] = match_id
        return ref

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

    async def _changed(self) -> None:
        """Wait for the next incoming message or connection change."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

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
        ws = self._ws
        if ws is None:
            raise ConnectionError("not connected")
        await ws.send(self._encode(message))

    async def request(self, message: Message, timeout: float | None = None) -> Message:
        """Send ``message`` with a fresh ``id`` and return the direct answer (the message
        whose ``ref`` is that id). Raises :class:`ServerError` for an ``error`` answer;
        ``rate_limited`` and ``unavailable`` are retried after a pause. While the
        connection is down the command waits and is sent after the reconnect (or sent
        again, if it is in :data:`RESENDABLE`)."""
        if self._done.is_set():
            raise ClientClosed("the client is closed", self.close_code)
        ref = message.get("id")
        if ref is None:
            ref = self._next_id()
            message = {**message, "id": ref}
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        pending = _Pending(message, future)
        self._pending[ref] = pending
        ws = self._ws
        if ws is not None and self._connected.is_set():
            pending.sent = True
            with contextlib.suppress(ConnectionClosed):
                await ws.send(self._encode(message))
        try:
            return await asyncio.wait_for(
                asyncio.shield(future), self.request_timeout if timeout is None else timeout)
        finally:
            if self._pending.get(ref) is pending:
                del self._pending[ref]

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
        start = len(self._order)
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
        start = len(self._order)
        while True:
            try:
                return await self._start_match(message, start, timeout)
            except ConnectionLost:
                await self.wait_connected(self.backoff.give_up_after)
                started = self._started_since(start)
                if started is not None:
                    return started

    async def _start_match(self, message: Message, start: int, timeout: float | None) -> str:
        """Send a command whose success is a new match (no answer carries its id)."""
        request = asyncio.ensure_future(self.request(message, timeout))
        created = asyncio.ensure_future(self._new_match(start, timeout))
        try:
            done, _ = await asyncio.wait({request, created}, return_when=asyncio.FIRST_COMPLETED)
            if created in done:
                return created.result()
            request.result()  # raises the error, if that was the answer
            return await created
        finally:
            request.cancel()
            created.cancel()

    def _started_since(self, start: int) -> str | None:
        for match_id in self._order[start:]:
            state = self.matches.get(match_id)
            if state is None:
                continue
            view = state.view
            if view.get("you") is not None and view.get("status") != "finished":
                return match_id
        return None

    async def _new_match(self, start: int, timeout: float | None) -> str:
        await self.wait_until(lambda: self._started_since(start) is not None, timeout)
        found = self._started_since(start)
        assert found is not None
        return found

    def started_since(self, count: int) -> str | None:
        """The first live match of yours that started after the first ``count``
        matches this client saw (see :attr:`match_count`)."""
        return self._started_since(count)

    @property
    def match_count(self) -> int:
        """How many matches this client has seen so far."""
        return len(self._order)

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
        start = len(self._order)
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
