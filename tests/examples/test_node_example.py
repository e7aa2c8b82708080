"""examples/raw_json_bot.mjs, the raw JSON bot in plain JavaScript, plays a real server
from Node with no dependencies, and hashes views byte for byte as the server does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

from game.protocol.patch import view_hash
from tests.support import ROOT, ServerProcess

BOT = ROOT / "examples" / "raw_json_bot.mjs"


def node_and_major() -> tuple[str, int]:
    exe = shutil.which("node")
    assert exe is not None, "node is not installed"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    return exe, int(version.stdout.strip().lstrip("v").split(".")[0])


def node() -> list[str]:
    """The command that runs Node with a global WebSocket (a flag before Node 22)."""
    exe, major = node_and_major()
    return [exe] if major >= 22 else [exe, "--experimental-websocket"]


def run_bot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*node(), str(BOT), *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_node_bot_finishes_a_connect4_game_in_step(server: ServerProcess) -> None:
    done = run_bot(server.ws)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(r"result: (win|loss|draw) by \w+ after \d+ moves\n", done.stdout), done
    assert "out of step" not in done.stderr, done.stderr  # every patch applied, every hash equal


def test_the_node_bot_uses_no_imports() -> None:
    source = BOT.read_text()
    assert not re.search(r"^\s*import\b|\bimport\s*\(|\brequire\s*\(", source, re.MULTILINE)


def test_without_a_global_websocket_it_says_how_to_run_it() -> None:
    exe, major = node_and_major()
    flags = [] if major < 22 else ["--no-experimental-websocket"]
    done = subprocess.run([exe, *flags, str(BOT), "ws://127.0.0.1:9/ws"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert "node --experimental-websocket examples/raw_json_bot.mjs URL" in done.stderr


VIEWS: list[Any] = [
    {"status": "active", "board": [None, 0, 1], "you": 1, "turn": 0, "legal": [],
     "deadline": 1795250937585},
    {"z": {"b": [True, False, None], "a": {"y": -1, "x": -9007199254740991}}, "a": []},
    {"players": [{"name": "Zoë 🙂", "online": True, "bot": False, "grace": None},
                 {"name": "日本語 \"quoted\" back\\slash", "online": False, "bot": True,
                  "grace": 0}]},
    {"\uff61": 1, "\U0001f642": 2, "é": 3, "e": 4, "E": 5, "": 6},  # code point order
    {"text": "tab\tnew\nline\r\b\f\x00\x1f\x7f\u2028\u2029\ufeff", "a/b~c": "~1~0"},
    {"empty": {}, "nested": [[], [{}], [[-0, 0, 42]]], "n": None},
    [], {}, "Zoë", -12345, True, None,
]


def test_the_node_hash_equals_the_servers_for_each_view() -> None:
    done = run_bot("--selftest", stdin=json.dumps(VIEWS, ensure_ascii=False))
    assert done.returncode == 0, done.stderr
    assert [int(line) for line in done.stdout.split()] == [view_hash(v) for v in VIEWS]


def test_the_node_hash_of_the_documented_example() -> None:
    view = {"board": [None] * 9, "deadline": 1795250937585, "game": "tictactoe", "moves": [],
            "players": [{"bot": True, "grace": None, "name": "Easy bot", "online": True},
                        {"bot": False, "grace": None, "name": "dave", "online": True}],
            "rematch": [False, False], "result": None, "status": "active", "turn": 0,
            "watchers": 0, "legal": [], "you": 1}
    done = run_bot("--selftest", stdin=json.dumps([view]))
    assert done.stdout.split() == ["2911732491"], done.stderr
