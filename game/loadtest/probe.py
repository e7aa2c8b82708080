"""The server's own CPU and memory, when it runs on this machine (psutil)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped,unused-ignore]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", ""}


def listening_pid(port: int) -> int | None:
    """The process that listens on `port` (TCP), if it can be seen."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            listening = conn.status == psutil.CONN_LISTEN and conn.laddr
            if listening and conn.laddr.port == port and conn.pid is not None:
                return int(conn.pid)
    return None


@dataclass
class Sample:
    cpu_seconds: float
    rss: int


class ServerProbe:
    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak_rss = 0

    @classmethod
    def find(cls, url: str, pid: int | None) -> ServerProbe | None:
        if pid is None:
            parts = urlsplit(url)
            if (parts.hostname or "") not in LOCAL_HOSTS and not (
                parts.hostname or "").startswith("127."):
                return None
            pid = listening_pid(parts.port or 80)
        if pid is None:
            return None
        try:
            return cls(psutil.Process(pid))
        except psutil.Error:
            return None

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def sample(self) -> Sample | None:
        try:
            with self.process.oneshot():
                times = self.process.cpu_times()
                rss = int(self.process.memory_info().rss)
        except psutil.Error:
            return None
        self.peak_rss = max(self.peak_rss, rss)
        return Sample(times.user + times.system, rss)
