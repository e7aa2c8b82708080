"""What each client message does: identity, lobby, play, watching and sync."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from typing import Any

import structlog

from game.bots import LEVELS
from game.core.lobby import Lobby
from game.core.match import Join, OfferRematch, Phase, PlayMove, Presence, Resign, Seat
from game.protocol import messages as m
from game.protocol.errors import CloseCode, ErrorCode, ProtocolError
from game.rules import GAMES
from game.server.connection import Connection
from game.server.hub import Hub, new_id
from game.store.base import PlayerRecord

log = structlog.get_logger("game.handlers")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def error_message(
    error: ProtocolError, ref: Any = None, match: str | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "error", "code": error.code.value, "message": error.message}
    if ref is not None:
        message["ref"] = ref
    if match is not None:
        message["match"] = match
    return message


def _check_game(game: str) -> None:
    if game not in GAMES:
        raise ProtocolError(ErrorCode.UNKNOWN_GAME, f"unknown game; known: {', '.join(GAMES)}")


class Handlers:
    def __init__(self, hub: Hub, lobby: Lobby) -> None:
        self.hub = hub
        self.lobby = lobby

    async def dispatch(self, conn: Connection, msg: m.AnyClientMessage) -> None:
        ref = msg.id
        match_id = getattr(msg, "match", None)
        try:
            player = conn.player
            if type(msg) is m.Move and player is not None:  # the common case, first
                await self._command(conn, msg.match, PlayMove(player, msg.move, msg.version,
                                                              ref), ref)
                return
            if isinstance(msg, m.Hello):
                await self.hello(conn, msg)
                return
            if isinstance(msg, m.Ping):
                conn.send({"type": "pong", "ref": ref, "at": self.hub.clock.now_ms()})
                return
            if conn.player is None:
                raise ProtocolError(ErrorCode.HELLO_FIRST, "say hello first")
            await self._route(conn, msg)
        except ProtocolError as error:
            conn.send(error_message(error, ref, match_id))

    async def _route(self, conn: Connection, msg: m.AnyClientMessage) -> None:
        assert conn.player is not None  # moves never get here: `dispatch` takes them first
        if isinstance(msg, m.Resign):
            await self._command(conn, msg.match, Resign(conn.player), msg.id)
        elif isinstance(msg, m.Rematch):
            await self._command(conn, msg.match, OfferRematch(conn.player), msg.id)
        elif isinstance(msg, m.Queue):
            await self.queue(conn, msg)
        elif isinstance(msg, m.Unqueue):
            game = self.lobby.dequeue(conn.player)
            conn.send({"type": "unqueued", "game": game, "ref": msg.id})
        elif isinstance(msg, m.CreateRoom):
            await self.create_room(conn, msg)
        elif isinstance(msg, m.JoinRoom):
            await self.join_room(conn, msg)
        elif isinstance(msg, m.PlayBot):
            await self.play_bot(conn, msg)
        elif isinstance(msg, m.Watch):
            await self.watch(conn, msg)
        elif isinstance(msg, m.Unwatch):
            await self.unwatch(conn, msg.match)
            live = await self.hub.live(msg.match)
            conn.send({"type": "ack", "ref": msg.id, "match": msg.match,
                       "version": live.match.version})
        elif isinstance(msg, m.Sync):
            await self.sync(conn, msg)

    async def _command(self, conn: Connection, match_id: str, command: Any, ref: Any) -> None:
        transition = await self.hub.submit(match_id, command)
        if transition.error is not None:
            raise transition.error
        if transition.ack_version is not None:
            conn.send({"type": "ack", "ref": ref, "match": match_id,
                       "version": transition.ack_version})

    # ---- identity --------------------------------------------------------------------

    async def hello(self, conn: Connection, msg: m.Hello) -> None:
        if conn.player is not None:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "hello was already said")
        if msg.token is not None:
            record = await self.hub.store.player_by_token_hash(token_hash(msg.token))
            if record is None:
                raise ProtocolError(ErrorCode.BAD_TOKEN, "unknown token; say hello without one")
            token = msg.token
            if msg.name and msg.name != record.name:
                record = PlayerRecord(record.id, msg.name, record.token_hash)
                await self.hub.store.save_player(record)
        else:
            token = secrets.token_urlsafe(24)
            name = msg.name or f"Guest {secrets.randbelow(9000) + 1000}"
            record = PlayerRecord(new_id(), name, token_hash(token))
            await self.hub.store.save_player(record)
        previous = self.hub.connections.get(record.id)
        if previous is not None and previous is not conn:
            previous.player = None
            previous.close(CloseCode.REPLACED, "replaced by a newer connection")
        conn.player, conn.name = record.id, record.name
        self.hub.connections[record.id] = conn
        live_ids = self.hub.live_matches_of(record.id)
        conn.send({"type": "welcome", "player": record.id, "name": record.name, "token": token,
                   "matches": live_ids, "ref": msg.id})
        structlog.contextvars.bind_contextvars(player=record.id)
        log.info("hello", player=record.id, resumed=msg.token is not None, matches=len(live_ids))
        for match_id in live_ids:
            live = await self.hub.live(match_id)
            seat = live.match.seat_of(record.id)
            conn.send(self.hub.snapshot(live, seat))
            await self.hub.submit(match_id, Presence(record.id, True))

    async def disconnect(self, conn: Connection) -> None:
        for match_id in list(conn.watching):
            await self.unwatch(conn, match_id)
        player = conn.player
        if player is None or self.hub.connections.get(player) is not conn:
            return
        del self.hub.connections[player]
        self.lobby.dequeue(player)
        if self.hub.stopping:
            return
        for match_id in self.hub.live_matches_of(player):
            await self.hub.submit(match_id, Presence(player, False))

    # ---- lobby -----------------------------------------------------------------------

    def _check_room_for_another(self, conn: Connection) -> None:
        """A player holds at most `max_live_matches_per_player` live matches (rooms
        waiting included), so a hostile client cannot fill memory with open rooms or
        abandoned bot matches."""
        assert conn.player is not None
        limit = self.hub.settings.max_live_matches_per_player
        if len(self.hub.live_matches_of(conn.player)) >= limit:
            raise ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"you already have {limit} live matches; finish or resign one first",
            )

    def _seat(self, conn: Connection) -> Seat:
        assert conn.player is not None and conn.name is not None
        return Seat(conn.player, conn.name)

    async def queue(self, conn: Connection, msg: m.Queue) -> None:
        assert conn.player is not None
        _check_game(msg.game)
        self._check_room_for_another(conn)
        pairing = self.lobby.enqueue(conn.player, msg.game)
        conn.send({"type": "queued", "game": msg.game, "ref": msg.id})
        if pairing is None:
            return
        seats = []
        for player in (pairing.first, pairing.second):
            other = self.hub.connections[player]
            seats.append(self._seat(other))
        await self.hub.create(self.hub.new_match(msg.game, (seats[0], seats[1])))

    async def create_room(self, conn: Connection, msg: m.CreateRoom) -> None:
        _check_game(msg.game)
        self._check_room_for_another(conn)
        clocks = self.hub.clocks
        if msg.turn_seconds is not None:
            clocks = replace(clocks, turn_ms=msg.turn_seconds * 1000)
        if msg.grace_seconds is not None:
            clocks = replace(clocks, grace_ms=msg.grace_seconds * 1000)
        match = self.hub.new_match(msg.game, (self._seat(conn), None), clocks)
        expires = match.created_at + match.clocks.room_ttl_ms
        room = self.lobby.open_room(msg.game, match.id, self._seat(conn).player, expires)
        match = replace(match, room=room.code)
        conn.send({"type": "room", "code": room.code, "game": msg.game, "match": match.id,
                   "ref": msg.id})
        await self.hub.create(match)

    async def join_room(self, conn: Connection, msg: m.JoinRoom) -> None:
        room = self.lobby.room(msg.code)
        transition = await self.hub.submit(room.match, Join(self._seat(conn)))
        if transition.error is not None:
            raise transition.error
        if transition.match.phase is not Phase.WAITING:
            self.lobby.close_room(room.code)
        assert conn.player is not None
        if not transition.changed:
            live = await self.hub.live(room.match)
            conn.send(self.hub.snapshot(live, live.match.seat_of(conn.player), msg.id))
            return
        self.hub.player_matches.setdefault(conn.player, set()).add(room.match)
        conn.send({"type": "ack", "ref": msg.id, "match": room.match,
                   "version": transition.match.version})

    async def play_bot(self, conn: Connection, msg: m.PlayBot) -> None:
        _check_game(msg.game)
        self._check_room_for_another(conn)
        if msg.level not in LEVELS and msg.level not in self.hub.settings.bot_plugins:
            known = ", ".join(LEVELS)
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"unknown bot level; known: {known}")
        bot = Seat(f"bot-{msg.level}-{new_id()}", f"{msg.level.capitalize()} bot", bot=msg.level)
        human = self._seat(conn)
        seats = (bot, human) if msg.seat == 1 else (human, bot)
        await self.hub.create(self.hub.new_match(msg.game, seats), (human.player, msg.id))

    # ---- watching and sync -----------------------------------------------------------

    async def watch(self, conn: Connection, msg: m.Watch) -> None:
        live = await self.hub.live(msg.match)
        assert conn.player is not None
        seat = live.match.seat_of(conn.player)
        if seat is not None:
            conn.send(self.hub.snapshot(live, seat, msg.id))
            return
        if msg.match not in conn.watching:
            conn.watching.add(msg.match)
            live.watchers.add(conn)
            self.hub.watchers_changed(live)
        conn.send(self.hub.snapshot(live, None, msg.id))

    async def unwatch(self, conn: Connection, match_id: str) -> None:
        conn.watching.discard(match_id)
        live = self.hub.matches.get(match_id)
        if live is not None and conn in live.watchers:
            live.watchers.discard(conn)
            self.hub.watchers_changed(live)

    async def sync(self, conn: Connection, msg: m.Sync) -> None:
        live = await self.hub.live(msg.match)
        assert conn.player is not None
        seat = live.match.seat_of(conn.player)
        if seat is None and msg.match not in conn.watching:
            raise ProtocolError(ErrorCode.NOT_A_PLAYER, "watch the match to follow it")
        patches = None if msg.since is None else self.hub.patches_since(live, seat, msg.since)
        if patches is None:
            conn.send(self.hub.snapshot(live, seat, msg.id))
            return
        for patch in patches:
            conn.send(patch)
        conn.send({"type": "ack", "ref": msg.id, "match": msg.match,
                   "version": live.match.version})
