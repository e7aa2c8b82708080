"""The FastAPI application: wires store, hub, handlers, the socket and HTTP routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI, WebSocket
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from game.core.lobby import RoomEntry
from game.core.match import Phase
from game.server.admin import router as admin_router
from game.server.bots import BotRunner
from game.server.clock import Clock, ManualClock, SystemClock
from game.server.connection import Outgoing, enable_outgoing_validation
from game.server.drain import Drain
from game.server.handlers import Handlers
from game.server.http import router
from game.server.hub import Hub
from game.server.listen import url_of
from game.server.lobby_port import LobbyPort, LocalLobby
from game.server.metrics import Metrics
from game.server.session import ENDPOINT_KEY, Endpoint, Gate
from game.server.settings import Settings
from game.server.ws import serve_socket
from game.store.base import Store
from game.store.memory import MemoryStore

if TYPE_CHECKING:
    from game.server.cluster.wiring import Cluster

log = structlog.get_logger("game.app")
WEB_ROOT = Path(__file__).resolve().parents[2] / "client_web"
HEARTBEAT_SECONDS = 1.0
API_DESCRIPTION = (
    "The HTTP side of the game server. Play happens over the WebSocket at `/ws` (its "
    "messages: `/api/protocol`, `/api/asyncapi`, docs/protocol.md). The `admin` routes "
    "answer only when the server runs with `GAME_ADMIN_TOKEN`, to "
    "`Authorization: Bearer TOKEN`; the page `/admin.html` uses them.")


def make_store(settings: Settings) -> Store:
    if settings.db == ":memory:":
        return MemoryStore()
    from game.store.sqlite import SQLiteStore

    return SQLiteStore(settings.db, busy_timeout=settings.db_busy_timeout,
                       history_days=settings.history_days,
                       sweep_interval=settings.history_sweep_interval)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    if settings.validate_outgoing:
        enable_outgoing_validation()
    metrics = Metrics(settings.metrics_timing_sample)  # one registry per app: GET /metrics
    bots = BotRunner(settings.bot_workers, settings.bot_time_budget, settings.bot_plugins,
                     queue_limit=settings.bot_queue_limit, metrics=metrics)
    cluster: Cluster | None = None
    lobby: LobbyPort
    if settings.redis_url is not None:
        from game.server.cluster.wiring import build_cluster

        cluster = build_cluster(settings, bots, metrics)
        hub: Hub = cluster.hub
        lobby, store = cluster.hub.redis_lobby, cluster.hub.store
    else:
        clock = clock or (ManualClock() if settings.test_clock else SystemClock())
        store = make_store(settings)
        lobby = LocalLobby()
        hub = Hub(settings, store, clock, bots, lobby, metrics)
    handlers = Handlers(hub, lobby)
    gate = Gate(settings, metrics)

    def send_to_everyone(message: dict[str, Any]) -> int:
        shared = Outgoing(message)  # encoded once per codec
        open_ = [conn for conn in list(gate.open) if not conn.closing]
        for conn in open_:
            conn.send(shared)
        return len(open_)

    hub.send_to_everyone = send_to_everyone
    metrics.watch(hub, gate)
    endpoint = Endpoint(settings, gate, handlers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if cluster is not None:
            async with _cluster_lifespan(cluster, endpoint) as state:
                yield state
            return
        assert isinstance(lobby, LocalLobby)
        await store.open()
        last = await store.last_alive()
        now = hub.clock.now_ms()
        downtime = max(0, now - last) if last is not None else 0
        live = await store.live_matches()
        await hub.resume(live, downtime)
        for match in live:
            owner = match.seats[0]
            if match.phase is Phase.WAITING and match.room is not None and owner is not None:
                expires = match.created_at + match.time_control.room_ttl_ms
                entry = RoomEntry(match.room, match.game, match.id, owner.player, expires)
                lobby.core.restore_room(entry)
        await hub.recover_rematches(await store.unstarted_rematches())
        await store.heartbeat(now)
        hub.spawn(_heartbeat(hub))
        hub.start()
        await bots.start()
        # the line an operator looks for: where to connect, and where the data lives
        memory = {"keeps_nothing": True} if settings.db == ":memory:" else {}
        log.info("server_started", url=url_of(settings.host, settings.port), db=settings.db,
                 **memory, matches=len(live))
        try:
            # the lifespan state is how uvicorn hands the endpoint to the native
            # WebSocket protocol (game.server.native), which runs below ASGI
            yield {ENDPOINT_KEY: endpoint}
        finally:
            await hub.shutdown()
            # the clocks stood still from the drain's start: the downtime counts from there
            stopped = hub.stopped_at
            await store.heartbeat(stopped if stopped is not None else hub.clock.now_ms())
            await store.close()
            bots.close()
            log.info("server_stopped")

    # /docs and /openapi.json are routes, matched before the static files mounted at /
    app = FastAPI(title="game", lifespan=lifespan, docs_url="/docs", redoc_url=None,
                  description=API_DESCRIPTION)
    app.state.hub = hub
    app.state.settings = settings
    app.state.gate = gate
    app.state.drain = Drain(settings, hub, gate)
    app.include_router(router)
    app.include_router(admin_router)

    @app.get("/api/docs", include_in_schema=False)
    async def old_docs() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=308)

    @app.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket) -> None:
        await serve_socket(websocket, endpoint)

    if WEB_ROOT.is_dir():
        app.mount("/", StaticFiles(directory=WEB_ROOT, html=True), name="web")
    return app


@asynccontextmanager
async def _cluster_lifespan(cluster: Cluster, endpoint: Endpoint) -> AsyncIterator[dict[str, Any]]:
    hub = cluster.hub
    await cluster.start()
    await hub.bots.start()
    settings = hub.settings
    log.info("server_started", url=url_of(settings.host, settings.port), redis=True,
             pid=hub.pid)
    try:
        yield {ENDPOINT_KEY: endpoint}
    finally:
        await cluster.stop()
        hub.bots.close()
        log.info("server_stopped")


async def _heartbeat(hub: Hub) -> None:
    """Record that the server is alive, so a restart can credit the downtime to clocks."""
    import asyncio

    while not hub.stopping:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        if hub.stopping:  # a later beat than `stopped_at` would shorten the credit
            return
        try:
            await hub.store.heartbeat(hub.clock.now_ms())
        except Exception as exc:  # the store is down for now: keep beating once it is back
            hub.outage.failed("heartbeat_failed", exc)
