"""Settings an operator gets wrong are refused at start, each named, never ignored."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import ValidationError

from game.server.settings import Settings, default_db_path


def test_the_redis_mode_settings_are_checked() -> None:
    assert Settings(redis_url="redis://127.0.0.1:6379/0").redis_url is not None
    assert Settings().redis_url is None
    with pytest.raises(ValidationError, match="redis_namespace"):
        Settings(redis_namespace="a{b}")  # a hash tag in every key would break a Cluster
    with pytest.raises(ValidationError, match="presence_lease_seconds"):
        Settings(presence_lease_seconds=0)


def test_game_serve_names_every_invalid_setting_and_exits_2() -> None:
    env = {**os.environ, "GAME_WORKERS": "2", "GAME_PORT": "abc", "GAME_DB": ":memory:"}
    done = subprocess.run([sys.executable, "-m", "game", "serve"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "game serve: invalid settings, nothing was started"
    assert "  GAME_PORT=abc: must be a whole number" in lines
    assert any(line.startswith("  GAME_WORKERS=2: ") and "Redis" in line for line in lines)
    assert "Traceback" not in done.stderr


def _numeric(annotation: object) -> bool:
    args = typing.get_args(annotation) or (annotation,)
    return any(arg in (int, float) for arg in args)


def test_every_setting_is_described_and_every_number_bounded() -> None:
    """docs/operations.md is generated from these descriptions, and a number without a
    lower bound is a negative duration or size waiting to be accepted."""
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        if _numeric(field.annotation):
            lower = [rule for rule in field.metadata
                     if getattr(rule, "ge", None) is not None
                     or getattr(rule, "gt", None) is not None]
            assert lower, f"{name} accepts any number, negative ones too"


@pytest.mark.parametrize("name, value", [
    ("turn_seconds", "-1"), ("turn_seconds", "0"), ("first_move_seconds", "-5"),
    ("grace_seconds", "0"), ("room_ttl_seconds", "-1"), ("watchers_flush_ms", "-1"),
    ("history_versions", "0"), ("finished_cache", "-1"), ("bot_time_budget", "0"),
    ("bot_move_delay_ms", "-1"), ("max_connections", "0"),
    ("max_connections_per_address", "0"), ("port", "-5"), ("port", "65536"),
    ("turn_seconds", "inf"), ("ping_interval", "nan"), ("log_level", "loud"),
    ("log_format", "xml"), ("workers", "2"), ("host", ""),
])
def test_out_of_range_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**{name: value})  # type: ignore[arg-type]
    assert {error["loc"][0] for error in refused.value.errors()} == {name}


def test_pairs_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(ValidationError, match="default page cannot be longer"):
        Settings(match_list_limit=300, match_list_max_limit=200)
    with pytest.raises(ValidationError, match="first retry's wait cannot be longer"):
        Settings(timer_backoff_seconds=20, timer_backoff_max_seconds=10)
    with pytest.raises(ValidationError, match="contradicts log_format"):
        Settings(log_json=True, log_format="console")
    assert Settings(log_json=True).log_format == "auto"  # resolved when logging starts


def test_the_db_path_is_checked_and_made_absolute(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings(db="game.sqlite3").db == str(tmp_path / "game.sqlite3")
    assert Settings(db=":memory:").db == ":memory:"
    with pytest.raises(ValidationError, match="does not exist: create it first"):
        Settings(db=str(tmp_path / "missing" / "game.sqlite3"))
    with pytest.raises(ValidationError, match="is a directory"):
        Settings(db=str(tmp_path))
    assert not (tmp_path / "missing").exists()
    # the default's directory may be missing: it is created when the store opens
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings().db == default_db_path() == str(
        tmp_path / "xdg" / "game-server" / "game.sqlite3")
    assert not (tmp_path / "xdg").exists()


def test_lists_and_maps_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAME_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("GAME_BOT_PLUGINS", '{"hard": "pkg.mod:choose"}')
    settings = Settings()
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.bot_plugins == {"hard": "pkg.mod:choose"}
    monkeypatch.setenv("GAME_ALLOWED_ORIGINS", '["https://c.example"]')
    assert Settings().allowed_origins == ["https://c.example"]
