"""Issues 16 and 18, `game serve --workers N --redis URL`: a supervisor and N real server
processes on one port (SO_REUSEPORT), connections spread over them, `/metrics` of any
worker answering for all (prometheus-client's multiprocess files), a killed worker
restarted, and nothing left behind by SIGTERM or by a SIGKILLed supervisor."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.parser import text_string_to_metric_families

from game.server.metric_files import MetricFiles
from game.server.metrics import Metrics
from tests.redis_support import RedisServer, require_redis, wait_for
from tests.support import ROOT, ServerProcess, connect, free_port, start_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
START = 120.0
"""Seconds for N workers to start on a shared, loaded 2-core machine."""


def parse(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def by_pid(found: Samples, name: str) -> dict[int, float]:
    return {int(dict(labels)["pid"]): number for (sample, labels), number in found.items()
            if sample == name}


def scrape(server: ServerProcess) -> Samples:
    """One scrape on a fresh connection: the kernel hands it to any of the workers."""
    response = httpx.get(f"{server.http}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return parse(response.text)


def listeners(server: ServerProcess) -> dict[int, psutil.Process]:
    """The supervisor's children that listen on the server's port, by pid."""
    assert server.process is not None
    found: dict[int, psutil.Process] = {}
    for child in psutil.Process(server.process.pid).children():
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
            if any(conn.status == psutil.CONN_LISTEN and conn.laddr.port == server.port
                   for conn in child.net_connections("tcp")):
                found[child.pid] = child
    return found


def metrics_dir(server: ServerProcess) -> Path:
    for line in server.logs().splitlines():
        if '"workers_starting"' in line:
            return Path(json.loads(line)["metrics_dir"])
    raise AssertionError("no workers_starting line")


def gone(processes: list[psutil.Process]) -> bool:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                return False
    return True


def workers(tmp: Path, redis: RedisServer, count: int) -> ServerProcess:
    """A supervisor with `count` workers, once every one of them listens."""
    server = start_server(tmp, workers=count, redis_url=redis.url, drain_seconds=5.0)
    wait_for(lambda: len(listeners(server)) == count, START, f"{count} workers listening")
    wait_for(lambda: value(scrape(server), "game_workers_serving") == count, START,
             f"{count} workers serving")
    return server


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory,
          shared_redis: RedisServer) -> Iterator[ServerProcess]:
    server = workers(tmp_path_factory.mktemp("three"), shared_redis, 3)
    yield server
    server.stop()


# ---- refused without Redis ----------------------------------------------------------------


def test_workers_without_redis_are_refused_in_one_line() -> None:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("GAME_") or key.startswith("GAME_TEST_")}
    env["GAME_DB"] = ":memory:"
    done = subprocess.run([sys.executable, "-m", "game", "serve", "--workers", "2", "--port",
                           str(free_port())], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if "--workers 2" in line]
    assert len(lines) == 1 and "--redis" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


# ---- the shared files, on their own ---------------------------------------------------


def test_the_files_of_two_processes_read_as_one(tmp_path: Path) -> None:
    one, two = Metrics(), Metrics()
    one.moves.bump("tictactoe")
    for _ in range(3):
        two.moves.bump("tictactoe")
    for seconds in (0.0004, 0.03):
        one.commit_seconds.observe(seconds)
    two.commit_seconds.observe(3.0)
    for pid, metrics, level in ((1001, one, 2.0), (1002, two, 5.0)):
        files = MetricFiles(str(tmp_path), pid)
        files.write(metrics.local.collect(),
                    [GaugeMetricFamily("game_worker_websockets", "per worker", value=level)])
        files.write([GaugeMetricFamily("game_live_level", "summed", value=level)])
        files.close()

    def read() -> Samples:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, str(tmp_path))  # type: ignore[no-untyped-call]
        return parse(generate_latest(registry).decode())

    found = read()
    assert value(found, "game_moves_total", game="tictactoe") == 4
    assert value(found, "game_store_commit_seconds_count") == 3
    assert value(found, "game_store_commit_seconds_bucket", le="0.0005") == 1
    assert value(found, "game_store_commit_seconds_bucket", le="0.05") == 2
    assert value(found, "game_store_commit_seconds_bucket", le="5.0") == 3
    assert value(found, "game_store_commit_seconds_sum") == pytest.approx(3.0304)
    assert value(found, "game_live_level") == 7
    assert by_pid(found, "game_worker_websockets") == {1001: 2.0, 1002: 5.0}

    mark_process_dead(1001, str(tmp_path))  # type: ignore[no-untyped-call]  # what the supervisor does when a worker exits
    found = read()
    assert value(found, "game_moves_total", game="tictactoe") == 4  # counts stay
    assert value(found, "game_live_level") == 5  # levels are the live workers'
    assert by_pid(found, "game_worker_websockets") == {1002: 5.0}


# ---- three real workers on one port --------------------------------------------------------


def test_three_workers_listen_on_one_port(three: ServerProcess) -> None:
    assert three.process is not None
    found = listeners(three)
    assert len(found) == 3
    assert three.process.pid not in found  # the supervisor holds the port, not listening
    for process in found.values():
        assert process.ppid() == three.process.pid
    served = scrape(three)
    assert value(served, "game_workers_serving") == 3
    assert set(by_pid(served, "game_worker_cpu_seconds")) == set(found)


async def test_connections_spread_and_any_worker_answers_for_all(three: ServerProcess) -> None:
    before = scrape(three)
    hellos = value(before, "game_commands_total", type="hello")
    async with contextlib.AsyncExitStack() as stack:
        for index in range(12):
            client = await stack.enter_async_context(connect(three))
            await client.hello(f"spread {index}")
        pids = set(listeners(three))

        def settled() -> bool:
            found = scrape(three)
            per_worker = by_pid(found, "game_worker_websockets")
            return (sum(per_worker.values()) == 12
                    and value(found, "game_commands_total", type="hello") - hellos == 12)
        wait_for(settled, 30, "every worker's figures in a scrape")
        # every scrape, whichever worker answers it, tells the same totals
        for _ in range(6):
            found = scrape(three)
            per_worker = by_pid(found, "game_worker_websockets")
            assert set(per_worker) == pids
            assert sum(per_worker.values()) == 12
            assert sum(1 for count in per_worker.values() if count > 0) >= 2, per_worker
            assert value(found, "game_commands_total", type="hello") - hellos == 12
            connected = sum(value(found, "game_websocket_connections", role=role, codec=codec)
                            for role in ("anonymous", "idle", "player", "spectator")
                            for codec in ("json", "msgpack"))
            assert connected == 12


def test_a_killed_worker_is_restarted(three: ServerProcess) -> None:
    before = value(scrape(three), "game_worker_restarts_total")
    victim = min(listeners(three))
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: victim not in listeners(three) and len(listeners(three)) == 3, START,
             "a fourth worker in the victim's place")

    def forgotten() -> bool:
        found = scrape(three)
        return (value(found, "game_worker_restarts_total") == before + 1
                and set(by_pid(found, "game_worker_websockets")) == set(listeners(three)))
    wait_for(forgotten, 30, "the restart in the figures, the victim's gauges gone")
    logs = three.logs()
    assert f'"pid":{victim},"exitcode":-9' in logs
    assert '"event":"worker_restarted"' in logs


# ---- nothing left behind --------------------------------------------------------------------


def test_sigterm_drains_every_worker_and_leaves_nothing(
        tmp_path: Path, shared_redis: RedisServer) -> None:
    server = workers(tmp_path, shared_redis, 2)
    assert server.process is not None
    descendants = psutil.Process(server.process.pid).children(recursive=True)
    assert len(descendants) >= 2
    directory = metrics_dir(server)
    assert directory.is_dir()
    assert server.stop(signal.SIGTERM) == 0
    wait_for(lambda: gone(descendants), 20, "every descendant of the supervisor to exit")
    assert not directory.exists()
    logs = server.logs()
    assert logs.count('"event":"drain_finished"') == 2  # each worker drained
    assert '"event":"workers_stopped"' in logs


def test_workers_of_a_killed_supervisor_exit(tmp_path: Path, shared_redis: RedisServer) -> None:
    server = workers(tmp_path, shared_redis, 2)
    assert server.process is not None
    descendants = psutil.Process(server.process.pid).children(recursive=True)
    directory = metrics_dir(server)
    try:
        server.process.kill()
        server.process.wait(10)
        # each worker hears of it (PR_SET_PDEATHSIG, or its watch), drains and exits
        wait_for(lambda: gone(descendants), 30, "the orphaned workers to exit")
        assert server.logs().count('"event":"drain_finished"') == 2
    finally:
        shutil.rmtree(directory, ignore_errors=True)  # a killed supervisor cannot


def test_workers_that_cannot_start_end_the_supervisor_with_3(tmp_path: Path) -> None:
    # Redis answers the supervisor's check (INFO) but not the workers' clock sync (TIME):
    # every worker fails in its start, again and again
    require_redis()
    broken = RedisServer(tmp_path / "redis", extra=("--rename-command", "TIME", "")).start()
    env = {**os.environ, "GAME_DB": ":memory:", "GAME_WORKERS": "2",
           "GAME_REDIS_URL": broken.url, "GAME_LOG_FORMAT": "json"}
    log = tmp_path / "server.log"
    try:
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "game", "serve", "--port",
                                        str(free_port())], env=env, cwd=ROOT, stdout=out,
                                       stderr=subprocess.STDOUT)
            try:
                code = process.wait(START)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    finally:
        broken.stop()
    text = log.read_text()
    assert code == 3, text[-3000:]
    assert '"event":"workers_failing"' in text
    assert text.count('"event":"worker_exited"') >= 4  # retried with a backoff first
    assert '"event":"workers_stopped"' in text
