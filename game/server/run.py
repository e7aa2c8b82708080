"""Runs the app under uvicorn with our WebSocket limits and a graceful stop."""

from __future__ import annotations

import asyncio
import gc
import resource
from types import FrameType

import structlog
import uvicorn
from fastapi import FastAPI

from game.server.app import create_app
from game.server.http_protocol import GuardedHttpProtocol
from game.server.hub import Hub
from game.server.logs import configure_logging
from game.server.native import WebSocketProtocol
from game.server.settings import Settings
from game.server.ws import CountedSansIOProtocol

log = structlog.get_logger("game.run")


class GameServer(uvicorn.Server):
    """Marks the hub as stopping before uvicorn closes sockets (1012), so players who
    are disconnected by our own restart are not counted as dropping out."""

    hub: Hub | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.hub is not None:
            self.hub.stopping = True
        super().handle_exit(sig, frame)


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
        timeout_graceful_shutdown=5,
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


def serve(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    fit_file_limit(settings)
    app = create_app(settings)
    server = GameServer(uvicorn_config(settings, app))
    server.hub = app.state.hub
    log.info("websocket_endpoint", websocket=settings.websocket)
    # Everything built so far lives as long as the process: keep it out of the
    # collector's way, and collect young objects less often (many short-lived dicts
    # per move would otherwise trigger a collection every few moves).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    server.run()
