"""Several real server processes on one real Redis (or a local Redis Cluster)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from game.core.match import Match
from game.core.records import from_record
from game.store.redis.keys import Keys
from tests.redis_support import RedisClusterProcs, RedisServer
from tests.support import TIMEOUT, Client, ServerProcess, connect, start_server

LEASE_SECONDS = 2.0
"""The presence lease of the test processes: a killed one's seats go offline in 2-3 s."""


@dataclass
class Processes:
    """`count` server processes sharing one Redis namespace."""

    tmp: Path
    url: str
    cluster: bool = False
    namespace: str = field(default_factory=lambda: f"t{secrets.token_hex(4)}")
    servers: list[ServerProcess] = field(default_factory=list)
    started: list[ServerProcess] = field(default_factory=list)
    """Every process ever started here, replaced ones too: `stop` ends them all, even
    one a test started (a rolling restart) but never put in `servers`."""

    def start(self, count: int, **settings: Any) -> Processes:
        for _ in range(count):
            self.servers.append(self.start_one(**settings))
        return self

    def start_one(self, **settings: Any) -> ServerProcess:
        options: dict[str, Any] = {
            "redis_url": self.url, "redis_cluster": self.cluster,
            "redis_namespace": self.namespace, "presence_lease_seconds": LEASE_SECONDS,
            "new_players_per_address_per_minute": 10_000,
            # a loaded shared machine with `appendfsync always` may take a while: the
            # tests check what happens, not how fast (benchmarks do that)
            "redis_timeout_seconds": 10, **settings}
        server = start_server(self.tmp, **options)
        self.started.append(server)
        return server

    def stop(self) -> None:
        for server in self.started:
            server.stop()  # SIGTERM, then SIGKILL if it has not gone in 30 s

    def __getitem__(self, index: int) -> ServerProcess:
        return self.servers[index]


@contextlib.contextmanager
def processes(tmp: Path, backend: RedisServer | RedisClusterProcs, count: int,
              **settings: Any) -> Iterator[Processes]:
    if isinstance(backend, RedisClusterProcs):
        procs = Processes(tmp, f"redis://127.0.0.1:{backend.nodes[0].port}/0", cluster=True)
    else:
        procs = Processes(tmp, backend.url)
    try:
        yield procs.start(count, **settings)
    finally:
        procs.stop()


@contextlib.asynccontextmanager
async def clients(*where: tuple[ServerProcess, str]) -> AsyncIterator[list[Client]]:
    """One connected client per (server, codec)."""
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(connect(server, codec))
               for server, codec in where]


def record_in_redis(server: RedisServer, namespace: str, match: str) -> Match:
    """The match as Redis holds it, read by a client of the test's own."""
    client = server.client()
    try:
        raw = client.hget(Keys(namespace).record(match), "r")
    finally:
        client.close()
    assert isinstance(raw, bytes), f"{match} is not in Redis"
    return from_record(json.loads(raw))


def stored_match(server: ServerProcess, match: str) -> dict[str, Any]:
    response = httpx.get(f"{server.http}/api/matches/{match}", timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def eventually(check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll `check` (a state outside any client: Redis, another process) until it answers
    something true."""
    async def wait() -> Any:
        while not (value := check()):
            await asyncio.sleep(0.05)
        return value

    try:
        return await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
