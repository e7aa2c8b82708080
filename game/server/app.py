"""The FastAPI application: wires store, hub, handlers, the socket and HTTP routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, WebSocket
from fastapi.staticfiles import StaticFiles

from game.core.lobby import Lobby, RoomEntry
from game.core.match import Phase
from game.server.bots import BotRunner
from game.server.clock import Clock, ManualClock, SystemClock
from game.server.connection import enable_outgoing_validation
from game.server.handlers import Handlers
from game.server.http import router
from game.server.hub import Hub
from game.server.session import ENDPOINT_KEY, Endpoint, Gate
from game.server.settings import Settings
from game.server.ws import serve_socket
from game.store.base import Store
from game.store.memory import MemoryStore

log = structlog.get_logger("game.app")
WEB_ROOT = Path(__file__).resolve().parents[2] / "client_web"
HEARTBEAT_SECONDS = 1.0


def make_store(settings: Settings) -> Store:
    if settings.db == ":memory:":
        return MemoryStore()
    from game.store.sqlite import SQLiteStore

    return SQLiteStore(settings.db, busy_timeout=settings.db_busy_timeout)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    if settings.validate_outgoing:
        enable_outgoing_validation()
    clock = clock or (ManualClock() if settings.test_clock else SystemClock())
    store = make_store(settings)
    bots = BotRunner(settings.bot_workers, settings.bot_time_budget, settings.bot_plugins,
                     queue_limit=settings.bot_queue_limit)
    hub = Hub(settings, store, clock, bots, Lobby())
    lobby = hub.lobby
    handlers = Handlers(hub, lobby)
    gate = Gate(settings)
    endpoint = Endpoint(settings, gate, handlers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await store.open()
        last = await store.last_alive()
        now = clock.now_ms()
        downtime = max(0, now - last) if last is not None else 0
        live = await store.live_matches()
        await hub.resume(live, downtime)
        for match in live:
            owner = match.seats[0]
            if match.phase is Phase.WAITING and match.room is not None and owner is not None:
                expires = match.created_at + match.clocks.room_ttl_ms
                entry = RoomEntry(match.room, match.game, match.id, owner.player, expires)
                lobby.restore_room(entry)
        await hub.recover_rematches(await store.unstarted_rematches())
        await store.heartbeat(now)
        hub.spawn(_heartbeat(hub))
        hub.start()
        await bots.start()
        log.info("server_started", db=settings.db, matches=len(live))
        try:
            # the lifespan state is how uvicorn hands the endpoint to the native
            # WebSocket protocol (game.server.native), which runs below ASGI
            yield {ENDPOINT_KEY: endpoint}
        finally:
            await hub.shutdown()
            await store.heartbeat(clock.now_ms())
            await store.close()
            bots.close()
            log.info("server_stopped")

    app = FastAPI(title="game", lifespan=lifespan, docs_url="/api/docs", redoc_url=None)
    app.state.hub = hub
    app.state.settings = settings
    app.state.gate = gate
    app.include_router(router)

    @app.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket) -> None:
        await serve_socket(websocket, endpoint)

    if WEB_ROOT.is_dir():
        app.mount("/", StaticFiles(directory=WEB_ROOT, html=True), name="web")
    return app


async def _heartbeat(hub: Hub) -> None:
    """Record that the server is alive, so a restart can credit the downtime to clocks."""
    import asyncio

    while not hub.stopping:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            await hub.store.heartbeat(hub.clock.now_ms())
        except Exception as exc:  # the store is down for now: keep beating once it is back
            hub.outage.failed("heartbeat_failed", exc)
