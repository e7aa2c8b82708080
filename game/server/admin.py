"""The admin API under /api/admin/: see and end matches, kick connections, speak to
everyone. Off unless `GAME_ADMIN_TOKEN` is set.

Off, every /api/admin/* answers 404, as if the routes did not exist. On, a request
needs `Authorization: Bearer TOKEN`, compared in constant time; anything else is 401.
The check runs before FastAPI reads or validates a body (`AdminRoute`), so neither
state nor shapes leak to a caller without the token. The token is never logged, and
refusals are logged once per client address, so probing cannot flood the log.

Ending a match is a command like a player's resignation (`Adjudicate`, through
`hub.submit`): committed, versioned, and patched out to its players and spectators.
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, model_validator

from game.core.match import Adjudicate, Reason
from game.core.quotas import address_key
from game.protocol.codec import encode_json_bytes
from game.protocol.errors import CloseCode, ErrorCode, ProtocolError
from game.server.admin_views import connection_page, match_detail, match_page
from game.server.hub import Hub
from game.server.listing import BadCursor

log = structlog.get_logger("game.admin")

KICK_CODE = CloseCode.POLICY
KICK_REASON = "kicked by an operator"
"""A kick closes with 1008: clients treat it as final (no automatic reconnect), unlike
the codes they retry on; the player may come back with their token."""
NOTICE_MAX_CHARS = 500
_REFUSALS_KEPT = 1024

_bearer = HTTPBearer(
    auto_error=False, scheme_name="adminToken",
    description="the server's GAME_ADMIN_TOKEN, as `Authorization: Bearer TOKEN`")


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


# ---- the guard ---------------------------------------------------------------------


def _presented(request: Request) -> bytes | None:
    """The bearer token of the request, as the bytes that were sent."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    # Starlette decodes headers as latin-1: this gives back the bytes on the wire
    return value.strip().encode("latin-1", errors="replace")


def _refusal(request: Request) -> Response | None:
    """None if the request may use the admin API; else the 404 or 401 to answer."""
    token = _hub(request).settings.admin_token
    if token is None:
        return Response(b'{"detail":"Not Found"}', 404, media_type="application/json")
    presented = _presented(request)
    expected = token.get_secret_value().encode("utf-8")
    if presented is not None and hmac.compare_digest(presented, expected):
        return None
    _log_refusal(request, "missing" if presented is None else "wrong")
    return Response(b'{"detail":"a valid admin token is needed"}', 401,
                    headers={"WWW-Authenticate": "Bearer"}, media_type="application/json")


def _log_refusal(request: Request, why: str) -> None:
    address = address_key(request.client.host if request.client else "?")
    state = request.app.state
    seen: OrderedDict[str, None] | None = getattr(state, "admin_refused", None)
    if seen is None:
        seen = state.admin_refused = OrderedDict()
    if address in seen:
        return
    seen[address] = None
    if len(seen) > _REFUSALS_KEPT:
        seen.popitem(last=False)
    log.warning("admin_refused", address=address, credentials=why, path=request.url.path)


class AdminRoute(APIRoute):
    """Checks the token before FastAPI parses anything of the request."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            refusal = _refusal(request)
            if refusal is not None:
                return refusal
            return await handler(request)

        return guarded


router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AdminRoute,
                   dependencies=[Depends(_bearer)],  # documents the scheme in OpenAPI
                   responses={401: {"description": "no token, or a wrong one"},
                              404: {"description": "the admin API is off (no "
                                    "GAME_ADMIN_TOKEN), or no such match or player"}})


def _json(body: dict[str, Any]) -> Response:
    return Response(encode_json_bytes(body), media_type="application/json")


def _page_size(hub: Hub, limit: int | None) -> int:
    settings = hub.settings
    return min(limit or settings.match_list_limit, settings.match_list_max_limit)


def _actor(request: Request) -> str:
    return request.client.host if request.client else "?"


# ---- matches -----------------------------------------------------------------------


@router.get("/matches")
async def list_matches(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="matches in the page")] = None,
    cursor: Annotated[str | None, Query(max_length=100, description="an earlier page's "
                                        "`next`: the page that follows it")] = None,
) -> Response:
    """Live matches (rooms still waiting included), newest first, a page at a time:
    `{"matches": [...], "next": cursor or null, "total": n}`. Each lists its players
    with their online state and connection (address, codec), its watchers, version
    and deadline."""
    hub = _hub(request)
    try:
        return _json(match_page(hub, await hub.world_matches(), _page_size(hub, limit),
                                cursor))
    except BadCursor as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None


@router.get("/matches/{match_id}")
async def inspect_match(match_id: str, request: Request) -> Response:
    """One match, live or finished: `summary`, the stored `record`, the spectators'
    `view`, the `moves`, and its `watchers`' connections."""
    hub = _hub(request)
    try:
        live = await hub.live(match_id)
    except ProtocolError:
        raise HTTPException(status_code=404, detail="no such match") from None
    return _json(match_detail(hub, live))


class EndMatch(BaseModel):
    """`aborted`: called off, nobody wins or loses. `adjudicated`: decided by the
    operator, for seat `winner` (0 or 1) or a draw (`null`)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"result": "aborted"}, {"result": "adjudicated", "winner": 1}]})
    result: Literal["aborted", "adjudicated"]
    winner: Annotated[int, Field(ge=0, le=1, strict=True)] | None = Field(
        None, description="the winning seat, 0 or 1; null for a draw (`adjudicated` only)")

    @model_validator(mode="after")
    def _winner_only_when_adjudicated(self) -> EndMatch:
        if self.result == "aborted" and self.winner is not None:
            raise ValueError("an aborted match has no winner")
        return self


_END_STATUS = {ErrorCode.UNKNOWN_MATCH: 404, ErrorCode.MATCH_OVER: 409,
               ErrorCode.BAD_MESSAGE: 409, ErrorCode.UNAVAILABLE: 503}


@router.post("/matches/{match_id}/end",
             responses={409: {"description": "the match is over already, or a waiting "
                                              "room was to be adjudicated"},
                        503: {"description": "the store refused the commit; retry"}})
async def end_match(match_id: str, body: EndMatch, request: Request) -> Response:
    """End a match now, as a normal versioned change: its players and spectators get
    the patch with the result (`aborted`, or `adjudicated` with the winner)."""
    hub = _hub(request)
    reason = Reason.ABORTED if body.result == "aborted" else Reason.ADJUDICATED
    try:
        transition = await hub.submit(match_id, Adjudicate(reason, body.winner))
    except ProtocolError as error:
        transition_error: ProtocolError | None = error
    else:
        transition_error = transition.error
    if transition_error is not None:
        status = _END_STATUS.get(transition_error.code, 409)
        raise HTTPException(status_code=status, detail=transition_error.message)
    match = transition.match
    log.warning("admin_match_ended", match=match_id, result=body.result,
                winner=body.winner, version=match.version, by=_actor(request))
    return _json({"match": match_id, "version": match.version,
                  "result": {"winner": body.winner, "reason": reason.value}})


# ---- connections and notices -------------------------------------------------------


@router.get("/connections")
async def list_connections(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="connections in the page")] = None,
    cursor: Annotated[str | None, Query(max_length=100, description="an earlier page's "
                                        "`next`: the page that follows it")] = None,
) -> Response:
    """Players' WebSocket connections by player id, a page at a time:
    `{"connections": [...], "next", "total", "sockets", "anonymous"}`; `anonymous`
    counts sockets that have not said hello yet."""
    hub = _hub(request)
    page = connection_page(hub, _page_size(hub, limit), cursor)
    sockets = request.app.state.gate.total
    page.update(sockets=sockets, anonymous=max(0, sockets - len(hub.connections)))
    return _json(page)


@router.post("/connections/{player}/kick")
async def kick(player: str, request: Request) -> Response:
    """Close a player's connection with 1008 (`kicked by an operator`). Clients do not
    reconnect on their own after 1008; the player's seats go offline and their grace
    periods start, as for any drop. A kick is not a ban: the token still works."""
    hub = _hub(request)
    conn = hub.connections.get(player)
    address = conn.address if conn is not None else None
    try:
        processes = await hub.kick(player, KICK_CODE, KICK_REASON)
    except ProtocolError as error:
        raise HTTPException(status_code=503, detail=error.message) from None
    if not processes:
        raise HTTPException(status_code=404, detail="that player is not connected")
    log.warning("admin_kick", player=player, address=address, processes=processes,
                by=_actor(request))
    return _json({"player": player, "code": int(KICK_CODE), "reason": KICK_REASON})


class NoticeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    message: str = Field(min_length=1, max_length=NOTICE_MAX_CHARS,
                         description="shown to every connected client")


@router.post("/notice")
async def notice(body: NoticeBody, request: Request) -> Response:
    """Send `{"type": "notice", "reason": "operator", "message": ...}` to every open
    WebSocket connection (encoded once per codec): `{"sent": n, "processes": 1}`; in
    the Redis mode every process sends to its own, `{"processes": n}`."""
    message = {"type": "notice", "reason": "operator", "message": body.message}
    try:
        reached = await _hub(request).broadcast(message)
    except ProtocolError as error:
        raise HTTPException(status_code=503, detail=error.message) from None
    log.warning("admin_notice", **reached, chars=len(body.message), by=_actor(request))
    return _json(reached)
