"""Runs built-in bots off the event loop, in worker processes, fairly between matches.

A search never runs on the event loop, so no bot can delay another match; a bot
that raises or overruns its budget only affects its own match.

Bot turns wait for one of `workers` worker slots in a fair order (round-robin across
addresses and players, `game.server.bot_pool`); a turn's deadline starts when a
worker takes it. A worker enforces that deadline itself (an interval timer raises
inside the search), so an overrunning bot frees its worker; should a worker still not
answer (stuck in C code), that one worker is killed and replaced, and every other
search goes on. How many bot matches a player or an address may have in play is
limited (`game.server.bot_quota`).

`plugins` maps a level to `"module:function"`, a function
`(game, moves, seed, time_budget) -> move` that plays that level instead of the
built-in bot: for tests (a bot that raises or never returns) and experiments.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from game.protocol.errors import ProtocolError
from game.server.bot_pool import BotPool
from game.server.bot_quota import BotQuota, Host
from game.server.bot_worker import BotOverran, run_bot
from game.server.metrics import Metrics

__all__ = ["BotFailed", "BotOverran", "BotRunner", "run_bot"]

DEFAULT_QUEUE_LIMIT = 256


class BotFailed(Exception):
    """The bot raised, crashed its worker, overran its time, or could not be queued."""


class BotRunner:
    def __init__(
        self,
        workers: int,
        time_budget: float,
        plugins: Mapping[str, str] | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.time_budget = time_budget
        self.plugins = dict(plugins or {})
        self.quota = BotQuota()
        self._workers = max(1, workers)
        self._queue_limit = queue_limit
        self._pool: BotPool | None = None

    @property
    def deadline(self) -> float:
        """Seconds a worker lets a bot think before interrupting it."""
        return self.time_budget * 2 + 1

    @property
    def pool(self) -> BotPool:
        if self._pool is None:
            self._pool = BotPool(self._workers, self._queue_limit, self.metrics)
        return self._pool

    async def start(self) -> None:
        await self.pool.warm_up()

    @contextmanager
    def admit(self, host: Host, player: str, address: str) -> Iterator[None]:
        """Around creating a bot match: refuses it (`rate_limited`) past the per-player
        and per-address limits, or while too many bot turns wait for a worker."""
        admitted = False
        try:
            with self.quota.admit(host, player, address, self.pool.queued):
                admitted = True
                yield
        except ProtocolError:
            if not admitted:  # refused by the quota, not an error of the body
                self.metrics.refused("bot_matches")
            raise

    async def choose(
        self, game: str, level: str, moves: Sequence[int | None], seed: int | None = None,
        player: str = "", address: str | None = None,
    ) -> int:
        """The bot's move, for `player`'s match: that player's turns, and those of their
        address, wait for a worker in turn with everyone else's."""
        # offline, or a player not seen since a restart: the ledger's address, or one
        # address shared by all such players
        owner = (address or self.quota.address_of(player) or "", player)
        job = (self.plugins.get(level), game, level, tuple(moves), seed, self.time_budget,
               self.deadline)
        kind, value = await self.pool.run(owner, job, self.deadline)
        if kind == "ok":
            return int(value)
        if kind == "overran":
            raise BotFailed("bot overran its time")
        if kind == "error":
            raise BotFailed(f"bot raised {value}")
        raise BotFailed(str(value))

    def close(self) -> None:
        """Stop the workers and wait for them to exit; no worker starts after this."""
        self.pool.close()
