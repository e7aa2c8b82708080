"""HTTP routes: health, games, live matches, the protocol schema, and test hooks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel

from game.bots import LEVELS
from game.core.match import Phase
from game.games import all_games
from game.protocol.asyncapi import asyncapi_document
from game.protocol.codec import encode_json_bytes
from game.protocol.errors import ProtocolError
from game.protocol.schema import protocol_schema
from game.rules import GAMES
from game.server import ratings_api
from game.server.clock import ManualClock
from game.server.drain import Drain
from game.server.history_api import PositionsAnswer, finished_page, positions_entry
from game.server.hub import Hub
from game.server.listing import BadCursor, MatchListing
from game.server.metrics import CONTENT_TYPE, metrics_allowed

router = APIRouter()


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    hub = _hub(request)
    live = sum(1 for entry in hub.matches.values() if entry.match.phase is not Phase.FINISHED)
    return {"ok": not hub.stopping, "matches": live, "players": len(hub.connections),
            "connections": len(hub.connections), "sockets": request.app.state.gate.total}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Readiness: 200 while this process should get new players (its store answers a
    round trip within `readiness_timeout`), 503 once a drain began or the store fails.
    `/healthz` is liveness: the event loop answers."""
    drain: Drain = request.app.state.drain
    problem = await drain.readiness()
    body: dict[str, Any] = {"ready": problem is None, "draining": drain.draining}
    if problem is not None:
        body["problem"] = problem
    return Response(encode_json_bytes(body), status_code=200 if problem is None else 503,
                    media_type="application/json")


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """This process's Prometheus metrics, text format 0.0.4: only to `metrics_networks`
    (loopback by default) and never through a proxy (403); 404 when `metrics_enabled`
    is off."""
    hub = _hub(request)
    settings = hub.settings
    if not settings.metrics_enabled:
        raise HTTPException(status_code=404)
    client = request.client.host if request.client is not None else None
    if not metrics_allowed(client, request.headers, settings.metrics_networks):
        raise HTTPException(status_code=403, detail="metrics are served to metrics_networks")
    return Response(hub.metrics.exposition(), media_type=CONTENT_TYPE)


@router.get("/api/games")
async def games() -> dict[str, Any]:
    """Every registered game with what a client needs to show it (docs/protocol.md)."""
    return {"games": [game.metadata() for game in all_games()], "bot_levels": list(LEVELS)}


@router.get("/api/matches")
async def matches(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="matches in the page")] = None,
    cursor: Annotated[str | None, Query(max_length=100, description="an earlier page's "
                                        "`next`: the page that follows it")] = None,
    status: Annotated[Literal["active", "finished"], Query(
        description="`active` (live matches) or `finished` (the history)")] = "active",
    before: Annotated[str | None, Query(max_length=100, description="the same as `cursor`")
                      ] = None,
    game: Annotated[str | None, Query(max_length=32, description="finished: of this game")
                    ] = None,
    player: Annotated[str | None, Query(max_length=64, description="finished: with this "
                                        "player id in a seat")] = None,
) -> Response:
    """Live public matches, newest first, a page at a time (rooms still waiting for
    their second player are not listed): `{"matches": [...], "next": cursor or null,
    "total": n}`; with `status=finished`, finished matches newest end first
    (`{"matches": [...], "next": cursor or null}`)."""
    hub = _hub(request)
    settings = hub.settings
    size = min(limit or settings.match_list_limit, settings.match_list_max_limit)
    try:
        if status == "finished":
            body = await finished_page(hub.store, size, before or cursor, game, player)
        else:
            page = await _listing(request).page(size, before or cursor)
            body = {"matches": page.matches, "next": page.next, "total": page.total}
    except BadCursor as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    # encoded here: FastAPI's generic encoder walks every value and costs more than this
    return Response(encode_json_bytes(body), media_type="application/json")


def _listing(request: Request) -> MatchListing:
    listing: MatchListing | None = getattr(request.app.state, "match_listing", None)
    if listing is None:
        listing = request.app.state.match_listing = MatchListing(_hub(request))
    return listing


@router.get("/api/matches/{match_id}")
async def match_detail(match_id: str, request: Request) -> dict[str, Any]:
    hub = _hub(request)
    try:
        live = await hub.live(match_id)
    except ProtocolError:
        raise HTTPException(status_code=404, detail="no such match") from None
    return {"match": match_id, "id": match_id,  # `id`: deprecated alias of `match`
            "version": live.match.version, "view": hub.views(live).of(None),
            "moves": list(live.match.moves)}


@router.get("/api/matches/{match_id}/positions", response_model=None, responses={
    200: {"model": PositionsAnswer, "description": "the match and its board after each ply"},
    404: {"description": "no such match"}})
async def match_positions(match_id: str, request: Request) -> Response:
    """A match (live or finished) replayed with the game's rules: its players, result
    and moves, and `positions`, the board before the first move and after each one."""
    try:
        live = await _hub(request).live(match_id)
    except ProtocolError:
        raise HTTPException(status_code=404, detail="no such match") from None
    return Response(encode_json_bytes(positions_entry(live.match)),
                    media_type="application/json")


@router.get("/api/leaderboard")
async def leaderboard(
    request: Request,
    game: Annotated[str, Query(max_length=32, description="an `id` of /api/games")],
    pool: Annotated[Literal["human", "bot"], Query(
        description="`human`, or `bot`: programs that said `bot` in `hello`")] = "human",
) -> Response:
    """Rated players of `game`, best first: `{"game", "pool", "players": [...],
    "provisional": [...]}` (provisional: RD over 110, listed apart, unranked)."""
    hub = _hub(request)
    if game not in GAMES:
        raise HTTPException(status_code=404, detail="no such game")
    body = await ratings_api.leaderboard(hub.store, game, pool, hub.settings.leaderboard_limit)
    return Response(encode_json_bytes(body), media_type="application/json")


@router.get("/api/players/{player}")
async def player_profile(player: str, request: Request) -> Response:
    """A player's name, bot flag, rating in each game and recent finished matches."""
    hub = _hub(request)
    body = await ratings_api.player_profile(hub.store, player[:64],
                                            hub.settings.profile_recent_matches)
    if body is None:
        raise HTTPException(status_code=404, detail="no such player")
    return Response(encode_json_bytes(body), media_type="application/json")


@router.get("/api/protocol")
async def protocol() -> dict[str, Any]:
    """JSON Schema of every client and server message of protocol v1."""
    return protocol_schema()


@router.get("/api/asyncapi")
async def asyncapi(request: Request) -> dict[str, Any]:
    """An AsyncAPI 3.0 document of the WebSocket protocol, for tooling."""
    return asyncapi_document(f"ws://{request.headers.get('host', '127.0.0.1:8000')}")


class ClockAdvance(BaseModel):
    ms: int


@router.post("/_test/clock", include_in_schema=False)  # tests only: not part of the API
async def advance_clock(body: ClockAdvance, request: Request) -> dict[str, Any]:
    hub = _hub(request)
    if not hub.settings.test_clock or not isinstance(hub.clock, ManualClock):
        raise HTTPException(status_code=404)
    now = hub.clock.advance(body.ms)
    await hub.fire_due()
    return {"now": now}
