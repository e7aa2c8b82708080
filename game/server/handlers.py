"""What each client message does: identity, lobby, play, watching and sync."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from typing import Any

import structlog

from game.bots import LEVELS
from game.core.match import Join, OfferRematch, Phase, PlayMove, Resign, Seat
from game.core.quotas import AddressQuota, address_key
from game.protocol import messages as m
from game.protocol.errors import CloseCode, ErrorCode, ProtocolError
from game.rules import GAMES
from game.server.connection import Connection
from game.server.hub import Hub, new_id
from game.server.lobby_port import LobbyPort
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
    def __init__(self, hub: Hub, lobby: LobbyPort) -> None:
        self.hub = hub
        self.lobby = lobby
        self.metrics = hub.metrics
        settings = hub.settings
        self.new_players = AddressQuota(settings.new_players_per_address_per_minute,
                                        settings.tracked_addresses)

    async def dispatch(self, conn: Connection, msg: m.AnyClientMessage) -> None:
        ref = msg.id
        match_id = getattr(msg, "match", None)
        metrics = self.metrics
        metrics.commands[msg.type] += 1
        try:
            player = conn.player
            if type(msg) is m.Move and player is not None:  # the common case, first
                started = metrics.move_seconds.start()
                await self._command(conn, msg.match, PlayMove(player, msg.move, msg.version,
                                                              ref), ref)
                metrics.move_seconds.stop(started)
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
            metrics.error(error.code)
            conn.send(error_message(error, ref, match_id))

    async def _route(self, conn: Connection, msg: m.AnyClientMessage) -> None:
        assert conn.player is not None  # moves never get here: `dispatch` takes them first
        if self.hub.stopping and isinstance(msg, m.Queue | m.CreateRoom | m.PlayBot):
            # draining (game.server.drain): matches in play go on, no new ones start here
            raise ProtocolError(ErrorCode.UNAVAILABLE, "the server is restarting; start the "
                                "match again once reconnected")
        if isinstance(msg, m.Resign):
            await self._command(conn, msg.match, Resign(conn.player), msg.id)
        elif isinstance(msg, m.Rematch):
            await self.rematch(conn, msg)
        elif isinstance(msg, m.Queue):
            await self.queue(conn, msg)
        elif isinstance(msg, m.Unqueue):
            game = await self.lobby.dequeue(conn.player)
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
        self._check_name(msg.name)
        if msg.token is not None:
            record = await self.hub.store.player_by_token_hash(token_hash(msg.token))
            if record is None:
                raise ProtocolError(ErrorCode.BAD_TOKEN, "unknown token; say hello without one")
            token = msg.token
            if (msg.name and msg.name != record.name) or msg.bot != record.bot:
                record = PlayerRecord(record.id, msg.name or record.name, record.token_hash,
                                      msg.bot)
                await self.hub.store.save_player(record)
        else:
            self._admit_new_player(conn)
            token = secrets.token_urlsafe(24)
            name = msg.name or f"Guest {secrets.randbelow(9000) + 1000}"
            record = PlayerRecord(new_id(), name, token_hash(token), msg.bot)
            await self.hub.store.save_player(record)
        previous = self.hub.connections.get(record.id)
        if previous is not None and previous is not conn:
            previous.player = None
            # the older connection's queue entry goes with it: the newer one never asked
            # to queue (and its `disconnect` no longer speaks for the player)
            await self.lobby.dequeue(record.id)
            previous.close(CloseCode.REPLACED, "replaced by a newer connection")
        conn.player, conn.name, conn.bot = record.id, record.name, record.bot
        self.hub.connections[record.id] = conn
        await self.hub.arrived(conn)
        live_ids = await self.hub.matches_of(record.id)
        conn.send({"type": "welcome", "player": record.id, "name": record.name, "token": token,
                   "matches": live_ids, "ref": msg.id})
        structlog.contextvars.bind_contextvars(player=record.id)
        log.info("hello", player=record.id, resumed=msg.token is not None, matches=len(live_ids))
        for match_id in live_ids:
            live = await self.hub.live(match_id)
            seat = live.match.seat_of(record.id)
            conn.send(self.hub.snapshot(live, seat))
            await self.hub.present(record.id, match_id)

    def _check_name(self, name: str | None) -> None:
        """Names are cleaned when the message is parsed (`messages.clean_name`); one
        that reads as a built-in bot's ("Hard bot") would mislead the opponent."""
        levels = (*LEVELS, *self.hub.settings.bot_plugins)
        if name is not None and m.claims_bot_name(name, levels):
            raise ProtocolError(ErrorCode.BAD_MESSAGE,
                                "that name is a built-in bot's; choose another")

    def _admit_new_player(self, conn: Connection) -> None:
        """A hello without a token makes a player (a row kept in the store for good):
        at most `new_players_per_address_per_minute` per client address. The refused
        connection stays open to resume with a token; without a player it is closed
        1008 at the hello timeout."""
        key = address_key(conn.address)
        refusal = self.new_players.take(key, self.hub.clock.now_ms() / 1000)
        if refusal is None:
            return
        self.metrics.refused("new_players")
        if refusal.first:
            log.warning("new_players_limited", address=key)
        wait = max(1, round(refusal.retry_after))
        raise ProtocolError(
            ErrorCode.RATE_LIMITED,
            f"too many new players from your address; say hello with your token, or retry "
            f"without one in {wait} s",
        )

    async def disconnect(self, conn: Connection) -> None:
        for match_id in list(conn.watching):
            await self.unwatch(conn, match_id)
        player = conn.player
        if player is None or self.hub.connections.get(player) is not conn:
            return
        del self.hub.connections[player]
        await self.lobby.dequeue(player)
        if self.hub.stopping:
            return
        await self.hub.left(player)

    # ---- lobby -----------------------------------------------------------------------

    async def _check_room_for_another(self, conn: Connection) -> None:
        """A player holds at most `max_live_matches_per_player` live matches (rooms
        waiting included), so a hostile client cannot fill memory with open rooms or
        abandoned bot matches."""
        assert conn.player is not None
        if await self._at_match_cap(conn.player):
            limit = self.hub.settings.max_live_matches_per_player
            self.metrics.refused("live_matches")
            raise ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"you already have {limit} live matches; finish or resign one first",
            )

    async def _at_match_cap(self, player: str) -> bool:
        held = await self.hub.live_match_count(player)
        return held >= self.hub.settings.max_live_matches_per_player

    async def _unqueue_over_cap(self, game: str) -> None:
        """Before pairing: a waiting player who reached the live-match cap while in the
        queue (rooms, bot matches) is taken out and told so; whoever queues next is
        paired with the next one waiting, or waits in turn."""
        while (waiting := await self.lobby.first_waiting(game)) is not None:
            if not await self._at_match_cap(waiting):
                return
            await self.lobby.dequeue(waiting)
            conn = self.hub.connections.get(waiting)
            if conn is None:
                continue
            limit = self.hub.settings.max_live_matches_per_player
            conn.send(error_message(ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"taken out of the {game} queue: you have {limit} live matches; finish or "
                f"resign one, then queue again")))
            self.metrics.error(ErrorCode.RATE_LIMITED)
            conn.send({"type": "unqueued", "game": game})

    def _seat(self, conn: Connection) -> Seat:
        assert conn.player is not None and conn.name is not None
        return Seat(conn.player, conn.name, program=conn.bot)

    async def queue(self, conn: Connection, msg: m.Queue) -> None:
        assert conn.player is not None
        _check_game(msg.game)
        await self._check_room_for_another(conn)
        await self._unqueue_over_cap(msg.game)
        pairing = await self.lobby.enqueue(conn.player, msg.game)
        conn.send({"type": "queued", "game": msg.game, "ref": msg.id})
        if pairing is None:
            return
        seats = [await self.hub.seat_for(player) for player in (pairing.first, pairing.second)]
        await self.hub.create(self.hub.new_match(msg.game, (seats[0], seats[1]), rated=True))

    async def rematch(self, conn: Connection, msg: m.Rematch) -> None:
        """An offer that may start a new match counts against the same limits as any
        other way of starting one (a bot accepts at once, so a player could otherwise
        pile up bot matches by rematching old ones); a resent offer is acked again."""
        assert conn.player is not None
        match = (await self.hub.live(msg.match)).match
        seat = match.seat_of(conn.player)
        command = OfferRematch(conn.player)
        if (seat is None or match.phase is not Phase.FINISHED or match.rematch[seat]
                or match.next_match is not None):
            await self._command(conn, msg.match, command, msg.id)  # the core answers
            return
        await self._check_room_for_another(conn)
        opponent = match.seats[1 - seat]
        if opponent is None or opponent.bot is None:
            await self._command(conn, msg.match, command, msg.id)
            return
        with self.hub.bots.admit(self.hub, conn.player, address_key(conn.address)):
            await self._command(conn, msg.match, command, msg.id)

    async def create_room(self, conn: Connection, msg: m.CreateRoom) -> None:
        _check_game(msg.game)
        await self._check_room_for_another(conn)
        address = address_key(conn.address)
        limit = self.hub.settings.max_open_rooms_per_address
        if await self.lobby.open_rooms_at(address) >= limit:
            self.metrics.refused("rooms")
            raise ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"your address has {limit} rooms waiting for a second player; let one be "
                f"joined or cancel it first",
            )
        time_control = self.hub.time_control
        if msg.turn_seconds is not None:
            time_control = replace(time_control, turn_ms=msg.turn_seconds * 1000)
        if msg.grace_seconds is not None:
            time_control = replace(time_control, grace_ms=msg.grace_seconds * 1000)
        match = self.hub.new_match(msg.game, (self._seat(conn), None), time_control,
                                   rated=msg.rated)
        expires = match.created_at + match.time_control.room_ttl_ms
        room = await self.lobby.open_room(msg.game, match.id, self._seat(conn).player, expires,
                                          address)
        match = replace(match, room=room.code)
        answer = {"type": "room", "code": room.code, "game": msg.game, "match": match.id,
                  "ref": msg.id}
        try:
            await self.hub.create(match, first=(conn, answer))
        except ProtocolError:
            await self.lobby.close_room(room.code)  # never stored: no code may lead to it
            raise

    async def join_room(self, conn: Connection, msg: m.JoinRoom) -> None:
        room = await self.lobby.room(msg.code)
        assert conn.player is not None
        if room.match not in await self.hub.matches_of(conn.player):
            await self._check_room_for_another(conn)  # sitting in it already: answered below
        transition = await self.hub.submit(room.match, Join(self._seat(conn)))
        if transition.error is not None:
            raise transition.error
        if transition.match.phase is not Phase.WAITING:
            await self.lobby.close_room(room.code)
        assert conn.player is not None
        if not transition.changed:
            live = await self.hub.live(room.match)
            conn.send(self.hub.snapshot(live, live.match.seat_of(conn.player), msg.id))
            return
        await self.hub.seated(conn.player, room.match)
        conn.send({"type": "ack", "ref": msg.id, "match": room.match,
                   "version": transition.match.version})

    async def play_bot(self, conn: Connection, msg: m.PlayBot) -> None:
        _check_game(msg.game)
        await self._check_room_for_another(conn)
        if msg.level not in LEVELS and msg.level not in self.hub.settings.bot_plugins:
            known = ", ".join(LEVELS)
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"unknown bot level; known: {known}")
        bot = Seat(f"bot-{msg.level}-{new_id()}", f"{msg.level.capitalize()} bot", bot=msg.level)
        human = self._seat(conn)
        seats = (bot, human) if msg.seat == 1 else (human, bot)
        # per-player and per-address bot-match limits (rate_limited past them)
        with self.hub.bots.admit(self.hub, human.player, address_key(conn.address)):
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
