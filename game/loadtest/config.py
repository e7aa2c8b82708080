"""What one load test does: a plain, picklable description shared by every process."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MODES = ("play", "fanout", "idle")
TARGETS = ("game", "relay")
CLIENTS = ("raw", "websockets")
SPREADS = ("cross", "same", "mixed")


@dataclass(frozen=True)
class Config:
    url: str
    mode: str = "play"
    target: str = "game"
    game: str = "connect4"
    codec: str = "json"
    matches: int = 10
    watchers: int = 100
    connections: int = 1000
    duration: float = 10.0
    warmup: float = 2.0
    procs: int = 1
    server_pid: int | None = None
    client: str = "raw"
    verify_every: int = 10
    stall_timeout: float = 10.0
    seed: int | None = None
    more_urls: tuple[str, ...] = ()
    """Further processes of one Redis-mode deployment: the players are spread over all."""
    spread: str = "cross"
    more_pids: tuple[int, ...] = ()
    """Further server processes whose CPU and memory count with `server_pid`'s."""
    redis: tuple[str, ...] = ()
    """Redis nodes (URLs) whose CPU and commands over the window are reported."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}")
        if self.client not in CLIENTS:
            raise ValueError(f"client must be one of {CLIENTS}")
        if self.codec not in ("json", "msgpack"):
            raise ValueError("codec must be json or msgpack")
        if self.target == "relay" and self.mode != "play":
            raise ValueError("the relay target only has the play mode")
        if self.spread not in SPREADS:
            raise ValueError(f"spread must be one of {SPREADS}")
        if self.target == "relay" and self.more_urls:
            raise ValueError("the relay target takes one URL: its rooms live in one process")
        if min(self.matches, self.watchers, self.connections, self.procs) < 1:
            raise ValueError("matches, watchers, connections and procs must be at least 1")
        if self.duration <= 0 or self.warmup < 0:
            raise ValueError("duration must be positive and warmup not negative")

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.url, *self.more_urls)

    def url_for(self, index: int, tag: int) -> str:
        """The URL connection `tag` of driver `index` opens (tags 0 and 1 are a match's
        players). `cross` puts consecutive tags on consecutive URLs, so with several
        URLs a match's two players sit on two processes and its patches cross Redis;
        `same` keeps all of a driver's connections on one URL; `mixed` does one for
        even drivers and the other for odd ones (two processes behind a load balancer
        that places each connection at random: half the matches cross)."""
        urls = self.urls
        cross = self.spread == "cross" or (self.spread == "mixed" and index % 2 == 0)
        offset = tag if cross else 0
        return urls[(index + offset) % len(urls)]

    @property
    def workers(self) -> int:
        """Generator processes: fanout needs every watcher in one process (one clock)."""
        return 1 if self.mode == "fanout" else self.procs

    def share(self, index: int) -> int:
        """How many matches (play) or connections (idle) worker `index` drives."""
        total = self.connections if self.mode == "idle" else self.matches
        if self.mode == "fanout":
            return 1
        base, extra = divmod(total, self.workers)
        return base + (1 if index < extra else 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
