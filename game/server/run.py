"""Runs the app under uvicorn with our WebSocket limits and a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import resource
import signal
import socket
from collections.abc import Callable, Generator
from types import FrameType

import structlog
import uvicorn
from fastapi import FastAPI

from game.server.app import create_app
from game.server.drain import Drain, Reason
from game.server.http_protocol import GuardedHttpProtocol
from game.server.native import WebSocketProtocol
from game.server.settings import Settings
from game.server.ws import CountedSansIOProtocol

log = structlog.get_logger("game.run")


class GameServer(uvicorn.Server):
    """uvicorn's server with our stop: SIGTERM and SIGINT begin a drain at once
    (game.server.drain: 503 to new sockets and /readyz, no new pairings, clocks held),
    and uvicorn's shutdown starts only once the drain has told every client (`notice`)
    and closed its socket with 1012, within `drain_seconds`. The process then exits 0:
    a drained server did what it was asked."""

    drain: Drain | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    app: FastAPI | None = None
    on_started: Callable[[FastAPI], None] | None = None
    """Called on the loop once the app started and serves (game.server.workers)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)
        if self.started and self.on_started is not None and self.app is not None:
            self.on_started(self.app)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # a Python signal handler may run in the middle of any loop callback: the
        # drain begins from the loop itself, at its next turn
        drain, loop = self.drain, self._loop
        if drain is not None and loop is not None and not self.should_exit:
            reason: Reason = "shutdown" if sig == signal.SIGINT else "restart"
            loop.call_soon_threadsafe(drain.begin, reason)
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        drain = self.drain
        if drain is not None:
            await drain.run(hurry=lambda: self.force_exit)
            # what is left of the budget, for HTTP requests still being answered
            self.config.timeout_graceful_shutdown = max(1, math.ceil(drain.seconds_left()))
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """uvicorn's, without raising the caught signal again once stopped (which
        would end a cleanly drained process by SIGTERM, exit status 143)."""
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def uvicorn_config(settings: Settings, app: FastAPI) -> uvicorn.Config:
    # native: uvicorn parses the HTTP request (with our limits: GuardedHttpProtocol)
    # and hands every upgrade to our protocol; asgi: uvicorn's websockets-sansio
    # protocol and the ASGI route (the ws_* limits below only matter then)
    ws: type[asyncio.Protocol] = (
        WebSocketProtocol if settings.websocket == "native" else CountedSansIOProtocol)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=GuardedHttpProtocol,
        ws=ws,
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,
        ws_ping_interval=settings.ping_interval,
        ws_ping_timeout=settings.ping_timeout,
        lifespan="on",
        log_config=None,
        log_level=settings.log_level,
        access_log=False,
        # X-Forwarded-For is judged by game.server.forwarded (`trusted_proxies`), never
        # by uvicorn, which would believe it from 127.0.0.1 by default
        proxy_headers=False,
        # GameServer.shutdown sets it to what is left of drain_seconds after the drain
        timeout_graceful_shutdown=max(1, math.ceil(settings.drain_seconds)),
    )


def fit_file_limit(settings: Settings) -> None:
    """Raise the soft open-file limit towards the hard one, and lower the connection
    caps if they still do not fit beside the descriptors the process needs for itself:
    past the limit accept() fails, and nobody (not even /healthz) gets an answer."""
    reserve = settings.reserved_file_descriptors + 4 * settings.bot_workers
    soft, hard = _raise_file_limit(
        settings.max_connections + settings.max_http_connections + reserve)
    budget = max(2, soft - reserve)
    if settings.max_connections + settings.max_http_connections > budget:
        log.warning("connection_caps_lowered", open_files=soft, reserved=reserve,
                    configured=[settings.max_connections, settings.max_http_connections])
        _shrink_caps(settings, budget)
    log.info("file_limit", open_files=soft, hard=hard, reserved=reserve,
             max_connections=settings.max_connections,
             max_http_connections=settings.max_http_connections,
             max_connections_per_address=settings.max_connections_per_address)


def _raise_file_limit(wanted: int) -> tuple[int, int]:
    """The soft and hard RLIMIT_NOFILE, the soft one raised to `wanted` if it may be."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as error:
            log.warning("file_limit_not_raised", wanted=wanted, error=str(error))
    return soft, hard


def _shrink_caps(settings: Settings, budget: int) -> None:
    """Pending requests get at most a quarter of `budget`, the players the rest, and one
    address at most half of the pending requests (so it cannot fill them alone)."""
    http = max(1, min(settings.max_http_connections, budget // 4))
    settings.max_http_connections = http
    settings.max_connections = max(1, min(settings.max_connections, budget - http))
    settings.max_connections_per_address = max(
        1, min(settings.max_connections_per_address, http // 2))


def serve(settings: Settings, sock: socket.socket,
          on_started: Callable[[FastAPI], None] | None = None) -> None:
    """Serve on `sock`, bound (game.server.listen) before the store was opened; the
    caller (game.server.cli) has checked the settings and configured logging.
    `on_started(app)` runs on the loop once the app has started (not if it failed)."""
    settings.port = int(sock.getsockname()[1])  # 0 asked for any port: this is the one
    fit_file_limit(settings)
    app = create_app(settings)
    server = GameServer(uvicorn_config(settings, app))
    server.drain = app.state.drain
    server.app, server.on_started = app, on_started
    log.info("websocket_endpoint", websocket=settings.websocket)
    # Everything built so far lives as long as the process: keep it out of the
    # collector's way, and collect young objects less often (many short-lived dicts
    # per move would otherwise trigger a collection every few moves).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    server.run(sockets=[sock])
