"""The hub of the Redis mode: any process serves any player of any match.

Every process keeps the matches its connections play or watch, as the one-process hub
does, but none of them owns a match: a command is handled against the copy held here
and committed by Redis' version compare; when another process committed first, this
copy catches up (`_refresh`) and the command is handled again. A commit publishes the
viewers' patches with the new record on the match's sharded channel; every process
that holds the match applies them in version order (`_on_patches`) and forwards them to
its own sockets. A gap (a version skipped, a resubscription) is repaired from the
patches stored with the match, or, when those are gone, by a snapshot.

What no single process may own runs on shared structures (`game.store.redis`):
deadlines sit in a sorted set any process fires (`sweep.Sweeper`), presence is a lease
per process, a bot's turn is thought by the one process holding its lease, and a
player connected elsewhere learns of a new match from a notice on their inbox.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from typing import Any

import orjson
import structlog

from game.core.match import Match, Phase, Presence, Seat, SetWatchers
from game.core.records import from_record
from game.core.views import Step, Viewer, views_of
from game.protocol.errors import ErrorCode, ProtocolError
from game.server.bots import BotRunner
from game.server.clock import Clock
from game.server.cluster.lobby import RedisLobby
from game.server.connection import Connection
from game.server.history import History, decode_steps, encode_steps
from game.server.hub import Hub, LiveMatch
from game.server.metrics import Metrics
from game.server.settings import Settings
from game.store.redis.errors import StoreUnavailable
from game.store.redis.feed import Inbox, MatchFeed
from game.store.redis.keys import rematch_id
from game.store.redis.leases import BotLeases, Watchers
from game.store.redis.matches import Patches
from game.store.redis.players import PlayerMatches
from game.store.redis.presence import Presence as PresenceLeases
from game.store.redis.store import RedisStore

log = structlog.get_logger("game.cluster")

NOTICE_MATCH = b"match:"
"""An inbox notice: the player sits in the match named after this prefix."""
NOTICE_KICK = b"kick:"
"""An inbox notice: close the player's connection (code, then reason, after this)."""
EVERYONE = "*"
"""The inbox every process listens to: messages for every connection (admin notices)."""
WORLD_CACHE_MS = 1000
"""How long the list of every live match is reused (pollers must not scan Redis)."""


def same_players(before: Match, after: Match) -> bool:
    """Whether each seat is held by the same player (or by nobody) in both."""
    return all((a.player if a is not None else None) == (b.player if b is not None else None)
               for a, b in zip(before.seats, after.seats, strict=True))


def moves_deadline_earlier(before: Match, after: Match) -> bool:
    """Whether the shared deadline index must be written for `after` (committed over
    `before`). Commits only ever need to bring an entry earlier: one left too early
    fires as a tick that changes nothing and writes the real deadline back (the
    sweeper), so a move, which only pushes the turn deadline later, writes nothing."""
    if after.phase is Phase.FINISHED or after.phase is not before.phase:
        return True
    turn = after.turn
    seat = after.seats[turn] if turn is not None else None
    if seat is not None and seat.bot is not None:
        return True  # a bot's turn is looked at again soon (sweep.BOT_RECHECK_MS)
    new, old = after.next_wakeup(), before.next_wakeup()
    return new is not None and (old is None or new < old)


class ClusterHub(Hub):
    def __init__(
        self, settings: Settings, store: RedisStore, clock: Clock, bots: BotRunner,
        lobby: RedisLobby, metrics: Metrics | None = None, pid: str | None = None,
    ) -> None:
        super().__init__(settings, store, clock, bots, lobby, metrics)
        self.redis_store = store
        self.redis_lobby = lobby
        self.pid = pid or secrets.token_hex(6)
        redis = store.redis
        self.feed = MatchFeed(redis, self._on_patches, self._on_gap, follower=self.pid)
        self.inbox = Inbox(redis, self._on_notice, self._on_inbox_gap)
        self.presence = PresenceLeases(redis, self.pid, ttl_ms=int(
            settings.presence_lease_seconds * 1000))
        self.bot_leases = BotLeases(redis)
        self.watcher_counts = Watchers(redis, self.pid)
        self.players = PlayerMatches(redis, store.matches)
        self.held: dict[str, set[str]] = {}
        """Player -> the matches whose seat this process holds for them (connected)."""
        self.inbound: dict[str, dict[int, Patches]] = {}
        """Patches received ahead of the match's version here, or while it was locked."""
        self._catching: set[str] = set()
        self.due: dict[str, Match] = {}
        """Matches whose next deadline is to be written to the shared index."""
        self._world: tuple[int, list[Match]] | None = None

    # ---- following matches -----------------------------------------------------------

    async def live(self, match_id: str) -> LiveMatch:
        live = self.matches.get(match_id)
        if live is not None:
            return live
        await self._subscribe(match_id)  # first: nothing committed after the read is missed
        try:
            stored = await self.store.get_match(match_id)
        except StoreUnavailable as exc:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable; retry") from exc
        if stored is None:
            if match_id not in self.matches:
                self.spawn(self.feed.remove(match_id))
            raise ProtocolError(ErrorCode.UNKNOWN_MATCH, "no such match")
        return self.matches.get(match_id) or self._register(stored)

    async def _subscribe(self, match_id: str) -> None:
        try:
            await self.feed.add(match_id)
        except StoreUnavailable as exc:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable; retry") from exc

    def _forgotten(self, match_id: str) -> None:
        self.inbound.pop(match_id, None)
        self.spawn(self.feed.remove(match_id))

    def _on_patches(self, match_id: str, patches: Patches) -> None:
        live = self.matches.get(match_id)
        if live is None or patches.version <= live.match.version:
            return  # not followed here, or this process's own commit
        self.metrics.observe_pubsub_lag(self.clock.now_ms() - patches.at)
        self.inbound.setdefault(match_id, {})[patches.version] = patches
        if not live.lock.locked():
            self._drain(live)

    def _on_gap(self, match_id: str) -> None:
        live = self.matches.get(match_id)
        if live is not None:
            self._catch_up_later(live)

    def _unlocked(self, live: LiveMatch) -> None:
        if live.match.id in self.inbound:
            self._drain(live)

    def _drain(self, live: LiveMatch) -> None:
        """Apply the received patches that follow the version here, in order."""
        box = self.inbound.get(live.match.id)
        if not box:
            return
        applied = False
        while (patches := box.pop(live.match.version + 1, None)) is not None:
            self._apply_remote(live, patches)
            applied = True
        for version in [v for v in box if v <= live.match.version]:
            del box[version]
        if box:
            self._catch_up_later(live)  # a version is missing: read it from the history
        else:
            del self.inbound[live.match.id]
        if applied:
            self._after(live)

    def _apply_remote(self, live: LiveMatch, patches: Patches) -> None:
        """A published commit (it carries its record): `live.match`, the version before,
        saves replaying the whole game."""
        if patches.record is None:  # not published by this version of the server
            self._catch_up_later(live)
            return
        match = from_record(orjson.loads(patches.record), live.match)
        self._deliver(live, match, None, decode_steps(patches.payload), patches.at,
                      patches.payload)

    def _catch_up_later(self, live: LiveMatch) -> None:
        if live.match.id not in self._catching:
            self._catching.add(live.match.id)
            self.spawn(self._catch_up(live))

    async def _catch_up(self, live: LiveMatch) -> None:
        try:
            async with live.lock:
                changed = await self._refresh(live)
        except StoreUnavailable as exc:
            self.outage.failed("catch_up_failed", exc, match=live.match.id)
            changed = False
        finally:
            self._catching.discard(live.match.id)
        self._unlocked(live)
        if changed:
            self._after(live)

    async def _refresh(self, live: LiveMatch) -> bool:
        """Catch up with the stored match (the lock held): the stored patches in order,
        or a snapshot to everyone here when they are no longer kept."""
        match_id = live.match.id
        stored = await self.store.get_match(match_id)
        if stored is None or stored.version <= live.match.version:
            return False
        kept = await self.redis_store.patches_since(match_id, live.match.version,
                                                    stored.version)
        if kept is None or any(not p.payload for p in kept) \
                or not same_players(live.match, stored):
            self._reset(live, stored)
        else:  # the stored history has no records: forward each version, then the last
            for patches in kept:
                self._forward(live, stored, patches)
            live.match = stored
        box = self.inbound.get(match_id, {})
        for version in [v for v in box if v <= live.match.version]:
            del box[version]
        return True

    def _forward(self, live: LiveMatch, last: Match, patches: Patches) -> None:
        """Send one stored version's patches to the connections here (the seats held by
        the same players from it to `last`)."""
        steps = decode_steps(patches.payload)
        live.history.add_blob(patches.version, patches.at, patches.payload)
        live.at = patches.at
        self.send_steps(live, last, patches.version, steps, patches.at)

    def _reset(self, live: LiveMatch, match: Match) -> None:
        log.info("match_resynced", match=match.id, version=match.version,
                 was=live.match.version)
        live.match, live.views = match, views_of(match)
        live.history = History(self.settings.history_versions)
        live.at = self.clock.now_ms()
        for viewer, seat in enumerate(match.seats):
            conn = self.connections.get(seat.player) if seat is not None else None
            if conn is not None:
                conn.send(self.snapshot(live, viewer))
        for conn in live.watchers:
            conn.send(self.snapshot(live, None))

    # ---- committing ------------------------------------------------------------------

    async def _store_commit(
        self, match: Match, expected: int, fresh: Match | None,
        steps: dict[Viewer, Step] | None, at: int,
    ) -> None:
        patches = None
        if steps is not None:  # the commit script publishes them with the record
            patches = Patches(match.version, at, encode_steps(steps))
        if fresh is None:
            await self.redis_store.commit(match, expected, patches, committer=self.pid)
        else:
            for seat in fresh.seats:
                if seat is not None and seat.bot is None:
                    await self.players.add(seat.player, fresh.id)
            await self.redis_store.commit_many(((match, expected), (fresh, 0)),
                                               [patches, None], committer=self.pid)
            self.due[fresh.id] = fresh
        known = self.matches.get(match.id)
        if known is None or expected == 0 or moves_deadline_earlier(known.match, match):
            self.due[match.id] = match

    @staticmethod
    def rematch_id(old_id: str) -> str:
        return rematch_id(old_id)  # the same hash tag: one script commits both

    # ---- new matches -----------------------------------------------------------------

    async def create(
        self, match: Match, answer: tuple[str, Any] | None = None,
        first: tuple[Connection, dict[str, Any]] | None = None,
    ) -> LiveMatch:
        await self._subscribe(match.id)
        try:
            for seat in match.seats:
                if seat is not None and seat.bot is None:
                    await self.players.add(seat.player, match.id)
        except StoreUnavailable as exc:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable; retry") from exc
        live = await super().create(match, answer, first)
        await self._seat_everyone(live.match)
        return live

    def _open_rematch(self, fresh: Match) -> None:
        self._open(fresh)
        self.spawn(self._follow_rematch(fresh))

    async def _follow_rematch(self, fresh: Match) -> None:
        await self._subscribe(fresh.id)
        live = self.matches.get(fresh.id)
        if live is not None and not live.lock.locked():
            self._catch_up_later(live)  # a move made before the subscription held
        await self._seat_everyone(fresh)

    async def _seat_everyone(self, match: Match) -> None:
        """The seated players of a match just created: the ones connected here hold
        their seat, the others are told wherever they are; one connected nowhere is
        offline (their grace starts)."""
        for seat in match.seats:
            if seat is None or seat.bot is not None:
                continue
            if seat.player in self.connections:
                await self._hold(seat.player, match.id)
                continue
            listening = await self.inbox.send(seat.player, NOTICE_MATCH + match.id.encode())
            if not listening:
                await self.submit(match.id, Presence(seat.player, False))

    def _on_notice(self, player: str, payload: bytes) -> None:
        if player == EVERYONE:
            self.send_to_everyone(orjson.loads(payload))
        elif payload.startswith(NOTICE_MATCH):
            match_id = payload[len(NOTICE_MATCH):].decode()
            self.spawn(self._seat_here(player, match_id))
        elif payload.startswith(NOTICE_KICK):
            code, _, reason = payload[len(NOTICE_KICK):].partition(b":")
            conn = self.connections.get(player)
            if conn is not None:
                conn.close(int(code), reason.decode())

    def _on_inbox_gap(self, player: str) -> None:
        self.spawn(self._rejoin_all(player))

    async def _rejoin_all(self, player: str) -> None:
        """Notices may have been missed: take up every match the player sits in."""
        for match_id in await self.players.of(player):
            if match_id not in self.held.get(player, ()):
                await self._seat_here(player, match_id)

    async def _seat_here(self, player: str, match_id: str) -> None:
        """`player`, connected here, was seated in `match_id` by another process."""
        conn = self.connections.get(player)
        if conn is None:
            return
        live = await self.live(match_id)
        seat = live.match.seat_of(player)
        if seat is None:
            return
        self.player_matches.setdefault(player, set()).add(match_id)
        await self._hold(player, match_id)
        conn.send(self.snapshot(live, seat))
        placed = live.match.seats[seat]
        if placed is not None and not placed.online and live.match.phase is not Phase.FINISHED:
            await self.submit(match_id, Presence(player, True))

    # ---- the whole world --------------------------------------------------------------

    async def world_matches(self) -> list[Match]:
        now = self.clock.now_ms()
        if self._world is None or now - self._world[0] > WORLD_CACHE_MS:
            try:
                self._world = (now, await self.store.live_matches())
            except StoreUnavailable as exc:
                raise ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable") from exc
        return self._world[1]

    def watcher_count(self, match: Match) -> int:
        return match.watchers  # the sum over every process, as last committed

    async def kick(self, player: str, code: int, reason: str) -> int:
        payload = NOTICE_KICK + f"{code}:{reason}".encode()
        try:
            return await self.inbox.send(player, payload)
        except StoreUnavailable as exc:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable") from exc

    async def broadcast(self, message: dict[str, Any]) -> dict[str, int]:
        try:  # every process listens, this one too: each sends to its own connections
            reached = await self.inbox.send(EVERYONE, orjson.dumps(message))
        except StoreUnavailable as exc:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable") from exc
        return {"processes": reached}

    async def listen_to_everyone(self) -> None:
        await self.inbox.listen(EVERYONE)

    # ---- players -----------------------------------------------------------------------

    async def matches_of(self, player: str) -> list[str]:
        try:
            return await self.players.of(player)
        except StoreUnavailable as exc:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable; retry") from exc

    async def live_match_count(self, player: str) -> int:
        return len(await self.matches_of(player))

    async def seat_for(self, player: str) -> Seat:
        conn = self.connections.get(player)
        if conn is not None:
            return await super().seat_for(player)
        record = await self.store.player_by_id(player)
        if record is None:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "a paired player is unknown; retry")
        return Seat(record.id, record.name, program=record.bot)

    async def seated(self, player: str, match_id: str) -> None:
        await super().seated(player, match_id)
        await self.players.add(player, match_id)
        await self._hold(player, match_id)

    async def arrived(self, conn: Connection) -> None:
        assert conn.player is not None
        try:
            await self.inbox.listen(conn.player)
        except StoreUnavailable as exc:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable; retry") from exc

    async def present(self, player: str, match_id: str) -> None:
        await self._hold(player, match_id)
        await super().present(player, match_id)

    async def left(self, player: str) -> None:
        for match_id in self.held.pop(player, set()):
            live = self.matches.get(match_id)
            seat = live.match.seat_of(player) if live is not None else None
            if seat is None:
                continue
            try:
                if await self.presence.release(match_id, seat):
                    await self.submit(match_id, Presence(player, False))
                    await self.presence.settled([(match_id, seat)])
            except StoreUnavailable as exc:  # the lease lapses: another process reports it
                self.outage.failed("presence_release_failed", exc, match=match_id)
        try:
            await self.inbox.stop(player)
        except StoreUnavailable as exc:
            self.outage.failed("inbox_stop_failed", exc, player=player)

    async def _hold(self, player: str, match_id: str) -> None:
        live = self.matches.get(match_id)
        seat = live.match.seat_of(player) if live is not None else None
        if seat is None:
            return
        await self.presence.hold(match_id, seat, self.clock.now_ms())
        self.held.setdefault(player, set()).add(match_id)

    async def hold_again(self) -> None:
        """This process's leases had lapsed (a long stall): hold every seat again."""
        for player, match_ids in list(self.held.items()):
            for match_id in list(match_ids):
                await self._hold(player, match_id)
                live = self.matches.get(match_id)
                seat = live.match.seat_of(player) if live is not None else None
                if live is not None and seat is not None:
                    placed = live.match.seats[seat]
                    if placed is not None and not placed.online:
                        await self.submit(match_id, Presence(player, True))

    async def seat_gone(self, match_id: str, seat: int) -> None:
        """No live process holds this seat any more (its process died): offline."""
        live = await self.live(match_id)
        placed = live.match.seats[seat]
        if placed is not None and placed.bot is None and placed.online \
                and live.match.phase is not Phase.FINISHED:
            await self.submit(match_id, Presence(placed.player, False))
        await self.presence.settled([(match_id, seat)])

    # ---- bots, endings, watchers -----------------------------------------------------

    def _start_bot(self, live: LiveMatch, seat: Seat) -> None:
        self.spawn(self._leased_bot_turn(live, seat))

    async def _leased_bot_turn(self, live: LiveMatch, seat: Seat) -> None:
        """Think for the bot only under the turn's lease: one process per turn; another
        takes over when the lease lapses (the deadline index asks again)."""
        try:
            lease = await self.bot_leases.acquire(live.match.id, live.match.version)
        except StoreUnavailable:
            lease = None
        if lease is None:
            live.bot_busy = False
            return
        try:
            await self._bot_turn(live, seat)
        finally:
            with contextlib.suppress(StoreUnavailable):  # else it lapses
                await self.bot_leases.release(lease)

    def _on_finished(self, match: Match) -> None:
        super()._on_finished(match)
        for seat in match.seats:
            if seat is not None and seat.bot is None:
                self.spawn(self.players.remove(seat.player, match.id))

    async def _sync_watchers(self, live: LiveMatch) -> None:
        try:
            total = await self.watcher_counts.report(live.match.id, len(live.watchers),
                                                     self.clock.now_ms())
            if total != live.match.watchers and live.match.phase is not Phase.FINISHED:
                await self.submit(live.match.id, SetWatchers(total))
        except StoreUnavailable as exc:
            self.outage.failed("watchers_failed", exc, match=live.match.id)
        finally:
            live.watchers_syncing = False

    def reconsider(self, live: LiveMatch) -> None:
        """Look at the match again: arm its timer, start its bot's turn."""
        self._after(live)

    def watched(self) -> Iterable[LiveMatch]:
        return [live for live in self.matches.values()
                if live.watchers and live.match.phase is not Phase.FINISHED]

    # ---- start and stop --------------------------------------------------------------

    def start(self) -> None:
        """No stall credit here: the other processes' clocks did not stop."""

    async def close(self) -> None:
        await self.feed.close()
        await self.inbox.close()

