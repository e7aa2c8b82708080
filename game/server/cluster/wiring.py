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
        await self.hub.listen_to_everyone()
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


MIN_REDIS = (7, 0)
"""Sharded pub/sub (SPUBLISH, SSUBSCRIBE) came with Redis 7.0."""


def redis_problem(settings: Settings) -> str | None:
    """Why the Redis of `settings` cannot serve, if it cannot, in one line: checked
    before the server starts, so an operator reads that rather than a traceback."""
    import redis
    from redis.cluster import RedisCluster
    from redis.exceptions import RedisClusterException

    assert settings.redis_url is not None
    where = redis_location(settings.redis_url)
    timeout = settings.redis_timeout_seconds
    client: redis.Redis | RedisCluster
    try:
        if settings.redis_cluster:
            client = RedisCluster.from_url(settings.redis_url, socket_timeout=timeout,
                                           socket_connect_timeout=timeout)
        else:
            client = redis.Redis.from_url(settings.redis_url, socket_timeout=timeout,
                                          socket_connect_timeout=timeout)
        with client:
            info = client.info("server")
    except (redis.RedisError, RedisClusterException, OSError, ValueError) as error:
        return f"cannot reach Redis at {where}: {error}"
    if settings.redis_cluster:  # one dict per node: any node tells the version
        info = next(iter(info.values())) if info and isinstance(
            next(iter(info.values())), dict) else info
    version = str(info.get("redis_version", "0"))
    parts = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    if parts < MIN_REDIS:
        return f"Redis at {where} is {version}; the Redis mode needs 7.0 or later"
    return None


def redis_location(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def build_cluster(settings: Settings, bots: BotRunner, metrics: Metrics) -> Cluster:
    assert settings.redis_url is not None
    options = RedisOptions(url=settings.redis_url, cluster=settings.redis_cluster,
                           namespace=settings.redis_namespace,
                           timeout=settings.redis_timeout_seconds)
    client = RedisClient(options)
    metrics.watch_redis(client)  # every call and script timed: game_redis_seconds
    clock = RedisClock(client)
    store = RedisStore(options, now_ms=clock.now_ms, client=client,
                       history_limit=settings.history_versions,
                       history_days=settings.history_days)
    hub_ref: list[ClusterHub] = []
    lobby = RedisLobby(client, clock, lambda coro: hub_ref[0].spawn(coro))
    hub = ClusterHub(settings, store, clock, bots, lobby, metrics)
    hub_ref.append(hub)
    return Cluster(hub, clock, Sweeper(hub))
