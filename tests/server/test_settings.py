"""Settings an operator gets wrong are refused at start, each named, never ignored."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from game.server.settings import Settings


def test_a_redis_url_is_refused_until_the_redis_mode_exists() -> None:
    with pytest.raises(ValidationError, match="Redis scale-out mode is not built yet"):
        Settings(redis_url="redis://127.0.0.1:6379/0")
    assert Settings().redis_url is None


def test_game_serve_names_every_invalid_setting_and_exits_2() -> None:
    env = {**os.environ, "GAME_REDIS_URL": "redis://127.0.0.1:6379/0", "GAME_PORT": "abc",
           "GAME_DB": ":memory:"}
    done = subprocess.run([sys.executable, "-m", "game", "serve"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "game serve: invalid settings"
    assert any(line.startswith("  GAME_PORT: ") for line in lines)
    assert any(line.startswith("  GAME_REDIS_URL: ") and "not built yet" in line
               for line in lines)
    assert "Traceback" not in done.stderr
