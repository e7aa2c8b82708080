"""Real Redis servers for tests: one `redis-server` (AOF on, fsync always) on a free
port in a temp dir, and a local 3-master Redis Cluster.

Test modules use the fixtures by importing them under their function names
(`from tests.redis_support import redis_fixture  # noqa: F401`); a test then asks for
`redis` (a `RedisServer`) or `redis_cluster` (a `RedisClusterProcs`).
Skipped when `redis-server` / `redis-cli` are not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.support import stop_process

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
START_TIMEOUT = 15.0

IN_CI = bool(os.environ.get("CI"))
"""In CI (scripts/test installs redis-server and redis-tools) a missing Redis fails the
tests that need it instead of skipping them, so a broken install cannot pass as green."""
needs_redis = pytest.mark.skipif(
    (REDIS_SERVER is None or REDIS_CLI is None) and not IN_CI,
    reason="redis-server is not installed")


def require_redis() -> None:
    if REDIS_SERVER is None or REDIS_CLI is None:
        if IN_CI:
            pytest.fail("redis-server / redis-cli missing: scripts/test installs them")
        pytest.skip("redis-server is not installed")


def free_port(span: int = 0) -> int:
    """A free TCP port (and, with `span`, one whose port+span is free too: a cluster
    node's bus port is its port + 10000)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if span == 0:
            return port
        if port + span < 65536 and _port_free(port + span):
            return port


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _answers(port: int) -> bool:
    try:
        client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


@dataclass
class RedisServer:
    """One redis-server process; `restart` keeps its port and dir (and so its AOF)."""

    directory: Path
    port: int = 0
    extra: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        assert REDIS_SERVER is not None
        if not self.port:
            self.port = free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--protected-mode", "no", *self.extra],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(lambda: self._alive() and _answers(self.port), START_TIMEOUT,
                 f"redis-server on {self.port}")
        return self

    def _alive(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited: see {self.directory / 'redis.log'}")
        return True

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process, 10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> redis.Redis:
        """A synchronous client, for test set-up and inspection."""
        return redis.Redis(port=self.port, socket_timeout=5)


@dataclass
class RedisClusterProcs:
    """A local Redis Cluster of masters only, created with `redis-cli --cluster create`."""

    directory: Path
    masters: int = 3
    nodes: list[RedisServer] = field(default_factory=list)

    @property
    def startup(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", node.port) for node in self.nodes]

    def start(self) -> RedisClusterProcs:
        assert REDIS_CLI is not None
        for index in range(self.masters):
            port = free_port(span=10000)
            node_dir = self.directory / f"node{index}"
            self.nodes.append(RedisServer(node_dir, port, (
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(node_dir / "nodes.conf"),
                "--cluster-node-timeout", "2000")).start())
        subprocess.run(
            [REDIS_CLI, "--cluster", "create",
             *(f"127.0.0.1:{node.port}" for node in self.nodes),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60)
        wait_for(self._ok, START_TIMEOUT * 2, "cluster_state:ok")
        return self

    def _ok(self) -> bool:
        for node in self.nodes:
            client = node.client()
            try:
                info = client.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
            except redis.RedisError:
                return False
            finally:
                client.close()
            text = info.decode() if isinstance(info, bytes) else str(info)
            if "cluster_state:ok" not in text:
                return False
        return True

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture(name="redis")
def redis_fixture(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server for one test."""
    require_redis()
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture(name="redis_cluster", scope="module")
def redis_cluster_fixture(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RedisClusterProcs]:
    """A 3-master cluster shared by a test module (tests use distinct namespaces)."""
    require_redis()
    cluster = RedisClusterProcs(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()
