"""The match runtime: the one writer of every live match in this process.

Commands go through `submit`, which applies them with the pure core under a
per-match lock, commits the result to the store (compare-and-set on the version)
and only then fans the per-viewer patches out. Deadlines become loop timers and
bots' turns run in worker processes.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from game.core.match import (
    Command,
    Match,
    Phase,
    PlayMove,
    Presence,
    Resign,
    Seat,
    SetWatchers,
    Tick,
    TimeControl,
    Transition,
    handle,
    new_match,
    rematch_of,
    shift_clocks,
)
from game.core.quotas import address_key
from game.core.views import Step, Viewer, Views, updates, views_of
from game.protocol.errors import ErrorCode, ProtocolError
from game.protocol.patch import view_hash
from game.server.bots import BotFailed, BotRunner
from game.server.clock import Clock, ManualClock
from game.server.connection import Connection, Outgoing
from game.server.history import History
from game.server.lobby_port import LobbyPort
from game.server.metrics import Metrics
from game.server.settings import Settings
from game.server.stall import StallWatch, StoreOutage
from game.store.base import Store, VersionConflict

log = structlog.get_logger("game.hub")
FINISHED_HISTORY = 4
"""Versions of patches kept once a match is over (the last moves and the ending)."""
CONFLICT_RETRIES = 3
"""Times a command is handled again after another process committed first."""
CONFLICT = ProtocolError(ErrorCode.UNAVAILABLE, "the match moved on elsewhere; sync and retry")


@dataclass(eq=False)
class LiveMatch:
    match: Match
    views: Views
    history: History
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    watchers: set[Connection] = field(default_factory=set)
    timer: asyncio.TimerHandle | None = None
    timer_at: int = 0
    watchers_timer: asyncio.TimerHandle | None = None
    watchers_syncing: bool = False
    bot_busy: bool = False
    at: int = 0
    ended: bool = False
    """The end was handled (and logged): once per match, not per change after it."""
    credited: int = 0
    """How much of the hub's `stalled_ms` this match's clocks have been credited."""
    failures: int = 0
    """Store failures in a row of this match's timer or bot: sets the retry backoff."""


def new_id() -> str:
    return secrets.token_urlsafe(9)


class Hub:
    def __init__(
        self, settings: Settings, store: Store, clock: Clock, bots: BotRunner, lobby: LobbyPort,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or bots.metrics
        self.settings = settings
        self.lobby = lobby
        self.store = store
        self.clock = clock
        self.bots = bots
        self.matches: dict[str, LiveMatch] = {}
        self.player_matches: dict[str, set[str]] = {}
        self.connections: dict[str, Connection] = {}
        self.stopping = False
        self.stopped_at: int | None = None
        """Epoch ms when `stopping` began: the clocks stood still from then, so the next
        start credits its downtime from this moment (see `begin_stopping`)."""
        self.send_to_everyone: Callable[[dict[str, Any]], int] = lambda message: 0
        """Sends a message to every open connection of this process (set by the app);
        how many."""
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.outage = StoreOutage(settings.store_error_log_seconds)
        self.stalled_ms = 0
        """Every stall of the event loop so far, added up; credited to each match lazily."""
        self.stall = StallWatch(clock, int(settings.stall_credit_seconds * 1000), self._stalled)

    @property
    def time_control(self) -> TimeControl:
        s = self.settings
        return TimeControl(
            turn_ms=int(s.turn_seconds * 1000),
            first_move_ms=int(s.first_move_seconds * 1000),
            grace_ms=int(s.grace_seconds * 1000),
            room_ttl_ms=int(s.room_ttl_seconds * 1000),
        )

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task_failed", exc_info=task.exception())

    # ---- start and stop --------------------------------------------------------------

    async def resume(self, matches: list[Match], downtime_ms: int) -> None:
        """Take over live matches from the store after a restart, crediting the downtime."""
        now = self.clock.now_ms()
        for stored in matches:
            match = shift_clocks(stored, downtime_ms)
            live = self._register(match)
            if match is not stored:
                await self.store.commit(match, stored.version)
            for seat in match.seats:
                if seat is not None and seat.bot is None and seat.online:
                    await self.submit(match.id, Presence(seat.player, False))
            self._after(live)
        log.info("matches_resumed", count=len(matches), downtime_ms=downtime_ms, at=now)

    async def recover_rematches(self, matches: list[Match]) -> None:
        """Start the rematches a crash left agreed but never created: older versions
        stored the agreeing offer, the pointer to the new match and the new match in
        separate commits. Called at start-up, before any finished match is loaded."""
        for old in matches:
            pointed, fresh = rematch_of(old, old.next_match or new_id(), self.clock.now_ms())
            pointed = replace(pointed, version=old.version + 1)
            try:
                await self.store.commit_many(((pointed, old.version), (fresh, 0)))
            except Exception as exc:
                log.error("rematch_recovery_failed", match=old.id, error=repr(exc))
                continue
            log.warning("rematch_recovered", match=old.id, rematch=fresh.id)
            self._open_rematch(fresh)

    def start(self) -> None:
        """Start watching the event loop for stalls (not under a manual test clock,
        which real pauses do not move)."""
        if not isinstance(self.clock, ManualClock):
            self.stall.start()

    def begin_stopping(self) -> None:
        """A drain or a stop begins: no deadline fires and no bot turn or presence
        change starts from now on (moves still apply), so nobody loses on time or by
        abandonment because the server restarts; the restart credits the downtime
        from `stopped_at` (app.py writes it as the last heartbeat)."""
        if self.stopping:
            return
        self.stopping = True
        self.stopped_at = self.clock.now_ms()
        for live in self.matches.values():
            self._disarm(live)

    async def shutdown(self) -> None:
        self.begin_stopping()
        self.stall.stop()
        for live in self.matches.values():
            for handle_ in (live.timer, live.watchers_timer):
                if handle_ is not None:
                    handle_.cancel()
        for task in list(self._tasks):
            task.cancel()

    # ---- registry --------------------------------------------------------------------

    def _register(self, match: Match) -> LiveMatch:
        live = LiveMatch(match, views_of(match), History(self.settings.history_versions))
        live.credited = self.stalled_ms
        self.matches[match.id] = live
        if match.phase is Phase.FINISHED:
            live.ended = True
            self._remember_finished(match.id)
        else:
            for seat in match.seats:
                if seat is not None and seat.bot is None:
                    self.player_matches.setdefault(seat.player, set()).add(match.id)
        return live

    def _remember_finished(self, match_id: str) -> None:
        self._finished[match_id] = None
        self._finished.move_to_end(match_id)
        while len(self._finished) > self.settings.finished_cache:
            old, _ = self._finished.popitem(last=False)
            gone = self.matches.pop(old, None)
            if gone is not None:
                for conn in gone.watchers:
                    conn.watching.discard(old)
                self._forgotten(old)

    def _forgotten(self, match_id: str) -> None:
        """A finished match left this process's cache."""

    async def live(self, match_id: str) -> LiveMatch:
        live = self.matches.get(match_id)
        if live is not None:
            return live
        stored = await self.store.get_match(match_id)
        if stored is None:
            raise ProtocolError(ErrorCode.UNKNOWN_MATCH, "no such match")
        return self.matches.get(match_id) or self._register(stored)

    def live_matches_of(self, player: str) -> list[str]:
        """The live matches of `player` this process knows of."""
        return sorted(self.player_matches.get(player, ()))

    # ---- players: what the Redis mode answers across processes -----------------------

    async def matches_of(self, player: str) -> list[str]:
        """Every live match `player` sits in (the `welcome`'s `matches`)."""
        return self.live_matches_of(player)

    async def live_match_count(self, player: str) -> int:
        return len(self.player_matches.get(player, ()))

    async def seat_for(self, player: str) -> Seat:
        """The seat a player connected somewhere takes in a new match (their name)."""
        conn = self.connections[player]
        assert conn.player is not None and conn.name is not None
        return Seat(conn.player, conn.name, program=conn.bot)

    async def seated(self, player: str, match_id: str) -> None:
        """`player`, connected here, took a seat in `match_id` (joined a room)."""
        self.player_matches.setdefault(player, set()).add(match_id)

    async def arrived(self, conn: Connection) -> None:
        """`conn` said hello and is now `self.connections[conn.player]`."""

    async def present(self, player: str, match_id: str) -> None:
        """`player` is connected here and sits in `match_id`: online."""
        await self.submit(match_id, Presence(player, True))

    async def world_matches(self) -> list[Match]:
        """Every live match (rooms waiting included) of the whole game world: here, the
        ones this process serves; in the Redis mode, every process's."""
        return [live.match for live in self.matches.values()
                if live.match.phase is not Phase.FINISHED]

    def watcher_count(self, match: Match) -> int:
        """Spectators of `match` now: counted here, where one process has them all."""
        live = self.matches.get(match.id)
        return match.watchers if live is None else len(live.watchers)

    async def kick(self, player: str, code: int, reason: str) -> int:
        """Close `player`'s connections (wherever they are, in the Redis mode); how many
        processes had one."""
        conn = self.connections.get(player)
        if conn is None:
            return 0
        conn.close(code, reason)
        return 1

    async def broadcast(self, message: dict[str, Any]) -> dict[str, int]:
        """Send `message` to every connection of the game world: `sent` (connections
        here) and `processes` that took it (in the Redis mode each sends its own)."""
        return {"sent": self.send_to_everyone(message), "processes": 1}

    async def left(self, player: str) -> None:
        """`player`'s connection here is gone: offline in their matches."""
        for match_id in self.live_matches_of(player):
            await self.submit(match_id, Presence(player, False))

    # ---- creating matches ------------------------------------------------------------

    async def create(
        self, match: Match, answer: tuple[str, Any] | None = None,
        first: tuple[Connection, dict[str, Any]] | None = None,
    ) -> LiveMatch:
        """Store and start serving a new match; seated players get its snapshot, the
        one named in `answer` (player, ref) with that ref. `first` is a message for one
        connection that must precede the snapshots (the `room` answer) and must not be
        sent at all if the store refuses the match."""
        error = await self._commit(match, 0)
        if error is not None:
            raise error
        if first is not None:
            first[0].send(first[1])
        return self._open(match, answer)

    def _open(self, match: Match, answer: tuple[str, Any] | None = None) -> LiveMatch:
        """Serve a match just stored: register it, snapshot it to its seated players."""
        live = self._register(match)
        live.at = self.clock.now_ms()
        for viewer, seat in enumerate(match.seats):
            conn = self.connections.get(seat.player) if seat is not None else None
            if conn is not None and seat is not None:
                ref = answer[1] if answer is not None and answer[0] == seat.player else None
                conn.send(self.snapshot(live, viewer, ref))
        self._after(live)
        log.info("match_created", match=match.id, game=match.game, status=match.phase.value)
        return live

    def new_match(
        self, game: str, seats: tuple[Seat | None, Seat | None],
        time_control: TimeControl | None = None, rated: bool = False,
    ) -> Match:
        match = new_match(new_id(), game, time_control or self.time_control,
                          self.clock.now_ms(), seats)
        return replace(match, rated=True) if rated else match

    # ---- applying commands -----------------------------------------------------------

    async def submit(self, match_id: str, command: Command) -> Transition:
        self.stall.check()  # a stall that just ended is credited before `now` is used
        live = self.matches.get(match_id) or await self.live(match_id)
        credited = False
        try:
            async with live.lock:
                if live.credited != self.stalled_ms:
                    owing = live.match
                    error = await self._credit(live)
                    if error is not None:
                        return Transition(owing, error=error)
                    credited = live.match is not owing
                transition = await self._apply(live, command)
        finally:
            self._unlocked(live)  # after the release, as before
        if transition.changed or credited:
            self._after(live)
        return transition

    async def _apply(self, live: LiveMatch, command: Command) -> Transition:
        """Handle `command` against the match and commit the change; with the lock held.
        A commit refused because another process moved the match on is retried against
        the match as it now is (Redis mode; `_refresh` catches up)."""
        for attempt in range(CONFLICT_RETRIES + 1):
            before = live.match
            now = self.clock.now_ms()
            transition = handle(before, command, now)
            if not transition.changed:
                return transition
            fresh = None
            if transition.rematch_agreed:
                pointed, fresh = rematch_of(transition.match, self.rematch_id(before.id), now)
                transition = replace(transition, match=pointed)
            views, steps = updates(self.views(live), transition.match)
            error = await self._commit(transition.match, before.version, fresh, steps, now)
            if error is CONFLICT and attempt < CONFLICT_RETRIES and await self._refresh(live):
                continue
            if error is not None:
                return replace(transition, match=before, changed=False, error=error)
            self._deliver(live, transition.match, views, steps, now)
            if type(command) is PlayMove:
                self.metrics.moves[before.game] += 1
            if fresh is not None:
                self._open_rematch(fresh)
            return transition
        raise AssertionError("unreachable: the last attempt returns")

    def _unlocked(self, live: LiveMatch) -> None:
        """The match's lock was just released (the Redis mode applies what other
        processes committed meanwhile)."""

    async def _refresh(self, live: LiveMatch) -> bool:
        """Catch up with a match another writer moved on; True when it did (the Redis
        mode). One process alone is the only writer: nothing to catch up with."""
        return False

    async def _commit(
        self, match: Match, expected: int, fresh: Match | None = None,
        steps: dict[Viewer, Step] | None = None, at: int = 0,
    ) -> ProtocolError | None:
        """Commit `match` (and, for an agreed rematch, the new match with it, in the same
        commit); the error to answer with when the store refused (`CONFLICT` when the
        stored match is at another version). `steps` are the viewers' patches that lead
        to it, committed at `at` (published by the Redis mode)."""
        started = self.metrics.commit_seconds.start()
        try:
            await self._store_commit(match, expected, fresh, steps, at)
        except VersionConflict:
            log.info("version_conflict", match=match.id, version=expected)
            return CONFLICT
        except Exception as exc:
            self.outage.failed("commit_failed", exc, match=match.id)
            return ProtocolError(ErrorCode.UNAVAILABLE, "storage unavailable; retry")
        self.metrics.commit_seconds.stop(started)
        if self.outage.since is not None:
            self.outage.succeeded()
        return None

    async def _store_commit(
        self, match: Match, expected: int, fresh: Match | None,
        steps: dict[Viewer, Step] | None, at: int,
    ) -> None:
        if fresh is None:
            await self.store.commit(match, expected)
        else:
            await self.store.commit_many(((match, expected), (fresh, 0)))

    @staticmethod
    def views(live: LiveMatch) -> Views:
        """The match's views, computed again if the match changed without them (the
        Redis mode takes other processes' patches as they were published)."""
        views = live.views
        if views.match is not live.match:
            views = live.views = views_of(live.match)
        return views

    def _publish(self, live: LiveMatch, match: Match, now: int) -> None:
        views, steps = updates(self.views(live), match)
        self._deliver(live, match, views, steps, now)

    def _deliver(
        self, live: LiveMatch, match: Match, views: Views | None,
        steps: dict[Viewer, Step], now: int, blob: bytes | None = None,
    ) -> None:
        """`match` is committed: it becomes the live one, and its seated players and
        watchers connected here get their patch (a snapshot for a seat that changed
        hands). `views` None: not computed (see `views`)."""
        before = live.match
        if views is not None:
            live.views = views
        live.match = match
        live.at = now
        if blob is None:
            live.history.add(match.version, now, steps)
        else:
            live.history.add_blob(match.version, now, blob)
        handed = self._snapshot_new_holders(live, before, match)
        self.send_steps(live, match, match.version, steps, now, skip=handed)

    def _snapshot_new_holders(self, live: LiveMatch, before: Match,
                              match: Match) -> tuple[Viewer, ...]:
        """A seat that changed hands gets a snapshot instead of its patch: which did."""
        handed: tuple[Viewer, ...] = ()
        for viewer in (0, 1):
            seat, previous = match.seats[viewer], before.seats[viewer]
            if seat is not None and previous is not None and previous.player == seat.player:
                continue
            handed += (viewer,)
            conn = self.connections.get(seat.player) if seat is not None else None
            if conn is not None:
                conn.send(self.snapshot(live, viewer))
        return handed

    def send_steps(self, live: LiveMatch, match: Match, version: int,
                   steps: dict[Viewer, Step], at: int, skip: tuple[Viewer, ...] = ()) -> None:
        """Send version `version`'s patches to the seated players (but `skip`) and the
        watchers connected here."""
        for viewer in (0, 1):
            seat = match.seats[viewer]
            conn = self.connections.get(seat.player) if seat is not None else None
            if conn is None or viewer in skip:
                continue
            step = steps[viewer]
            conn.send(self._patch(match.id, version, step.ops, step.hash, at))
        if live.watchers:
            step = steps[None]
            shared = Outgoing(self._patch(match.id, version, step.ops, step.hash, at))
            for conn in live.watchers:
                conn.send(shared)

    @staticmethod
    def _patch(
        match_id: str, version: int, ops: list[dict[str, Any]], hash_: int, at: int
    ) -> dict[str, Any]:
        return {"type": "patch", "match": match_id, "version": version, "ops": ops,
                "hash": hash_, "at": at}

    def snapshot(self, live: LiveMatch, viewer: Viewer, ref: Any = None) -> dict[str, Any]:
        view = self.views(live).of(viewer)
        message = {"type": "snapshot", "match": live.match.id, "version": live.match.version,
                   "view": view, "hash": view_hash(view), "at": self.clock.now_ms()}
        if ref is not None:
            message["ref"] = ref
        return message

    def patches_since(
        self, live: LiveMatch, viewer: Viewer, since: int
    ) -> list[dict[str, Any]] | None:
        """The stored patches after `since`, or None when some are no longer kept."""
        kept = live.history.since(since, live.match.version, viewer)
        if kept is None:
            return None
        return [self._patch(live.match.id, version, ops, hash_, at)
                for version, at, ops, hash_ in kept]

    # ---- after a change: timers, bots, endings ---------------------------------------

    def _after(self, live: LiveMatch) -> None:
        match = live.match
        if self.stopping or match.phase is Phase.FINISHED:
            self._disarm(live)
            if match.phase is Phase.FINISHED and not self.stopping and not live.ended:
                live.ended = True  # rematch offers and the like still change it later
                self._on_finished(match)
            return
        self._arm(live)
        turn = match.turn
        seat = match.seats[turn] if turn is not None else None
        if seat is not None and seat.bot is not None and not live.bot_busy:
            live.bot_busy = True
            self._start_bot(live, seat)

    def _arm(self, live: LiveMatch) -> None:
        """Keep one timer per match. Most changes only push the deadline later, so a
        timer that fires no later than the new wakeup is kept; when it fires early the
        tick changes nothing and the timer is armed again."""
        wakeup = live.match.next_wakeup()
        if wakeup is None:
            self._disarm(live)
            return
        if live.timer is not None and live.timer_at <= wakeup:
            return
        self._disarm(live)
        delay = max(0.0, (wakeup - self.clock.now_ms()) / 1000)
        live.timer = asyncio.get_running_loop().call_later(delay, self._fire, live)
        live.timer_at = wakeup

    @staticmethod
    def _disarm(live: LiveMatch) -> None:
        if live.timer is not None:
            live.timer.cancel()
            live.timer = None

    def _fire(self, live: LiveMatch) -> None:
        live.timer = None
        self.stall.check()
        self.spawn(self._tick(live))

    async def _tick(self, live: LiveMatch) -> None:
        transition = await self.submit(live.match.id, Tick())
        if self.stopping:
            return
        if _store_refused(transition):
            # the deadline is still due: firing again at once would spin on the store
            delay = self._backoff(live)
            self._disarm(live)
            live.timer = asyncio.get_running_loop().call_later(delay, self._fire, live)
            live.timer_at = self.clock.now_ms() + int(delay * 1000)
            return
        live.failures = 0
        if not transition.changed:
            self._arm(live)

    def _backoff(self, live: LiveMatch) -> float:
        """Seconds before retrying after this match's latest store failure: doubled per
        failure in a row, up to the cap."""
        live.failures += 1
        first, cap = self.settings.timer_backoff_seconds, self.settings.timer_backoff_max_seconds
        delay: float = min(cap, first * 2.0 ** min(live.failures - 1, 32))
        return delay

    def _on_finished(self, match: Match) -> None:
        live = self.matches.get(match.id)
        if live is not None:
            live.history.keep_last(FINISHED_HISTORY)
        if match.room is not None:
            self.lobby.forget_room(match.room)
        for seat in match.seats:
            if seat is not None and seat.bot is None:
                owned = self.player_matches.get(seat.player)
                if owned is not None:
                    owned.discard(match.id)
                    if not owned:
                        del self.player_matches[seat.player]
        self._remember_finished(match.id)
        if match.result is not None:
            log.info("match_finished", match=match.id, game=match.game,
                     reason=match.result.reason.value, winner=match.result.winner,
                     moves=len(match.moves))

    def _start_bot(self, live: LiveMatch, seat: Seat) -> None:
        self.spawn(self._bot_turn(live, seat))

    @staticmethod
    def rematch_id(old_id: str) -> str:
        """The id of the rematch of match `old_id`."""
        return new_id()

    async def _bot_turn(self, live: LiveMatch, seat: Seat) -> None:
        """One bot move. `bot_busy` stays set until the move is committed, so a change
        that lands while the bot thinks (a watcher, a presence flip) cannot start a
        second search for the same turn."""
        match = live.match
        try:
            command = await self._bot_command(match, seat)
            transition = await self.submit(match.id, command)
        finally:
            live.bot_busy = False
        error = transition.error
        if error is None or not isinstance(command, PlayMove):
            live.failures = 0
            if error is None and isinstance(command, PlayMove):
                # the opponent may have been passed over (othello): the bot moves again,
                # which the change's own _after could not start while bot_busy was set
                self._after(live)
            return
        if error.code is ErrorCode.UNAVAILABLE and live.match.phase is Phase.ACTIVE:
            # the store refused: searching again at once would loop on the failing store
            asyncio.get_running_loop().call_later(self._backoff(live), self._after, live)
            return
        if error.code in (ErrorCode.STALE_VERSION, ErrorCode.NOT_YOUR_TURN,
                          ErrorCode.MATCH_OVER):
            if live.match.phase is Phase.ACTIVE:
                self._after(live)  # the match moved on under the bot: look again
            return
        log.error("bot_move_rejected", match=match.id, code=error.code.value)
        await self.submit(match.id, Resign(seat.player))

    async def _bot_command(self, match: Match, seat: Seat) -> Command:
        try:
            if self.settings.bot_move_delay_ms:
                await asyncio.sleep(self.settings.bot_move_delay_ms / 1000)
            # whose turn this is, so bot workers are shared fairly between people
            human = next((s.player for s in match.seats if s is not None and s.bot is None), "")
            conn = self.connections.get(human)
            address = address_key(conn.address) if conn is not None else None
            move = await self.bots.choose(match.game, seat.bot or "random", match.moves,
                                          player=human, address=address)
        except BotFailed as exc:
            log.error("bot_failed", match=match.id, player=seat.player, error=str(exc))
            return Resign(seat.player)
        return PlayMove(seat.player, move, version=match.version)

    def _open_rematch(self, fresh: Match) -> None:
        """Serve a rematch stored together with the offer that agreed to it."""
        created = self._open(fresh)
        for seat in fresh.seats:
            if seat is not None and seat.bot is None and seat.player not in self.connections:
                self.spawn(self.submit(created.match.id, Presence(seat.player, False)))

    # ---- stalls of the whole process -------------------------------------------------

    def _stalled(self, ms: int) -> None:
        """The loop stood still for `ms`: every live match is owed that much time.
        Each is credited under its own lock before its next command (`submit`); this
        sweep credits the rest, so their players see the deadlines move too."""
        self.stalled_ms += ms
        log.warning("loop_stalled", ms=ms, matches=len(self.matches))
        if not self.stopping:
            self.spawn(self._credit_all())

    async def _credit_all(self) -> None:
        owed = []
        for live in self.matches.values():
            if live.match.phase is not Phase.FINISHED:
                owed.append(live)
            else:  # no clock will ever run again: nothing to shift, nothing to wait for
                live.credited = self.stalled_ms
        await asyncio.gather(*(self._credit_locked(live) for live in owed))

    async def _credit_locked(self, live: LiveMatch) -> None:
        async with live.lock:
            if live.credited == self.stalled_ms:
                return  # a command got here first
            error = await self._credit(live)
        if error is None:
            self._after(live)

    async def _credit(self, live: LiveMatch) -> ProtocolError | None:
        """Move this match's deadlines and graces later by the stalls not yet credited
        to it, committed (as a restart's downtime is) and sent to its viewers. Called
        with the match's lock held."""
        owed = self.stalled_ms - live.credited
        match = live.match
        shifted = shift_clocks(match, owed)
        if shifted is not match:
            shifted = replace(shifted, version=match.version + 1)
            error = await self._commit(shifted, match.version)
            if error is not None:
                return error
            self._publish(live, shifted, self.clock.now_ms())
        live.credited += owed
        return None

    # ---- watchers --------------------------------------------------------------------

    def watchers_changed(self, live: LiveMatch) -> None:
        """Commit the watcher count `watchers_flush_ms` after it changes. At most one
        such commit per match is waiting or running: spectators coming and going faster
        than the store commits must not pile up commits that hold the match's lock
        ahead of the players' moves."""
        if live.watchers_timer is not None or live.watchers_syncing or self.stopping:
            return
        live.watchers_timer = asyncio.get_running_loop().call_later(
            self.settings.watchers_flush_ms / 1000, self._flush_watchers, live
        )

    def _flush_watchers(self, live: LiveMatch) -> None:
        live.watchers_timer = None
        live.watchers_syncing = True
        self.spawn(self._sync_watchers(live))

    async def _sync_watchers(self, live: LiveMatch) -> None:
        try:
            await self.submit(live.match.id, SetWatchers(len(live.watchers)))
        finally:
            live.watchers_syncing = False
        if live.match.watchers != len(live.watchers) and live.match.phase is not Phase.FINISHED:
            self.watchers_changed(live)  # it changed again while this one was committed

    async def fire_due(self) -> None:
        """Apply every deadline that is due now (after a manual clock moved)."""
        now = self.clock.now_ms()
        due = [live.match.id for live in list(self.matches.values())
               if (wakeup := live.match.next_wakeup()) is not None and wakeup <= now]
        for match_id in due:
            await self.submit(match_id, Tick())


def _store_refused(transition: Transition) -> bool:
    error = transition.error
    return error is not None and error.code is ErrorCode.UNAVAILABLE
