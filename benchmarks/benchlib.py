"""What the benchmarks share: free ports, core pinning, starting a server (or a
redis-server) fresh for a run, and running `game loadtest` against it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parents[1]
RELAY = ROOT / "benchmarks" / "relay_app.py"
LIMITS = {"GAME_LOG_LEVEL": "warning", "GAME_RATE_PER_SECOND": "1000000",
          "GAME_RATE_BURST": "1000000", "GAME_MAX_CONNECTIONS_PER_ADDRESS": "100000",
          "GAME_MAX_CONNECTIONS": "100000",
          "GAME_NEW_PLAYERS_PER_ADDRESS_PER_MINUTE": "1000000",
          "GAME_MAX_OPEN_ROOMS_PER_ADDRESS": "100000",
          "GAME_HTTP_REQUESTS_PER_SECOND": "1000000", "GAME_HTTP_REQUEST_BURST": "1000000"}
"""A load test is one very fast client address: every limit on it raised."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: int | str | None, command: list[str], nice: int) -> list[str]:
    """`command` on `core` (a number, or a taskset list such as "2-3") at niceness `nice`."""
    prefix: list[str] = []
    if core is not None:
        prefix += ["taskset", "-c", str(core)]
    if nice:
        prefix += ["nice", "-n", str(nice)]
    return prefix + command


Ready = str | Callable[[], bool]
"""A health URL that answers 2xx once the process serves, or a check that says so."""


def wait_healthy(ready: Ready, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until `ready` holds; fails if the server process exits first."""
    check = ready if callable(ready) else lambda: _answers(ready)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-2000:]}")
        if check():
            return
        time.sleep(0.05)  # polling a starting process: there is no event to wait on
    raise RuntimeError("server did not start")


def _answers(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
        return True
    return False


@contextlib.contextmanager
def server(target: str, core: int | str | None, nice: int, workdir: Path,
           settings: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """Start the relay or the game server (memory or SQLite store, or "redis" with
    GAME_REDIS_URL in `settings`); yield (url, pid). `settings` are more GAME_* variables."""
    port = free_port()
    env = dict(os.environ)
    if target == "relay":
        command = [sys.executable, str(RELAY), "--port", str(port)]
    else:
        command = [sys.executable, "-m", "game", "serve", "--port", str(port)]
        db = ":memory:" if target in ("memory", "redis") else str(
            workdir / f"bench-{port}.sqlite3")
        env.update(LIMITS, GAME_DB=db, **(settings or {}))
    with started(pinned(core, command, nice), f"http://127.0.0.1:{port}/healthz",
                 workdir / f"{target}-{port}.log", env) as pid:
        yield f"ws://127.0.0.1:{port}/ws", pid


@contextlib.contextmanager
def redis_server(workdir: Path, fsync: str, core: int | str | None = None,
                 nice: int = 0) -> Iterator[tuple[str, int]]:
    """A fresh redis-server on a free port, AOF on with `appendfsync fsync` (always,
    everysec or no), no RDB snapshots; yield (url, pid)."""
    port = free_port()
    directory = workdir / f"redis-{port}"
    directory.mkdir()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir",
               str(directory), "--save", "", "--appendonly", "yes", "--appendfsync", fsync,
               "--protected-mode", "no"]
    with started(pinned(core, command, nice), lambda: _pong(port),
                 workdir / f"redis-{port}.log") as pid:
        yield f"redis://127.0.0.1:{port}/0", pid


def _pong(port: int) -> bool:
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@contextlib.contextmanager
def started(command: list[str], ready: Ready, log: Path, env: dict[str, str] | None = None,
            cwd: Path = ROOT) -> Iterator[int]:
    """Run a server process until the block ends (SIGTERM, then SIGKILL after 30 s);
    yield its pid once `ready` holds (a health URL answers, or a check says so)."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            wait_healthy(ready, process, log)
            yield process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def loadtest(url: str, pid: int, core: int | str | None, nice: int,
             *extra: str) -> dict[str, Any]:
    return loadtest_many([url], [pid], core, nice, *extra)


def loadtest_many(urls: Sequence[str], pids: Sequence[int], core: int | str | None, nice: int,
                  *extra: str) -> dict[str, Any]:
    """`game loadtest` over several server processes (their CPU summed); its JSON result."""
    command = [sys.executable, "-m", "game", "loadtest", *urls, "--json"]
    for pid in pids:
        command += ["--server-pid", str(pid)]
    command += extra
    done = subprocess.run(pinned(core, command, nice), cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"loadtest failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def summary(result: dict[str, Any]) -> dict[str, Any]:
    server = result.get("server") or {}
    cpu = server.get("cpu_percent")
    rate = result["moves_per_second"]
    return {
        "moves_per_second": rate,
        "frames_per_second": result["frames_per_second"],
        "latency_ms": result["latency_ms"],
        "errors": result["errors"]["total"],
        "error_kinds": result["errors"]["by_kind"],
        "server_cpu_percent": cpu,
        "moves_per_cpu_second": round(rate * 100 / cpu, 1) if cpu else None,
        "server_rss_mib": server.get("rss_mib"),
        "generator_cpu_percent": result["generator"]["cpu_percent_max"],
        "generator_saturated": result["generator"]["saturated"],
        "load_average": round(os.getloadavg()[0], 2),
    }
