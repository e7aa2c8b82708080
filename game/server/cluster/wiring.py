"""Builds, starts and stops the Redis mode's parts for one process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from game.server.bots import BotRunner
from game.server.cluster.hub import ClusterHub
from game.server.cluster.lobby import RedisLobby
from game.server.cluster.sweep import Sweeper
from game.server.metrics import Metrics
from game.server.settings import Settings
from game.store.redis.client import RedisClient, RedisOptions
from game.store.redis.clock import RedisClock
from game.store.redis.store import RedisStore

log = structlog.get_logger("game.cluster")
STOP_STEP_SECONDS = 3.0


@dataclass
class Cluster:
    hub: ClusterHub
    clock: RedisClock
    sweeper: Sweeper

    async def start(self) -> None:
        """Reach Redis, agree on the time with it, and start the background duties.
        Nothing is resumed: the other processes kept the matches going."""
        await self.hub.store.open()
        await self.clock.sync()
        self.clock.start()
        await self.hub.presence.renew(self.clock.now_ms())
        await self.hub.redis_store.apply_pending_ratings()  # what a crash left due
        self.sweeper.start()
        log.info("cluster_joined", pid=self.hub.pid, clock_offset_ms=round(self.clock.offset_ms),
                 clock_error_ms=self.clock.error_ms)

    async def stop(self) -> None:
        """The seats held here lapse with this process's lease (a few seconds), which
        leaves a client time to reconnect to another process without being shown
        offline."""
        steps = (("sweeper", self.sweeper.stop), ("hub", self.hub.shutdown),
                 ("feeds", self.hub.close), ("clock", self.clock.stop),
                 ("store", self.hub.store.close))
        for name, step in steps:
            try:
                async with asyncio.timeout(STOP_STEP_SECONDS):
                    await step()
            except TimeoutError:  # a Redis that stopped answering must not hold the exit
                log.warning("cluster_stop_step_timed_out", step=name)


def build_cluster(settings: Settings, bots: BotRunner, metrics: Metrics) -> Cluster:
    assert settings.redis_url is not None
    options = RedisOptions(url=settings.redis_url, cluster=settings.redis_cluster,
                           namespace=settings.redis_namespace,
                           timeout=settings.redis_timeout_seconds)
    client = RedisClient(options)
    clock = RedisClock(client)
    store = RedisStore(options, now_ms=clock.now_ms, client=client,
                       history_limit=settings.history_versions,
                       history_days=settings.history_days)
    hub_ref: list[ClusterHub] = []
    lobby = RedisLobby(client, clock, lambda coro: hub_ref[0].spawn(coro))
    hub = ClusterHub(settings, store, clock, bots, lobby, metrics)
    hub_ref.append(hub)
    return Cluster(hub, clock, Sweeper(hub))
