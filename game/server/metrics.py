"""Prometheus metrics of one app, served at `GET /metrics` (text format 0.0.4).

Events (moves, commands, errors, closes, refusals, latencies) are counted where they
happen in plain ints and lists, and turned into metric families only when scraped:
prometheus-client's own `Counter` and `Histogram` take a lock per update (a histogram
two), which cost ~8 % of the server's moves per CPU-second in `game loadtest` (100
matches, A/B). Every update, and every scrape (an `async` route), runs on the event
loop's thread, so nothing needs a lock. The two latencies on the move path are timed
for one move (one commit) in `metrics_timing_sample`. Levels
(connections, live matches, send queues, bot workers) are read from the hub and the
gate at scrape time too (`RuntimeCollector`), never kept up to date per frame.

Each app has its own `CollectorRegistry`, so several apps in one process (tests)
never share figures, and a lone process serves its own. The workers of `game serve
--workers N` share one port, so a scrape reaches one of them at random: there (after
`share_through(directory)`, which game.server.workers calls in each worker) the same
figures are also copied once a second, and at each scrape, into prometheus-client's
multiprocess files, and `/metrics` answers for every worker (game.server.metric_files).

In the Redis mode, `watch_redis` times every Redis call and script by operation, counts
Redis errors, and `observe_pubsub_lag` takes each delivered patch's lag.

Who may read `/metrics`: see `metrics_allowed`.
"""

from __future__ import annotations

import asyncio
import contextlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from prometheus_client import GC_COLLECTOR, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from game.core.match import Phase
from game.protocol.codec import Codec
from game.protocol.errors import ErrorCode
from game.protocol.messages import CLIENT_TYPES
from game.rules import GAMES
from game.server.forwarded import parse_address, parse_networks
from game.server.metric_files import MetricFiles, per_worker

if TYPE_CHECKING:
    from game.server.bot_worker import Answer, Job
    from game.server.connection import Connection
    from game.server.hub import Hub
    from game.server.session import Gate
    from game.store.redis.client import RedisClient

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

Refusal = Literal["messages", "flood", "new_players", "rooms", "live_matches",
                  "bot_matches", "http", "connections"]
REFUSALS: Final[tuple[Refusal, ...]] = ("messages", "flood", "new_players", "rooms",
                                         "live_matches", "bot_matches", "http", "connections")
ROLES: Final = ("anonymous", "idle", "player", "spectator")
LIVE_PHASES: Final = (Phase.WAITING, Phase.ACTIVE)
BOT_OUTCOMES: Final = ("ok", "overran", "error", "crashed", "stuck", "busy")
TRY_AGAIN_LATER = 1013

_COMMIT_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
_MOVE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                 0.25, 0.5, 1.0)
_THINK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
_WAIT_BUCKETS = (0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_REDIS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                  0.25, 0.5, 1.0, 2.5)
_LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                5.0, 10.0)
SHARE_SECONDS = 1.0
"""How often a worker of `--workers` copies its figures into the shared files."""

_sharing: list[str] = []
"""The directory of this process's shared files, once `share_through` named one."""


def share_through(directory: str) -> None:
    """This process is one worker of `--workers`: every `Metrics` made from now on also
    copies its figures into `directory` and serves every worker's (see the module)."""
    _sharing[:] = [directory]

K = TypeVar("K", str, tuple[str, str])


def close_label(code: int | None) -> str:
    """A close code as a label: the standard codes as themselves, the 3000-4999 a peer
    may send as one value, so a peer cannot mint a series per connection."""
    if code is None:
        return "1006"  # the transport went away without a closing handshake
    return str(code) if 1000 <= code <= 1015 else "other"


class Counts(dict[K, int]):
    """A counter family: label value(s) -> count. `counts[key] += 1` is the update."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str],
                 keys: Iterable[K] = ()) -> None:
        super().__init__()
        for key in keys:
            self[key] = 0
        self.name = name
        self.documentation = documentation
        self.labels = list(labels)

    def bump(self, key: K) -> None:
        self[key] = self.get(key, 0) + 1

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for key, count in self.items():
            family.add_metric([key] if isinstance(key, str) else list(key), count)
        return family


class Timings:
    """The counts and sum of a histogram; `observe` is a bisection and two additions.

    `start` and `stop` time one event in `every` (the others cost a countdown): on the
    move path, two clock readings and an observation are a measurable share of a move.
    """

    __slots__ = ("bounds", "counts", "every", "skip", "total")

    def __init__(self, bounds: Sequence[float], every: int = 1) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one: above every bound
        self.total = 0.0
        self.every = every
        self.skip = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1  # `le`: a bound counts as in
        self.total += seconds

    def start(self) -> float:
        """The clock for an event to time, else 0.0 (`stop` then does nothing)."""
        if self.skip:
            self.skip -= 1
            return 0.0
        self.skip = self.every - 1
        return perf_counter()

    def stop(self, started: float) -> None:
        if started:
            self.observe(perf_counter() - started)

    def add_to(self, family: HistogramMetricFamily, labels: Sequence[str] = ()) -> None:
        buckets, running = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            buckets.append((_le(bound), float(running)))
        family.add_metric(list(labels), buckets, self.total)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def _histogram(name: str, documentation: str, timings: Timings) -> Metric:
    family = HistogramMetricFamily(name, documentation)
    timings.add_to(family)
    return family


class Metrics(Collector):
    """The registry of one app and its event counts (bumped on the loop's thread)."""

    def __init__(self, timing_sample: int = 1) -> None:
        self.local = CollectorRegistry()
        """This process's figures; what `/metrics` serves unless the process shares."""
        self.registry = self.local
        self.files: MetricFiles | None = None
        if _sharing:
            self.files = MetricFiles(_sharing[0])
            self.registry = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(self.registry, _sharing[0])  # type: ignore[no-untyped-call]
        self._sharer: asyncio.Task[None] | None = None
        ProcessCollector(registry=self.local)  # CPU seconds, memory, open descriptors
        self.local.register(GC_COLLECTOR)
        self.moves: Counts[str] = Counts(
            "game_moves", "Moves applied (players' and bots'), by game", ["game"], GAMES)
        self.commands: Counts[str] = Counts(
            "game_commands", "Client messages handled, by type (a message refused before "
            "dispatch counts as an error only)", ["type"], sorted(CLIENT_TYPES))
        self.errors: Counts[str] = Counts(
            "game_errors", "Error messages sent to clients, by code", ["code"],
            (code.value for code in ErrorCode))
        self.closes: Counts[tuple[str, str]] = Counts(
            "game_closes", "WebSocket sessions ended, by close code and by who closed: the "
            "server, the peer, or nobody (the transport was lost: 1006)", ["code", "by"])
        self.slow_readers = 0
        self.refusals: Counts[str] = Counts(
            "game_refusals", "Requests refused by a rate limit or a cap, by kind: messages "
            "(rate_limited), flood (closed 1008), new_players, rooms, live_matches, "
            "bot_matches, http (429), connections (a connection cap: 403)", ["kind"],
            REFUSALS)
        self.bot_turns: Counts[str] = Counts(
            "game_bot_turns", "Bot turns asked of the workers, by outcome", ["outcome"],
            BOT_OUTCOMES)
        self.commit_seconds = Timings(_COMMIT_BUCKETS, timing_sample)
        self.move_seconds = Timings(_MOVE_BUCKETS, timing_sample)
        self.bot_wait_seconds = Timings(_WAIT_BUCKETS)
        self.bot_think_seconds: dict[tuple[str, str], Timings] = {}
        """By (game, level)."""
        self.redis_watched = False
        self.redis_seconds: dict[tuple[str, str], Timings] = {}
        """By (operation, kind)."""
        self.redis_errors: Counts[tuple[str, str]] = Counts(
            "game_redis_errors", "Redis calls and scripts that failed, by operation and "
            "error (ConnectionError, TimeoutError: Redis did not answer)", ["op", "error"])
        self.pubsub_lag = Timings(_LAG_BUCKETS)
        self.local.register(self)

    def watch(self, hub: Hub, gate: Gate) -> None:
        """Report the levels of this hub and gate at each scrape."""
        self.local.register(RuntimeCollector(hub, gate))

    def exposition(self) -> bytes:
        """The text of a scrape: this process's figures, or every worker's."""
        self.share()
        return generate_latest(self.registry)

    # ---- --workers: the shared files -------------------------------------------------------

    def share(self) -> None:
        """Copy this process's figures into the shared files (when it shares them)."""
        if self.files is None:
            return
        families = list(self.local.collect())
        websockets = sum(sample.value for family in families
                         if family.name == "game_websocket_connections"
                         for sample in family.samples)
        mine = GaugeMetricFamily("game_worker_websockets", "Open WebSocket connections of "
                                 "this worker", value=websockets)
        self.files.write(families, [*per_worker(families), mine])

    def start_sharing(self, every: float = SHARE_SECONDS) -> None:
        """From the event loop: `share` every `every` seconds until the loop ends."""
        if self.files is not None and self._sharer is None:
            self.share()  # before the supervisor hears that this worker serves
            self._sharer = asyncio.get_running_loop().create_task(self._share_every(every))

    async def _share_every(self, every: float) -> None:
        try:
            while True:
                await asyncio.sleep(every)
                self.share()
        finally:  # the loop is ending (the server stopped): the last figures count too
            with contextlib.suppress(Exception):
                self.share()

    # ---- the Redis mode ---------------------------------------------------------------------

    def watch_redis(self, redis: RedisClient) -> None:
        """Time every call and script `redis` makes, and count its errors."""
        redis.observer = self.observe_redis
        self.redis_watched = True

    def observe_redis(self, op: str, kind: str, seconds: float,
                      error: BaseException | None) -> None:
        """A `RedisClient.observer`: one call or script of `op` is over."""
        timings = self.redis_seconds.get((op, kind))
        if timings is None:
            timings = self.redis_seconds[(op, kind)] = Timings(_REDIS_BUCKETS)
        timings.observe(seconds)
        if error is not None:
            self.redis_errors.bump((op, type(error).__name__))

    def observe_pubsub_lag(self, ms: float) -> None:
        """A committed patch reached this process `ms` after its commit: the shared
        clock's now minus its `Patches.at` (below 0, from clock error, counts as 0)."""
        self.pubsub_lag.observe(max(0.0, ms) / 1000)

    # ---- events that are not on the move path --------------------------------------------

    def error(self, code: ErrorCode) -> None:
        self.errors[code.value] += 1

    def refused(self, kind: Refusal) -> None:
        self.refusals[kind] += 1

    def closed(self, conn: Connection) -> None:
        """A session ended (called once per session)."""
        code = conn.close_code
        by = "peer" if conn.closed_by_peer else "lost" if code is None else "server"
        self.closes.bump((close_label(code), by))
        if code == TRY_AGAIN_LATER and by == "server":
            self.slow_readers += 1

    def bot_turn(self, job: Job, answer: Answer, waited: float | None = None,
                 thought: float | None = None) -> None:
        """A bot turn answered, after `waited` seconds in the queue and `thought` in a
        worker (None: it never reached one)."""
        if answer[0] in self.bot_turns:
            self.bot_turns[answer[0]] += 1
        if waited is not None:
            self.bot_wait_seconds.observe(waited)
        if thought is not None:
            key = (job[1], job[2])  # game, level: both from closed sets
            timings = self.bot_think_seconds.get(key)
            if timings is None:
                timings = self.bot_think_seconds[key] = Timings(_THINK_BUCKETS)
            timings.observe(thought)

    # ---- the scrape ------------------------------------------------------------------------

    def describe(self) -> Iterable[Metric]:
        return self.collect()  # the same names, and cheap: no walk over connections

    def collect(self) -> Iterable[Metric]:
        think = HistogramMetricFamily(
            "game_bot_think_seconds", "From a bot turn's hand-off to a worker to its answer",
            labels=["game", "level"])
        for labels, timings in self.bot_think_seconds.items():
            timings.add_to(think, labels)
        slow = CounterMetricFamily(
            "game_slow_readers_dropped", "Connections closed 1013 because they fell "
            "send_queue_limit frames behind", value=self.slow_readers)
        return [
            *(counts.family() for counts in (self.moves, self.commands, self.errors,
                                              self.closes, self.refusals, self.bot_turns)),
            slow,
            _histogram("game_store_commit_seconds", "Time the store took to commit a change "
                       "(one commit in metrics_timing_sample is timed)", self.commit_seconds),
            _histogram("game_move_publish_seconds", "From a client's parsed move to its "
                       "patches and ack queued for sending: lock wait, core, commit, views, "
                       "encoding (one move in metrics_timing_sample is timed)",
                       self.move_seconds),
            _histogram("game_bot_queue_wait_seconds", "Time a bot turn waited for a free "
                       "worker", self.bot_wait_seconds),
            think,
            *self._redis(),
        ]

    def _redis(self) -> list[Metric]:
        if not self.redis_watched and not any(self.pubsub_lag.counts):
            return []  # the embedded store: no Redis figures at all
        trips = HistogramMetricFamily(
            "game_redis_seconds", "Redis round trips: each call or script by the operation "
            "that made it (kind call or script), failed ones included", labels=["op", "kind"])
        for labels, timings in self.redis_seconds.items():
            timings.add_to(trips, labels)
        return [trips, self.redis_errors.family(),
                _histogram("game_redis_pubsub_lag_seconds", "From a patch's commit (its time "
                           "on the shared clock) to its delivery to this process by pub/sub",
                           self.pubsub_lag)]


_GAUGES: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "game_websocket_connections": (
        "Open WebSocket connections by role (anonymous, idle, player, spectator) and codec",
        ("role", "codec")),
    "game_http_sockets": ("Sockets counted from their accept that are not (yet) WebSockets",
                          ()),
    "game_send_queue_frames": ("Frames waiting in the connections' send queues, in total "
                               "(frames wait only while a transport refuses data)", ()),
    "game_send_queue_deepest_frames": ("The longest send queue of any connection, in frames "
                                       "(closed 1013 at send_queue_limit)", ()),
    "game_send_buffer_bytes": ("Bytes held in the transports' write buffers, in total "
                               "(native endpoint)", ()),
    "game_live_matches": ("Matches in play in this process, by game and status",
                          ("game", "status")),
    "game_bot_queue": ("Bot turns waiting for a worker", ()),
    "game_bot_workers": ("Bot worker processes by state", ("state",)),
}


def _gauge(name: str, value: float | None = None) -> GaugeMetricFamily:
    documentation, labels = _GAUGES[name]
    return GaugeMetricFamily(name, documentation, value=value,
                             labels=labels if value is None else None)


class RuntimeCollector(Collector):
    """Gauges read from the hub and the gate at scrape time, not kept per frame.

    The role of an open WebSocket: `anonymous` before its hello (or once a newer
    connection replaced it), `player` while seated in a live match (a room waiting
    for its second player included), else `spectator` while watching a match, else
    `idle` (in the lobby or a queue). One scrape walks every connection and live
    match once: a few milliseconds for ten thousand.
    """

    def __init__(self, hub: Hub, gate: Gate) -> None:
        self.hub = hub
        self.gate = gate

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(name, documentation) for name, (documentation, _) in
                _GAUGES.items()]

    def collect(self) -> Iterable[Metric]:
        return [*self._connections(), self._matches(), *self._bots()]

    def _connections(self) -> Iterator[Metric]:
        hub = self.hub
        roles = {(role, codec.value): 0 for role in ROLES for codec in Codec}
        deepest = queued = buffered = 0
        for conn in self.gate.open:
            roles[_role(conn, hub.connections, hub.player_matches), conn.codec.value] += 1
            depth = conn.queued
            queued += depth
            deepest = max(deepest, depth)
            buffered += _buffered(conn)
        family = _gauge("game_websocket_connections")
        for (role, codec), count in roles.items():
            family.add_metric([role, codec], count)
        yield family
        yield _gauge("game_http_sockets", self.gate.http)
        yield _gauge("game_send_queue_frames", queued)
        yield _gauge("game_send_queue_deepest_frames", deepest)
        yield _gauge("game_send_buffer_bytes", buffered)

    def _matches(self) -> Metric:
        counts = {(game, phase.value): 0 for game in GAMES for phase in LIVE_PHASES}
        for live in self.hub.matches.values():
            match = live.match
            if match.phase is not Phase.FINISHED:
                key = (match.game, match.phase.value)
                counts[key] = counts.get(key, 0) + 1
        family = _gauge("game_live_matches")
        for (game, status), count in counts.items():
            family.add_metric([game, status], count)
        return family

    def _bots(self) -> Iterator[Metric]:
        pool = self.hub.bots.pool
        yield _gauge("game_bot_queue", pool.queued)
        family = _gauge("game_bot_workers")
        for state, count in pool.states.items():
            family.add_metric([state], count)
        yield family


def _role(conn: Connection, current: Mapping[str, Connection],
          seated: Mapping[str, set[str]]) -> str:
    player = conn.player
    if player is None or current.get(player) is not conn:
        return "anonymous"
    if seated.get(player):
        return "player"
    return "spectator" if conn.watching else "idle"


def _buffered(conn: Connection) -> int:
    transport: Any = getattr(conn, "transport", None)  # the native endpoint's connections
    if transport is None or getattr(conn, "gone", False):
        return 0
    size: int = transport.get_write_buffer_size()
    return size


def metrics_allowed(client: str | None, headers: Mapping[str, str],
                    networks: Iterable[str]) -> bool:
    """May this request read `/metrics`? Only from `metrics_networks` (loopback by
    default), and never when a proxy relayed it: a reverse proxy on the same machine
    connects from loopback, so its forwarding header is what tells an outside client
    apart. Prometheus scrapes the server directly, not through the proxy."""
    if client is None or any(name in headers for name in _RELAYED):
        return False
    ip = parse_address(client)
    return ip is not None and any(ip.version == net.version and ip in net
                                  for net in parse_networks(networks))


_RELAYED = ("x-forwarded-for", "forwarded", "x-real-ip")
