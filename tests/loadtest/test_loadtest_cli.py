"""`game loadtest` end to end: short real runs against real servers, zero errors.

No timing thresholds here (speed is measured by benchmarks/bench_server.py); these
runs prove the generator plays legal matches, checks the patch hash chain, finds
the server's process and reports plausible figures in every mode.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ROOT, ServerProcess, free_port, start_server

LIMITS = {"rate_per_second": 1_000_000, "rate_burst": 1_000_000,
          "max_connections_per_address": 10_000,
          "new_players_per_address_per_minute": 100_000, "max_open_rooms_per_address": 10_000,
          "http_requests_per_second": 100_000, "http_request_burst": 100_000}


@pytest.fixture(scope="module")
def game_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(Path(tmp_path_factory.mktemp("loadtest")), **LIMITS)
    yield proc
    proc.stop()


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=1) as http:  # one client: each bare get builds an SSL context
        while time.monotonic() < deadline:
            assert process.poll() is None, "the relay exited"
            try:
                if http.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)  # polling a starting process: there is no event to wait on
    raise AssertionError("the relay did not start")


def loadtest(url: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "game", "loadtest", url, "--json", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["errors"] == {"total": 0, "by_kind": {}}
    return result


def assert_plausible(latency: dict[str, float]) -> None:
    assert latency["count"] > 0
    assert 0 < latency["p50_ms"] <= latency["p90_ms"] <= latency["p99_ms"] <= latency["max_ms"]


def test_play_json_checks_every_hash_and_finds_the_server(game_server: ServerProcess) -> None:
    result = loadtest(game_server.ws, "--matches", "3", "--duration", "2", "--warmup", "0.5",
                      "--verify-every", "1", "--game", "tictactoe", "--seed", "1")
    assert result["moves"] > 0 and result["moves_per_second"] > 0
    assert result["matches_finished"] > 0
    assert result["verified_hashes"] > 0
    assert_plausible(result["latency_ms"])
    assert result["server"]["pid"] == game_server.process.pid  # type: ignore[union-attr]
    assert result["server"]["cpu_percent"] >= 0 and result["server"]["rss_mib"] > 0
    assert result["generator"]["processes"] == 1


def test_play_msgpack_in_two_generator_processes(game_server: ServerProcess) -> None:
    result = loadtest(game_server.ws, "--matches", "4", "--procs", "2", "--codec", "msgpack",
                      "--duration", "2", "--warmup", "0.5", "--verify-every", "1")
    assert result["generator"]["processes"] == 2
    assert len(result["generator"]["cpu_percent"]) == 2
    assert result["moves"] > 0 and result["verified_hashes"] > 0
    assert result["connections"] == 8
    assert_plausible(result["latency_ms"])


def test_fanout_times_the_last_watcher(game_server: ServerProcess) -> None:
    result = loadtest(game_server.ws, "--mode", "fanout", "--watchers", "6", "--duration", "2",
                      "--warmup", "0.3", "--verify-every", "2")
    assert result["moves"] > 0
    assert_plausible(result["latency_ms"])
    assert_plausible(result["opponent_latency_ms"])
    assert result["connections"] == 8
    assert result["verified_hashes"] > 0


def test_idle_measures_memory_per_connection(game_server: ServerProcess) -> None:
    result = loadtest(game_server.ws, "--mode", "idle", "--connections", "30", "--duration",
                      "0.5")
    idle = result["idle"]
    assert idle["connections"] == 30
    assert "bytes_per_connection" in idle and idle["rss_after_mib"] > 0


def test_relay_target(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "relay.log").open("wb")
    relay = subprocess.Popen([sys.executable, "benchmarks/relay_app.py", "--port", str(port)],
                             cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", relay)
        result = loadtest(f"ws://127.0.0.1:{port}/ws", "--target", "relay", "--matches", "2",
                          "--duration", "1.5", "--warmup", "0.3")
        assert result["moves"] > 0
        assert_plausible(result["latency_ms"])
        assert result["server"]["pid"] == relay.pid
    finally:
        relay.terminate()
        relay.wait(10)


def test_refuses_a_bad_configuration() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "game", "loadtest", "ws://127.0.0.1:9/ws", "--target", "relay",
         "--mode", "idle"], cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "relay" in done.stderr
