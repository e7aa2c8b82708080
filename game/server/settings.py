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
        100.0, gt=0, description="sustained frames a second per connection: each message, "
        "and each ping, pong and fragment but a message's last")
    rate_burst: float = Field(200.0, ge=1, description="token-bucket size")
    rate_hard_strikes: int = Field(
        100, ge=0, description="messages refused with rate_limited in a row before 1008")

    # transport: frames per message, HTTP request limits, file descriptors (issue 15)
    max_frames_per_message: int = Field(
        32, ge=2, description="a fragmented message in more frames closes with 1008, however "
        "small its fragments (a policy on the number of pieces, not a size)")
    max_request_head_bytes: int = Field(
        16384, ge=1024, description="an HTTP request head (request line and headers) larger "
        "than this is answered 431 and the socket closed, on every path")
    request_head_timeout: float = Field(
        10.0, gt=0, description="seconds from accept (or from a keep-alive request's first "
        "byte) to a complete request head; past it the socket is answered 408 and closed")
    max_request_body_bytes: int = Field(
        65536, ge=0, description="larger HTTP request bodies (announced or sent) are answered "
        "413 and the socket closed")
    request_body_timeout: float = Field(
        10.0, gt=0, description="seconds from a request's head to the end of its body; past "
        "it the socket is answered 408 and closed")
    http_requests_per_second: float = Field(
        50.0, gt=0, description="HTTP requests (WebSocket handshakes included) one client "
        "address may make a second, sustained; past it 429 before any route runs, so "
        "pollers of the API cannot take the event loop from the players")
    http_request_burst: int = Field(
        200, ge=1, description="HTTP requests one address may make at once (a page load "
        "fetches a few dozen files)")
    max_http_connections: int = Field(
        1024, ge=1, description="sockets not (yet) upgraded to a WebSocket, in total: counted "
        "from their accept (refused with 403 beyond it), on top of max_connections, so "
        "/healthz still answers on a server full of players")
    reserved_file_descriptors: int = Field(
        64, ge=16, description="file descriptors kept free of connections for the store, the "
        "listening socket and logs (plus 4 per bot worker): the connection caps are lowered "
        "at start if they do not fit under the process's open-file limit with them")

    max_live_matches_per_player: int = Field(
        10, ge=1, description="live matches (rooms included) one player may hold"
    )
    # -- lobby, identities and the match list (issue 15: findings 4, 7, 11) --
    new_players_per_address_per_minute: int = Field(
        60, ge=1, description="hellos without a token (new players) one client address may "
        "make: this many at once, refilled at this many a minute; past it `rate_limited` "
        "(IPv6 addresses count per /64; resuming with a token is not a new player)")
    tracked_addresses: int = Field(
        10_000, ge=16, description="client addresses whose new-player quota is remembered; "
        "past it the least recently seen is forgotten, so address rotation cannot grow it")
    max_open_rooms_per_address: int = Field(
        32, ge=1, description="private rooms still waiting for their second player that "
        "one client address may hold open; more: `rate_limited`")
    match_list_limit: int = Field(
        50, ge=1, description="matches in a page of GET /api/matches without `limit`")
    match_list_max_limit: int = Field(
        200, ge=1, description="largest `limit` GET /api/matches serves (larger ones are cut)")
    match_list_refresh_ms: int = Field(
        500, ge=0, description="the sorted list behind GET /api/matches is rebuilt at most "
        "this often (each page still shows moves, watchers and endings as they are now)")
    turn_seconds: float = 60.0
    first_move_seconds: float = 30.0
    grace_seconds: float = 30.0
    room_ttl_seconds: float = 600.0
    watchers_flush_ms: int = 300
    history_versions: int = 128
    finished_cache: int = 1000
    # match runtime (hub): a failing store, stalls of the whole process
    timer_backoff_seconds: float = Field(
        0.25, gt=0, description="a deadline (or a bot's move) whose commit the store refused "
        "is retried after this long, doubled per failure in a row")
    timer_backoff_max_seconds: float = Field(
        10.0, gt=0, description="the longest wait between two such retries: once the store "
        "works again, an expired deadline fires within this")
    store_error_log_seconds: float = Field(
        10.0, gt=0, description="while the store keeps failing, its first failure is "
        "logged, then at most one summary line per this many seconds")
    stall_credit_seconds: float = Field(
        1.0, ge=0.05, description="a stall of the event loop longer than this (SIGSTOP, a "
        "paused VM, a blocked disk, a long GC) is credited to every live match's deadlines "
        "and graces, like a restart's downtime")

    bot_workers: int = Field(
        4, ge=1, description="worker processes for bot searches, started as needed; more than "
        "one, so a bot that overruns its time never holds up another match's bot")
    bot_time_budget: float = 1.0
    bot_move_delay_ms: int = 0
    bot_plugins: dict[str, str] = Field(
        default_factory=dict, description='levels played by a plugin function instead of the '
        'built-in bot, e.g. {"hard": "pkg.module:choose"} with choose(game, moves, seed, '
        'time_budget) -> move; for tests (a bot that raises or overruns) and experiments')
    # bot fairness (issue 15, finding 9): bot searches are shared between matches
    max_bot_matches_per_player: int = Field(
        3, ge=1, description="bot matches one player may have in play at once; more are "
        "refused with rate_limited")
    max_bot_matches_per_address: int = Field(
        10, ge=1, description="bot matches the players of one address may have in play at "
        "once (guests are free to create); more are refused with rate_limited")
    bot_queue_limit: int = Field(
        256, ge=1, description="bot turns waiting for a worker; while this many wait, new bot "
        "matches are refused with rate_limited and a further turn fails (its bot resigns)")

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
