"""`game loadtest` over several processes of one Redis: a match's two players on two
processes (`--spread cross`), the CPU of every process summed, and what Redis did over
the window (`--redis`). Figures are checked for plausibility, not speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from game.loadtest.config import Config
from tests.loadtest.test_loadtest_cli import LIMITS
from tests.redis_support import RedisServer
from tests.redis_support import redis_fixture as redis_fixture  # the `redis` fixture
from tests.server.cluster.support import processes
from tests.support import ROOT


def test_cross_puts_the_two_players_of_a_match_on_two_urls() -> None:
    cross = Config(url="ws://a/ws", more_urls=("ws://b/ws",))
    for index in range(4):
        assert {cross.url_for(index, 0), cross.url_for(index, 1)} == {"ws://a/ws", "ws://b/ws"}
    same = Config(url="ws://a/ws", more_urls=("ws://b/ws",), spread="same")
    assert same.url_for(0, 0) == same.url_for(0, 1) == "ws://a/ws"
    assert same.url_for(1, 0) == same.url_for(1, 1) == "ws://b/ws"
    assert Config(url="ws://a/ws").url_for(3, 1) == "ws://a/ws"
    mixed = Config(url="ws://a/ws", more_urls=("ws://b/ws",), spread="mixed")
    placed = [(mixed.url_for(index, 0), mixed.url_for(index, 1)) for index in range(4)]
    assert [a != b for a, b in placed] == [True, False, True, False]  # half cross
    assert {a for a, _ in placed} == {"ws://a/ws", "ws://b/ws"}  # both processes serve


def test_the_relay_takes_one_url() -> None:
    with pytest.raises(ValueError, match="one URL"):
        Config(url="ws://a/ws", more_urls=("ws://b/ws",), target="relay")


def run_loadtest(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "game", "loadtest", *args, "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_two_processes_on_one_redis(tmp_path: Path, redis: RedisServer) -> None:
    with processes(tmp_path, redis, 2, **LIMITS) as procs:
        result = run_loadtest(procs[0].ws, procs[1].ws, "--redis", redis.url, "--matches",
                              "4", "--duration", "2", "--warmup", "0.5", "--verify-every",
                              "1", "--seed", "3")
        pids = sorted(server.process.pid for server in procs.servers
                      if server.process is not None)
    assert result["errors"] == {"total": 0, "by_kind": {}}
    assert result["moves"] > 0 and result["verified_hashes"] > 0
    assert result["config"]["more_urls"] == [procs[1].ws]
    server = result["server"]
    assert sorted(server["pids"]) == pids
    # every move is taken by one process and delivered by the other: both worked
    assert len(server["cpu_percent_each"]) == 2 and min(server["cpu_percent_each"]) > 0
    figures = result["redis"]
    assert figures["cpu_seconds"] > 0
    commands = figures["commands"]
    assert "info" not in commands  # the probe's own
    # one commit script a move, each publishing the move's patches once
    assert commands["evalsha"]["per_move"] >= 0.5
    assert commands["spublish"]["per_move"] >= 0.5
    assert figures["per_move"]["reads"] >= 1
