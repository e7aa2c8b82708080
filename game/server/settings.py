"""Server settings, from arguments or `GAME_*` environment variables.

Every value is checked here, before anything starts: `game serve` turns a
ValidationError into one line per bad setting (game/server/cli.py) and exits 2.
docs/operations.md lists them all, generated from this model (docs/gen_operations.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from game.games import load, parse_specs
from game.server.forwarded import parse_networks

ADMIN_TOKEN_MIN = 16
"""Characters an admin token needs at least: a short one could be guessed."""


def default_db_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "game-server" / "game.sqlite3")


LogLevel = Literal["debug", "info", "warning", "error", "critical"]
LogFormat = Literal["auto", "console", "json"]


class CrossFieldError(ValueError):
    """Two settings that are each valid but not together; names them for the CLI."""

    def __init__(self, fields: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.fields = fields


class Settings(BaseSettings):
    """Every limit and policy of the server. `GAME_PORT=9000` sets `port`, and so on."""

    # inf and nan are no duration or size (NoDecode fields are parsed by our
    # validators, so a bad value is a ValidationError naming it, not a SettingsError)
    model_config = SettingsConfigDict(env_prefix="GAME_", extra="ignore",
                                      allow_inf_nan=False)

    host: str = Field(
        "127.0.0.1", min_length=1, description="interface to listen on: 127.0.0.1 for this "
        "machine only, 0.0.0.0 (or ::) for every interface")
    port: int = Field(
        8000, ge=0, le=65535, description="TCP port to listen on; 0 picks a free one, which "
        "the startup line (`server_started`, `url`) shows")
    db: str = Field(
        default_factory=default_db_path, validate_default=True,
        description="the SQLite file the matches and players are kept in, or `:memory:` to "
        "keep nothing; its directory must exist, except the default's, which is created")
    db_busy_timeout: float = Field(
        5.0, gt=0, description="seconds a commit waits for a SQLite file locked by another "
        "process before the command is answered `unavailable`")
    redis_url: str | None = Field(
        None, description="the Redis of the scale-out mode (`redis://HOST:PORT/DB`): every "
        "process started with the same URL serves the same players and matches; unset, one "
        "process on the embedded store")
    redis_cluster: bool = Field(
        False, description="`redis_url` names a node of a Redis Cluster")
    redis_namespace: str = Field(
        "game", min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$",
        description="prefix of every Redis key, so several deployments can share a Redis")
    redis_timeout_seconds: float = Field(
        2.0, gt=0, description="Redis mode: seconds any one Redis operation may take, retries "
        "included, before the command is answered `unavailable`")
    presence_lease_seconds: float = Field(
        5.0, gt=0, description="Redis mode: a process that stops renewing its lease this "
        "long (it died) has its players shown offline, their grace starting")

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
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="origins (`https://example.org`) besides the "
        "server's own whose pages may open /ws: a JSON list, or separated by commas")
    allow_any_origin: bool = Field(
        False, description="accept WebSocket upgrades from pages of any origin (a "
        "browser's Origin header); off, only same-origin pages and allowed_origins")
    max_connections: int = Field(
        10_000, ge=1, description="WebSocket connections in total; more are refused at the "
        "upgrade (HTTP 403). Lowered at start if the open-file limit is too low for it")
    max_connections_per_address: int = Field(
        256, ge=1, description="WebSocket connections from one client address (more: HTTP 403)")

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
    turn_seconds: float = Field(
        60.0, gt=0, description="seconds for each move after a seat's first (missed: the "
        "seat loses on `timeout`); a private room may ask for its own")
    first_move_seconds: float = Field(
        30.0, gt=0, description="seconds for each seat's first move (missed: the match is "
        "`aborted`, nobody loses)")
    grace_seconds: float = Field(
        30.0, gt=0, description="seconds a dropped player's seat is kept for them to come "
        "back (then: `abandoned`)")
    room_ttl_seconds: float = Field(
        600.0, gt=0, description="seconds a private room waits for its second player")
    watchers_flush_ms: int = Field(
        300, ge=0, description="milliseconds over which watcher-count changes are batched "
        "into one patch")
    history_versions: int = Field(
        128, ge=1, description="versions of patches kept per live match for `sync` with "
        "`since` (the last 4 once it is over); older ones get a snapshot")
    finished_cache: int = Field(
        1000, ge=0, description="finished matches kept in memory for watchers and `sync`; "
        "older ones are read from the store when asked for")
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
    bot_time_budget: float = Field(
        1.0, gt=0, description="seconds of search the strongest bots may spend on a move")
    bot_move_delay_ms: int = Field(
        0, ge=0, description="milliseconds a bot waits before its move is played, so people "
        "can follow it")
    bot_plugins: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description='levels played by a plugin function instead of the '
        'built-in bot, e.g. {"hard": "pkg.module:choose"} with choose(game, moves, seed, '
        'time_budget) -> move; for tests (a bot that raises or overruns) and experiments')
    extra_games: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="games beyond the built-in ones, separated by "
        "commas: each a module whose `GAME` is a `GameDefinition`, or `module:attribute`; "
        "imported and registered at start (an error stops the server), and by the bot "
        "worker processes from this variable: see docs/adding-a-game.md")
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

    # drain and readiness (issue 18): SIGTERM / SIGINT, /readyz
    drain_seconds: float = Field(
        10.0, gt=0, le=3600, description="on SIGTERM or SIGINT, the longest from the `notice` "
        "to every client until the last socket is closed (1012) and the process stops "
        "listening; new sockets are answered 503 meanwhile. A service manager's stop "
        "timeout must exceed it by a few seconds (docs/deploy/game.service)")
    drain_reconnect_ms: int = Field(
        1000, ge=0, le=600_000, description="the `reconnect_ms` of the drain's `notice`: how "
        "long clients wait (plus jitter) before they reconnect to the restarted server")
    readiness_timeout: float = Field(
        2.0, gt=0, le=60, description="GET /readyz answers 503 when the store's round trip "
        "takes longer than this")

    # admin API and page (issue 18): off unless a token is set
    admin_token: SecretStr | None = Field(
        None, description="turns on /api/admin/* (and the page /admin.html) for requests "
        "that send `Authorization: Bearer TOKEN`; unset, every /api/admin/* answers 404. "
        f"At least {ADMIN_TOKEN_MIN} characters; never logged")

    # reverse proxy (issue 18): whose X-Forwarded-For names the client
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="addresses or networks (CIDR) of the reverse "
        "proxies in front of the server, as a JSON list or comma-separated: from these peers "
        "the client address of the per-address limits and the logs is the right-most "
        "X-Forwarded-For entry that is not itself a trusted proxy. Empty: the header is "
        "ignored, every socket counts under its peer address")

    # metrics (issue 18): GET /metrics, Prometheus text format 0.0.4
    metrics_enabled: bool = Field(True, description="serve GET /metrics; off: it answers 404")
    metrics_networks: Annotated[list[str], NoDecode] = Field(
        ["127.0.0.0/8", "::1/128"], description="addresses or networks (CIDR) that may read "
        "/metrics, as a JSON list or comma-separated; others get 403, and so does any "
        "request a proxy relayed (one with X-Forwarded-For, Forwarded or X-Real-IP): "
        "Prometheus scrapes the server directly. Add the Prometheus server's address")
    metrics_timing_sample: int = Field(
        16, ge=1, le=1000, description="the move-to-publish and store-commit latency "
        "histograms time one move (one commit) in this many, the others cost nothing to "
        "speak of; 1 times every one, at about 1 us more per move")

    # history and ratings (issue 17): finished matches kept in the SQLite store
    history_days: int = Field(
        365, ge=0, le=36_500, description="finished matches older than this many days "
        "(by end time) are deleted from the SQLite store by a sweep every "
        "history_sweep_interval; 0 keeps them forever. The in-memory store keeps its "
        "latest 10000 finished matches instead")
    history_sweep_interval: float = Field(
        3600.0, gt=0, le=86_400, description="seconds between two sweeps of expired "
        "finished matches (each deletes at most 1000, in the writer thread)")
    leaderboard_limit: int = Field(
        100, ge=1, le=1000, description="players listed by GET /api/leaderboard, in each "
        "of its two lists (ranked, provisional)")
    profile_recent_matches: int = Field(
        20, ge=1, le=200, description="finished matches listed by GET /api/players/{player}")

    # running it: logs and processes (issue 18, checked settings)
    log_level: LogLevel = Field(
        "info", description="least important events logged: debug, info, warning, error, "
        "critical")
    log_format: LogFormat = Field(
        "auto", description="console: aligned lines for people; json: one JSON object a "
        "line, for log collectors; auto: console when stderr is a terminal, json otherwise")
    log_json: bool | None = Field(
        None, description="deprecated, use log_format: true is json, false is console (a "
        "warning is logged at start; refused if it contradicts log_format)")
    workers: int = Field(
        1, ge=1, description="server processes sharing the port (SO_REUSEPORT), kept by a "
        "supervisor that forwards SIGTERM and SIGINT and restarts a worker that dies; above "
        "1 needs the Redis mode (redis_url)")
    validate_outgoing: bool = Field(
        False, description="check every sent message against /api/protocol (tests only)"
    )
    test_clock: bool = Field(False, description="enable /_test/clock (tests only)")

    @field_validator("admin_token")
    @classmethod
    def _long_admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < ADMIN_TOKEN_MIN:
            raise ValueError(f"the admin token needs at least {ADMIN_TOKEN_MIN} characters; "
                             "unset GAME_ADMIN_TOKEN to turn the admin API off")
        return value

    @field_validator("trusted_proxies", "metrics_networks", mode="before")
    @classmethod
    def _proxy_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [
                item for item in text.split(",") if item.strip()]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError("a list of IP addresses or networks, e.g. [\"127.0.0.1\"]")
        return [str(net) for net in parse_networks(value)]

    @field_validator("db")
    @classmethod
    def _db_where_it_can_live(cls, value: str) -> str:
        return check_db_path(value)

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins_list(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return _from_json(value, "a JSON list of origins, or origins separated by commas")

    @field_validator("extra_games", mode="before")
    @classmethod
    def _games_list(cls, value: Any) -> Any:
        return parse_specs(value) if isinstance(value, str) else value

    @field_validator("extra_games")
    @classmethod
    def _register_games(cls, value: list[str]) -> list[str]:
        for spec in value:  # now: a module that does not load stops the server at once
            load(spec)
        return value

    @field_validator("bot_plugins", mode="before")
    @classmethod
    def _plugins_dict(cls, value: Any) -> Any:
        return _from_json(value, 'a JSON object like {"hard": "pkg.module:choose"}')

    # pairs that are each valid alone: the check sits on the later field of the two,
    # which sees the earlier one in info.data (skipped if that one was invalid itself)
    @field_validator("match_list_max_limit")
    @classmethod
    def _page_fits(cls, value: int, info: ValidationInfo) -> int:
        if value < info.data.get("match_list_limit", 0):
            raise CrossFieldError(("match_list_limit", "match_list_max_limit"),
                                  "the default page cannot be longer than the longest page")
        return value

    @field_validator("timer_backoff_max_seconds")
    @classmethod
    def _backoff_fits(cls, value: float, info: ValidationInfo) -> float:
        if value < info.data.get("timer_backoff_seconds", 0):
            raise CrossFieldError(("timer_backoff_seconds", "timer_backoff_max_seconds"),
                                  "the first retry's wait cannot be longer than the longest")
        return value

    @field_validator("workers")
    @classmethod
    def _one_process_without_redis(cls, value: int, info: ValidationInfo) -> int:
        if value > 1 and info.data.get("redis_url") is None:
            raise ValueError("above 1 needs the Redis mode (--redis): processes sharing a "
                             "port must share their matches")
        return value

    @field_validator("log_json")
    @classmethod
    def _log_json_agrees(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        chosen = info.data.get("log_format", "auto")
        if value is not None and chosen != "auto" and chosen != ("json" if value else "console"):
            raise CrossFieldError(("log_json", "log_format"),
                                  "log_json is deprecated and contradicts log_format: drop it")
        return value


def _from_json(value: Any, expected: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError(f"must be {expected}") from None


def check_db_path(value: str) -> str:
    """The database file as an absolute path, refused if SQLite could not create or
    write it there. Only the default's directory may be missing (it is created at
    start): a typo in --db must not silently create directories."""
    if value == ":memory:":
        return value
    if not value.strip():
        raise ValueError("must be a file path, or :memory: to keep nothing")
    path = Path(value).expanduser().absolute()
    if path.is_dir():
        raise ValueError(f"{path} is a directory: name the database file in it")
    if path == Path(default_db_path()).expanduser().absolute():
        parent = next(folder for folder in path.parents if folder.exists())
    else:
        parent = path.parent
        if not parent.is_dir():
            raise ValueError(f"directory {parent} does not exist: create it first (only "
                             "the default directory is created for you)")
    # SQLite writes its -wal and -shm files beside the database
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"directory {parent} is not writable by this user")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise ValueError(f"{path} is not readable and writable by this user")
    return str(path)
