"""Fan-out: each process subscribes to the sharded channels of the matches it serves
and of the players connected to it.

`Fanout` routes channels to one `Subscriber` per node: a single server, or on a Cluster
the master owning each channel's slot (re-routed, with a gap, when a slot moves).
`MatchFeed` (patches of matches: `on_gap` tells the user to re-read the history) and
`Inbox` (notices to players wherever they are connected) are built on it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

import structlog
from redis.asyncio.cluster import RedisCluster

from game.store.redis.client import RedisClient
from game.store.redis.errors import StoreUnavailable
from game.store.redis.matches import Patches, follow, unfollow
from game.store.redis.subscriber import (
    RETRYABLE,
    ChannelEvent,
    FeedSettings,
    Handler,
    Subscriber,
)

log = structlog.get_logger("game.store.redis.feed")


class Fanout:
    """Sharded subscriptions of one process, routed to the node serving each channel."""

    def __init__(self, redis: RedisClient, on_message: Handler, on_gap: ChannelEvent,
                 settings: FeedSettings | None = None) -> None:
        self.redis = redis
        self.on_message = on_message
        self.on_gap = on_gap
        self.settings = settings or FeedSettings()
        self.nodes: dict[str, Subscriber] = {}
        self._route: dict[bytes, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def _url_of(self, channel: bytes) -> str:
        raw = self.redis.raw
        if isinstance(raw, RedisCluster):
            node = raw.get_node_from_key(channel.decode())
            if node is None:
                raise StoreUnavailable(f"no node serves {channel!r}")
            return f"redis://{node.host}:{node.port}"
        return self.redis.options.url

    def _node(self, url: str) -> Subscriber:
        node = self.nodes.get(url)
        if node is None:
            node = Subscriber(url, self.on_message, self.on_gap, self._moved, self.settings)
            self.nodes[url] = node
            node.start()
        return node

    async def add(self, channel: bytes) -> None:
        url = self._url_of(channel)
        old = self._route.get(channel)
        if old is not None and old != url:
            await self.nodes[old].remove(channel)
        self._route[channel] = url
        await self._node(url).add(channel)

    async def remove(self, channel: bytes) -> None:
        url = self._route.pop(channel, None)
        if url is not None:
            await self.nodes[url].remove(channel)

    def _moved(self, channel: bytes) -> None:
        if self._closed or channel not in self._route:
            return
        task = asyncio.get_running_loop().create_task(self._reroute(channel))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reroute(self, channel: bytes) -> None:
        raw = self.redis.raw
        delay = self.settings.backoff_first
        while not self._closed and channel in self._route:
            try:
                if isinstance(raw, RedisCluster):
                    await raw.nodes_manager.initialize()  # learn where the slot went
                self._route.pop(channel, None)
                self._route[channel] = url = self._url_of(channel)
                await self._node(url).add(channel)
            except RETRYABLE as exc:
                log.warning("feed_reroute_failed", error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(self.settings.backoff_max, delay * 2)
                continue
            self.on_gap(channel)
            return

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for node in self.nodes.values():
            await node.close()
        self.nodes.clear()

    @property
    def connections(self) -> int:
        return sum(node.connections for node in self.nodes.values())


class MatchFeed:
    """The patches of the matches this process serves: `on_patches(match_id, patches)`
    for each commit, `on_gap(match_id)` when some may have been missed (re-read them
    with `MatchRecords.patches_since`). Commits made with `committer=follower` (this
    process's own) are not sent here."""

    def __init__(self, redis: RedisClient, on_patches: Callable[[str, Patches], None],
                 on_gap: Callable[[str], None], settings: FeedSettings | None = None,
                 follower: str | None = None) -> None:
        self.redis = redis
        self.keys = redis.keys
        self.follower = follower or secrets.token_hex(6)
        self.on_patches = on_patches
        self.on_gap_ = on_gap
        self._matches: dict[bytes, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.fanout = Fanout(redis, self._message, self._gap, settings)

    async def add(self, match_id: str) -> None:
        """Serve `match_id`: returns once subscribed and listed as a follower, so every
        patch committed from then on is delivered (StoreUnavailable otherwise, after
        `subscribe_timeout` at most; a gap follows)."""
        channel = self.keys.channel(match_id, self.follower).encode()
        self._matches[channel] = match_id
        await self.fanout.add(channel)
        await follow(self.redis, match_id, self.follower)

    async def remove(self, match_id: str) -> None:
        channel = self.keys.channel(match_id, self.follower).encode()
        if self._matches.pop(channel, None) is not None:
            await unfollow(self.redis, match_id, self.follower)
        await self.fanout.remove(channel)

    def serving(self) -> list[str]:
        return sorted(self._matches.values())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.fanout.close()

    def _message(self, channel: bytes, data: bytes) -> None:
        match_id = self._matches.get(channel)
        if match_id is not None:
            self.on_patches(match_id, Patches.decode(data))

    def _gap(self, channel: bytes) -> None:
        match_id = self._matches.get(channel)
        if match_id is not None:  # listed again first: a Redis that lost data forgot us
            task = asyncio.get_running_loop().create_task(self._follow_again(match_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _follow_again(self, match_id: str) -> None:
        try:
            await follow(self.redis, match_id, self.follower)
        except StoreUnavailable as exc:  # the next gap (a reconnection) tries again
            log.warning("follow_again_failed", match=match_id, error=str(exc))
        self.on_gap_(match_id)


class Inbox:
    """Notices to players wherever they are connected (a pairing made by another
    process, a rematch created, a newer connection elsewhere): `on_notice(player,
    payload)`; `on_gap(player)` when some may have been missed."""

    def __init__(self, redis: RedisClient, on_notice: Callable[[str, bytes], None],
                 on_gap: Callable[[str], None], settings: FeedSettings | None = None) -> None:
        self.redis = redis
        self.on_notice = on_notice
        self.on_gap_ = on_gap
        self._players: dict[bytes, str] = {}
        self.fanout = Fanout(redis, self._message, self._gap, settings)

    async def listen(self, player: str) -> None:
        """`player` is connected here: deliver their notices."""
        channel = self.redis.keys.inbox(player).encode()
        self._players[channel] = player
        await self.fanout.add(channel)

    async def stop(self, player: str) -> None:
        channel = self.redis.keys.inbox(player).encode()
        self._players.pop(channel, None)
        await self.fanout.remove(channel)

    async def send(self, player: str, payload: bytes) -> int:
        """Publish a notice; how many processes listen for the player (0: offline)."""
        channel = self.redis.keys.inbox(player)
        count = await self.redis.call(lambda r: r.spublish(channel, payload))
        return int(count)

    async def close(self) -> None:
        await self.fanout.close()

    def _message(self, channel: bytes, data: bytes) -> None:
        player = self._players.get(channel)
        if player is not None:
            self.on_notice(player, data)

    def _gap(self, channel: bytes) -> None:
        player = self._players.get(channel)
        if player is not None:
            self.on_gap_(player)
