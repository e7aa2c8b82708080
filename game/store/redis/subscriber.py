"""One sharded pub/sub connection (`SSUBSCRIBE`, Redis 7) to one Redis node.

A `Subscriber` survives its connection being killed and Redis restarting: it reconnects
with exponential backoff, subscribes again to all its channels (one `SSUBSCRIBE` per
slot) and then reports a *gap* for each, since messages published while it was away
are lost. A connection silent for longer than `dead_after` (it is pinged every
`ping_seconds`) is taken for dead. A channel the node no longer serves (its slot moved:
`MOVED`, or the server's own `sunsubscribe`) is handed to `on_moved` for re-routing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from redis.crc import key_slot
from redis.exceptions import ResponseError

from game.store.redis.client import as_bytes
from game.store.redis.errors import UNAVAILABLE, StoreUnavailable
from game.store.redis.wire import Wire, open_wire, pack_command

log = structlog.get_logger("game.store.redis.subscriber")

RETRYABLE: tuple[type[BaseException], ...] = (StoreUnavailable, *UNAVAILABLE)
Handler = Callable[[bytes, bytes], None]
"""(channel, message)"""
ChannelEvent = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Timing of subscribers: pings, when a silent connection counts as dead, the
    reconnection backoff (doubling from `backoff_first` up to `backoff_max`, jittered)
    and how long `add` waits for the subscription to be confirmed."""

    ping_seconds: float = 1.0
    dead_after: float = 3.0
    connect_timeout: float = 0.5
    backoff_first: float = 0.05
    backoff_max: float = 2.0
    subscribe_timeout: float = 2.0


class Subscriber:
    """One pub/sub connection to one node, kept up in the background."""

    def __init__(self, url: str, on_message: Handler, on_gap: ChannelEvent,
                 on_moved: ChannelEvent, settings: FeedSettings) -> None:
        self.url = url
        self.on_message = on_message
        self.on_gap = on_gap
        self.on_moved = on_moved
        self.settings = settings
        self.channels: set[bytes] = set()
        """Every channel wanted here, subscribed or not."""
        self._live: set[bytes] = set()
        self._waiting: dict[bytes, list[asyncio.Future[None]]] = {}
        self._late: set[bytes] = set()
        """Channels whose `add` timed out: their gap is reported once subscribed."""
        self._conn: Wire | None = None
        self._pending: set[bytes] = set()
        """Channels subscribed again after a reconnection, their gap not reported yet."""
        self._report_gaps = False
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.connections = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._drop()

    async def add(self, channel: bytes) -> None:
        """Subscribe; returns once confirmed (StoreUnavailable after the timeout, while
        it keeps trying: a gap is reported when it succeeds)."""
        self.channels.add(channel)
        if channel in self._live:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(channel, []).append(future)
        await self._send("SSUBSCRIBE", channel)
        try:
            async with asyncio.timeout(self.settings.subscribe_timeout):
                await asyncio.shield(future)
        except TimeoutError:
            self._late.add(channel)
            raise StoreUnavailable(f"not subscribed to {channel!r} yet") from None

    async def remove(self, channel: bytes) -> None:
        self.channels.discard(channel)
        self._late.discard(channel)
        self._live.discard(channel)
        await self._send("SUNSUBSCRIBE", channel)

    async def _send(self, *args: bytes | str) -> None:
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(StoreUnavailable):  # gone: the next connection does it
                conn.write(pack_command(args))

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
            except UNAVAILABLE as exc:
                await self._drop()
                failures += 1
                s = self.settings
                delay = min(s.backoff_max, s.backoff_first * 2 ** min(failures - 1, 16))
                log.warning("feed_connect_failed", url=self.url, error=repr(exc),
                            retry_in=delay)
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                continue
            failures = 0
            reconnected = self.connections > 0
            self.connections += 1
            pinger = asyncio.get_running_loop().create_task(self._ping())
            try:
                await self._read(gap=reconnected)
            except UNAVAILABLE as exc:
                log.warning("feed_connection_lost", url=self.url, error=repr(exc))
            except Exception:  # a bug: log it, start afresh (and report the gap)
                log.exception("feed_failed", url=self.url)
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
                await self._drop()

    async def _connect(self) -> None:
        s = self.settings
        try:
            conn = await open_wire(self.url, s.connect_timeout * 2, self._push)
        except (StoreUnavailable, TimeoutError) as exc:
            raise ConnectionError(str(exc)) from exc
        self._conn = conn  # from here on `add` subscribes on this connection itself
        by_slot: dict[int, list[bytes]] = {}
        for channel in self.channels:  # one slot per SSUBSCRIBE on a Cluster
            by_slot.setdefault(key_slot(channel), []).append(channel)
        conn.write(b"".join(pack_command(("SSUBSCRIBE", *channels))
                            for channels in by_slot.values()))

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._live.clear()
        self.connected.clear()
        if conn is not None:
            conn.close("dropped")

    async def _ping(self) -> None:
        """Ping; a connection silent for `dead_after` is taken for dead and closed."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.settings.ping_seconds)
            conn = self._conn
            if conn is not None and loop.time() - conn.last_data > self.settings.dead_after:
                conn.close(f"pub/sub silent for {self.settings.dead_after}s")
            await self._send("PING")

    async def _read(self, gap: bool) -> None:
        """Handle what arrives (`_push`) until the connection is gone."""
        conn = self._conn
        assert conn is not None
        self._pending = set(self.channels)  # resubscribed: a gap is reported once confirmed
        self._report_gaps = gap
        if not self._pending:
            self.connected.set()
        await conn.done
        raise ConnectionError("pub/sub connection gone")

    def _push(self, reply: Any) -> None:
        if isinstance(reply, ResponseError):  # MOVED: a slot is served elsewhere now
            self._refused(str(reply))
            return
        if not isinstance(reply, list) or not reply:
            return
        kind = as_bytes(reply[0])
        if kind == b"smessage":
            channel = as_bytes(reply[1])
            if channel in self.channels:
                self._safely(self.on_message, channel, as_bytes(reply[2]))
        elif kind == b"ssubscribe":
            channel = as_bytes(reply[1])
            self._confirmed(channel, report_gap=self._report_gaps and channel in self._pending)
            self._pending.discard(channel)
            if not self._pending:
                self.connected.set()
        elif kind == b"sunsubscribe":
            channel = as_bytes(reply[1])
            self._live.discard(channel)
            if channel in self.channels:  # the server dropped it: its slot moved
                self.channels.discard(channel)
                self._safely(self.on_moved, channel)

    def _refused(self, error: str) -> None:
        log.warning("feed_refused", url=self.url, error=error)
        parts = error.split()
        if len(parts) < 2 or parts[0] != "MOVED" or not parts[1].isdigit():
            return
        slot = int(parts[1])
        for channel in [c for c in self.channels if key_slot(c) == slot]:
            self.channels.discard(channel)
            self._safely(self.on_moved, channel)

    def _confirmed(self, channel: bytes, report_gap: bool) -> None:
        if channel not in self.channels:
            return
        self._live.add(channel)
        for future in self._waiting.pop(channel, []):
            if not future.done():
                future.set_result(None)
        if report_gap or channel in self._late:
            self._late.discard(channel)
            self._safely(self.on_gap, channel)

    @staticmethod
    def _safely(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("feed_handler_failed")
