"""Every example in examples/ runs against a real server and finishes its games."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, ServerProcess

EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, timeout: float = 60) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(("name", "allowed"), [
    ("raw_msgpack_bot.py", {"websockets", "msgpack"}),
    ("raw_json_bot.py", {"websockets"}),
])
def test_raw_bots_finish_a_game_with_only_their_packages(
    server: ServerProcess, name: str, allowed: set[str]
) -> None:
    third_party = top_level_imports(EXAMPLES / name) - set(sys.stdlib_module_names)
    assert third_party == allowed
    out = run_example(name, server.ws)
    assert out.startswith("result: "), out
    assert out.split()[1] in ("win", "loss", "draw")


def test_the_msgpack_bot_fits_in_40_lines() -> None:
    assert len((EXAMPLES / "raw_msgpack_bot.py").read_text().splitlines()) <= 40


def test_sdk_bot_plays_its_games(server: ServerProcess) -> None:
    out = run_example("sdk_bot.py", server.ws, "2", "random")
    assert "game 1: " in out and "game 2: " in out
    assert out.strip().splitlines()[-1].startswith("final: W ")
    assert "game" in top_level_imports(EXAMPLES / "sdk_bot.py")
    assert not any(line.startswith(("from game.server", "import game.server"))
                   for line in (EXAMPLES / "sdk_bot.py").read_text().splitlines())
