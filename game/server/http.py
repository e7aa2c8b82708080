"""HTTP routes: health, games, live matches, the protocol schema, and test hooks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from game.bots import LEVELS
from game.core.match import Phase
from game.protocol.asyncapi import asyncapi_document
from game.protocol.errors import ProtocolError
from game.protocol.schema import protocol_schema
from game.rules import GAMES, get_rules
from game.server.clock import ManualClock
from game.server.hub import Hub

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


@router.get("/api/games")
async def games() -> dict[str, Any]:
    entries = []
    for name in GAMES:
        rules = get_rules(name)
        entries.append({"id": name, "title": rules.title, "rows": rules.rows, "cols": rules.cols})
    return {"games": entries, "bot_levels": list(LEVELS)}


@router.get("/api/matches")
async def matches(request: Request) -> dict[str, Any]:
    """Live public matches (private rooms still waiting are not listed)."""
    hub = _hub(request)
    listed: list[dict[str, Any]] = []
    for live in hub.matches.values():
        match = live.match
        if match.phase is not Phase.ACTIVE:
            continue
        listed.append({
            "id": match.id,
            "game": match.game,
            "status": match.phase.value,
            "players": [{"name": s.name, "bot": s.bot is not None} if s else None
                        for s in match.seats],
            "moves": len(match.moves),
            "watchers": len(live.watchers),
            "started_at": match.created_at,
        })
    listed.sort(key=lambda entry: int(entry["started_at"]), reverse=True)
    return {"matches": listed}


@router.get("/api/matches/{match_id}")
async def match_detail(match_id: str, request: Request) -> dict[str, Any]:
    hub = _hub(request)
    try:
        live = await hub.live(match_id)
    except ProtocolError:
        raise HTTPException(status_code=404, detail="no such match") from None
    return {"id": match_id, "version": live.match.version, "view": live.views.of(None),
            "moves": list(live.match.moves)}


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


@router.post("/_test/clock")
async def advance_clock(body: ClockAdvance, request: Request) -> dict[str, Any]:
    hub = _hub(request)
    if not hub.settings.test_clock or not isinstance(hub.clock, ManualClock):
        raise HTTPException(status_code=404)
    now = hub.clock.advance(body.ms)
    await hub.fire_due()
    return {"now": now}
