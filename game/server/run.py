"""Runs the app under uvicorn with our WebSocket limits and a graceful stop."""

from __future__ import annotations

import gc
from types import FrameType

import structlog
import uvicorn
from fastapi import FastAPI

from game.server.app import create_app
from game.server.hub import Hub
from game.server.logs import configure_logging
from game.server.native import WebSocketProtocol
from game.server.settings import Settings

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
    # native: uvicorn parses the HTTP request and hands every upgrade to our protocol;
    # asgi: uvicorn's websockets-sansio protocol and the ASGI route (the ws_* limits
    # below only matter then)
    ws: type[WebSocketProtocol] | str = (
        WebSocketProtocol if settings.websocket == "native" else "websockets-sansio")
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
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


def serve(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
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
