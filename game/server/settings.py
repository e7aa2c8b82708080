"""Server settings, from arguments or `GAME_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_db_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "game-server" / "game.sqlite3")


class Settings(BaseSettings):
    """Every limit and policy of the server. `GAME_PORT=9000` sets `port`, and so on."""

    model_config = SettingsConfigDict(env_prefix="GAME_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    db: str = Field(default_factory=default_db_path, description="SQLite file or :memory:")
    db_busy_timeout: float = Field(
        5.0, gt=0, description="seconds a commit waits for a SQLite file locked by another "
        "process before the command is answered `unavailable`")
    redis_url: str | None = Field(
        None, description="reserved for the Redis scale-out mode of DESIGN.md, which is not "
        "built yet: setting it is refused rather than silently ignored")

    websocket: Literal["native", "asgi"] = Field(
        "native", description="`/ws` served by our own RFC 6455 protocol under uvicorn "
        "(native), or by the ASGI route through uvicorn's websockets-sansio (asgi)")
    max_frame_bytes: int = Field(
        8192, ge=256, description="larger frames (or fragmented messages) close with 1009, "
        "checked on the frame header before any payload is buffered or decoded")
    send_queue_limit: int = Field(256, ge=4, description="queued frames before 1013")
    hello_timeout: float = Field(5.0, gt=0, description="no hello within it: close 1008")
    ping_interval: float = Field(20.0, gt=0, description="WebSocket ping every N seconds")
    ping_timeout: float = Field(
        20.0, gt=0, description="no pong within it: the peer is dead and is dropped")
    send_buffer_bytes: int | None = Field(
        None, ge=1024, description="per-socket bound on outgoing bytes held below the send "
        "queue: the kernel send buffer (SO_SNDBUF) and the transport's high-water mark; unset "
        "keeps the OS defaults, where the kernel may buffer several MiB for a peer that "
        "does not read")
    close_timeout: float = Field(
        5.0, gt=0, description="a closing peer that has not taken our close frame (or whose "
        "socket cannot flush) within it is aborted")
    reap_interval: float = Field(
        1.0, gt=0, description="how often sockets stuck in closing are looked for")
    allowed_origins: list[str] = Field(
        default_factory=list, description="extra origins; same-origin is always allowed"
    )
    allow_any_origin: bool = False
    max_connections: int = 10_000
    max_connections_per_address: int = 256

    rate_per_second: float = Field(
        100.0, gt=0, description="sustained messages a second per connection (pings exempt)")
    rate_burst: float = Field(200.0, ge=1, description="token-bucket size")
    rate_hard_strikes: int = Field(
        100, ge=0, description="messages refused with rate_limited in a row before 1008")

    max_live_matches_per_player: int = Field(
        10, ge=1, description="live matches (rooms included) one player may hold"
    )
    turn_seconds: float = 60.0
    first_move_seconds: float = 30.0
    grace_seconds: float = 30.0
    room_ttl_seconds: float = 600.0
    watchers_flush_ms: int = 300
    history_versions: int = 128
    finished_cache: int = 1000

    bot_workers: int = Field(
        4, ge=1, description="worker processes for bot searches, started as needed; more than "
        "one, so a bot that overruns its time never holds up another match's bot")
    bot_time_budget: float = 1.0
    bot_move_delay_ms: int = 0
    bot_plugins: dict[str, str] = Field(
        default_factory=dict, description='levels played by a plugin function instead of the '
        'built-in bot, e.g. {"hard": "pkg.module:choose"} with choose(game, moves, seed, '
        'time_budget) -> move; for tests (a bot that raises or overruns) and experiments')

    log_level: str = "info"
    log_json: bool = True
    validate_outgoing: bool = Field(
        False, description="check every sent message against /api/protocol (tests only)"
    )
    test_clock: bool = Field(False, description="enable /_test/clock (tests only)")

    @field_validator("redis_url")
    @classmethod
    def _no_redis_yet(cls, value: str | None) -> str | None:
        # An operator who sets it expects several processes to share state; running
        # alone on the embedded store instead would split their players silently.
        if value is not None:
            raise ValueError("the Redis scale-out mode is not built yet; unset "
                             "GAME_REDIS_URL to run one process on the embedded store")
        return value
