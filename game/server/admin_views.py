"""What the admin API shows: live matches with their players' connections, one match
inspected, and the connections themselves, as plain JSON-ready dicts.

Read-only over the hub's registry: nothing here changes a match or a connection.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from game.core.match import Match, Phase, Seat
from game.core.records import to_record
from game.server.connection import Connection
from game.server.hub import Hub, LiveMatch
from game.server.listing import Key, decode_cursor, encode_cursor


def connection_entry(hub: Hub, conn: Connection) -> dict[str, Any]:
    """One WebSocket connection: who, from where, in which codec, doing what."""
    player = conn.player
    return {"player": player, "name": conn.name, "address": conn.address,
            "codec": conn.codec.value, "queued": conn.queued, "closing": conn.closing,
            "watching": sorted(conn.watching),
            "matches": hub.live_matches_of(player) if player is not None else []}


def _seat_entry(hub: Hub, index: int, seat: Seat | None) -> dict[str, Any] | None:
    if seat is None:
        return None
    conn = hub.connections.get(seat.player) if seat.bot is None else None
    return {"seat": index, "player": seat.player, "name": seat.name, "bot": seat.bot,
            "online": seat.online, "grace": seat.grace,
            "connection": None if conn is None else connection_entry(hub, conn)}


def match_summary(hub: Hub, match: Match) -> dict[str, Any]:
    result = match.result
    return {
        "id": match.id, "game": match.game, "status": match.phase.value,
        "version": match.version, "created_at": match.created_at,
        "deadline": match.deadline, "turn": match.turn, "moves": len(match.moves),
        "room": match.room, "watchers": hub.watcher_count(match),
        "result": None if result is None else {"winner": result.winner,
                                               "reason": result.reason.value},
        "players": [_seat_entry(hub, index, seat) for index, seat in enumerate(match.seats)],
    }


def match_page(hub: Hub, matches: list[Match], limit: int,
               cursor: str | None) -> dict[str, Any]:
    """Live `matches` (rooms still waiting included), newest first, `limit` at a time;
    `cursor` is an earlier page's `next`. Sorted afresh for each request: the admin
    API is for one operator, not for pollers (those use /api/matches)."""
    by_key = {(match.created_at, match.id): match for match in matches
              if match.phase is not Phase.FINISHED}
    keys: list[Key] = sorted(by_key)
    end = len(keys) if cursor is None else bisect_left(keys, decode_cursor(cursor))
    start = max(0, end - limit)
    chosen = [by_key[key] for key in reversed(keys[start:end])]
    return {"matches": [match_summary(hub, match) for match in chosen],
            "next": encode_cursor(keys[start]) if start > 0 else None, "total": len(keys)}


def match_detail(hub: Hub, live: LiveMatch) -> dict[str, Any]:
    """Everything about one match: the stored record, the spectators' view, the moves,
    and the connections of its players and watchers."""
    match: Match = live.match
    record = to_record(match)
    record.pop("recent", None)  # move refs kept to acknowledge resends: noise here
    watchers = sorted((connection_entry(hub, conn) for conn in live.watchers),
                      key=lambda entry: str(entry["player"]))
    return {"summary": match_summary(hub, match), "record": record,
            "view": hub.views(live).of(None), "moves": list(match.moves), "watchers": watchers}


def connection_page(hub: Hub, limit: int, cursor: str | None) -> dict[str, Any]:
    """Players' connections by player id, `limit` at a time after `cursor` (the last
    player id of the previous page)."""
    players = sorted(hub.connections)
    start = 0 if cursor is None else bisect_left(players, cursor)
    if cursor is not None and start < len(players) and players[start] == cursor:
        start += 1
    chosen = players[start:start + limit]
    more = start + limit < len(players)
    return {"connections": [connection_entry(hub, hub.connections[p]) for p in chosen],
            "next": chosen[-1] if more and chosen else None, "total": len(players)}
