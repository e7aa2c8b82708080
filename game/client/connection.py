"""The connection under :class:`game.client.Client`, kept alive: opened with ``hello``
(which resumes the player's matches), read by one task that dispatches every message,
and opened again with backoff and jitter when it drops; then what was watched is
watched again and the commands still waiting for an answer are sent again when that is
safe (see :data:`game.client.errors.RESENDABLE`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from types import TracebackType
from typing import Self

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from game.client.errors import NO_RECONNECT, Backoff, ClientClosed, ServerError, Stats
from game.client.events import (
    Ack,
    Disconnected,
    ErrorEvent,
    Event,
    Message,
    Notice,
    Queued,
    Unqueued,
    Welcome,
    from_message,
)
from game.client.requests import Requests
from game.client.tracker import MatchState, MatchTracker
from game.client.wire import CodecName, Outbox, decode, encode

log = logging.getLogger("game.client")


class Connection:
    """What keeps a :class:`game.client.Client` connected and its local views in step;
    the client adds the commands (its docstring describes the arguments)."""

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
        self.stats = Stats()
        self._outbox = Outbox(self._encode)
        self._requests = Requests(self._outbox)
        self._tracker = MatchTracker(self.stats, self._requests, self._outbox)
        self.matches: dict[str, MatchState] = self._tracker.matches
        """Local state of every match this client has seen, by match id."""
        self.watching: set[str] = set()
        self.close_code: int | None = None
        self._reader: asyncio.Task[None] | None = None
        self._events: deque[Event] = deque(maxlen=max_events)
        self._signal = asyncio.Event()
        self._connected = asyncio.Event()
        self._done = asyncio.Event()
        self._closing = False
        self._rng = random.Random()
        self._waiters: list[asyncio.Future[None]] = []
        self._notice: Notice | None = None
        """The restart the server announced on the current socket, if it did."""

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
        ws = self._outbox.ws
        if ws is not None:
            await ws.close()
        elif self._reader is not None:
            self._reader.cancel()  # between two reconnect attempts
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        self._finish(ClientClosed("the client was closed", self.close_code))

    async def __aenter__(self) -> Self:
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
        self._outbox.ws = ws
        self._outbox.paused = False
        self._notice = None
        self.stats.connects += 1
        self._connected.set()
        # what waited for the connection (or lost its answer and may be resent) goes now;
        # from here on new commands are sent by request() itself
        resent = self._requests.flush()
        if resumed:
            self.stats.resent += resent
        self._notify()
        return ws, welcome

    async def _handshake(self, ws: ClientConnection, resumed: bool) -> Welcome:
        """hello -> welcome, then the snapshots of the resumed matches, so that once
        connected every local view is in step; then watch again and resend."""
        ref = self._requests.next_id()
        hello: Message = {"type": "hello", "id": ref}
        if self.name is not None:
            hello["name"] = self.name
        if self.token is not None:
            hello["token"] = self.token
        await ws.send(self._encode(hello))
        while True:
            message = decode(await ws.recv())
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
            message = decode(await ws.recv())
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
                                        "id": self._requests.automatic_id(match_id)}))
        for match_id, state in self.matches.items():
            mine = state.view.get("you") is not None
            if match_id in live or match_id in self.watching or state.finished or not mine:
                continue
            # a match of ours that ended while we were away: fetch its final view
            state.syncing = self._requests.automatic_id(match_id)
            await ws.send(self._encode({"type": "sync", "match": match_id,
                                        "id": state.syncing}))
        queued = self._tracker.queued
        if queued is not None and not self._requests.waiting_for("queue"):
            await ws.send(self._encode({"type": "queue", "game": queued,
                                        "id": self._requests.next_id()}))

    async def _run(self, ws: ClientConnection) -> None:
        try:
            while True:
                try:
                    async for frame in ws:
                        try:
                            self._dispatch(decode(frame))
                        except (ValueError, KeyError, TypeError):
                            log.exception("ignored a message the client cannot read")
                except ConnectionClosed:
                    pass
                code, reason = ws.close_code, ws.close_reason or ""
                self.close_code = code
                self._outbox.ws = None
                self._connected.clear()
                if self._closing:
                    break
                again = self.reconnect and code not in NO_RECONNECT
                self._requests.lost()
                notice, self._notice = self._notice, None
                self._emit(Disconnected({}, code, reason, again, notice))
                log.info("disconnected code=%s reason=%r reconnecting=%s planned=%s", code,
                         reason, again, notice is not None)
                if not again:
                    self._finish(ClientClosed(f"connection closed with {code} {reason}", code))
                    break
                next_ws = await self._reconnect_loop(self._after_notice(notice))
                if next_ws is None:
                    self._emit(Disconnected({}, self.close_code, "gave up reconnecting", False))
                    self._finish(ClientClosed("gave up reconnecting", self.close_code))
                    break
                ws = next_ws
        finally:
            self._finish(ClientClosed("the client is closed", self.close_code))

    def _after_notice(self, notice: Notice | None) -> float | None:
        """Seconds before the first attempt after an announced restart: the server's
        ``reconnect_ms`` plus up to half as much again (at least ``backoff.initial``) of
        jitter, so its players do not all come back in the same instant."""
        if notice is None or notice.reconnect_ms is None:
            return None
        wait = max(0.0, notice.reconnect_ms / 1000)
        return wait + self._rng.uniform(0.0, max(wait / 2, self.backoff.initial))

    async def _reconnect_loop(self, first: float | None = None) -> ClientConnection | None:
        """Open again with backoff; the first wait is `first` when the server said."""
        started = time.monotonic()
        attempt = 0
        while not self._closing:
            if first is not None:
                delay, first = first, None
            else:
                delay = self.backoff.delay(attempt, self._rng)
            await asyncio.sleep(delay)
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

    def _finish(self, error: ClientClosed) -> None:
        if self._done.is_set():
            return
        self._done.set()
        self._connected.clear()
        self._requests.close(error)
        self._notify()

    def _dispatch(self, message: Message) -> None:
        kind = message["type"]
        event: Event | None
        if kind == "snapshot":
            event = self._tracker.on_snapshot(message)
            if message.get("ref") is not None:  # the answer to one of our commands:
                self._tracker.claimed.add(message["match"])  # its caller takes it
        elif kind == "patch":
            event = self._tracker.on_patch(message)
        else:
            event = from_message(message)
            if isinstance(event, Queued):
                self._tracker.queued = event.game
            elif isinstance(event, Unqueued):
                self._tracker.queued = None
            elif isinstance(event, ErrorEvent):
                self._tracker.on_refused(self._requests.on_error(event), event.ref)
                if self._notice is not None and event.code == "unavailable":
                    event = None  # refused by the drain: sent again once reconnected
            elif isinstance(event, Notice):
                self._on_notice(event)
            elif isinstance(event, Ack):
                self._tracker.on_sync_ack(event)
        if event is not None:
            self._emit(event)
        ref = message.get("ref")
        if ref is not None:
            self._requests.answer(ref, message)
        self._notify()

    def _on_notice(self, notice: Notice) -> None:
        """A restart announced: hold new commands (and retries) for the next socket,
        so none is refused or lost on this one; the server closes it with 1012."""
        if notice.reason not in ("restart", "shutdown"):
            return  # an operator's message: nothing changes
        self._notice = notice
        self._outbox.paused = True
        self._connected.clear()
        log.info("server notice reason=%s reconnect_ms=%s", notice.reason, notice.reconnect_ms)

    def _encode(self, message: Message) -> str | bytes:
        return encode(self.codec, message)

    def _emit(self, event: Event) -> None:
        self._events.append(event)
        self._signal.set()

    def _notify(self) -> None:
        self._signal.set()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _changed(self) -> None:
        """Wait for the next incoming message or connection change."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter
