"""The server's own CPU and memory, when it runs on this machine (psutil): one process,
or every process of a Redis-mode deployment (`ServerProbes`, summed)."""

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
    each: tuple[float, ...] = ()
    """CPU seconds of each process, when several are summed."""


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


class ServerProbes:
    """Several server processes sampled together: CPU and memory are their sums."""

    def __init__(self, probes: list[ServerProbe]) -> None:
        self.probes = probes

    @classmethod
    def find(cls, urls: tuple[str, ...], pids: tuple[int, ...]) -> ServerProbes | None:
        """The given pids, or else the process listening on each URL's port."""
        found = ([ServerProbe.find("", pid) for pid in pids] if pids
                 else [ServerProbe.find(url, None) for url in urls])
        unique = {probe.pid: probe for probe in found if probe is not None}
        return cls(list(unique.values())) if unique else None

    @property
    def pid(self) -> int:
        return self.probes[0].pid

    @property
    def pids(self) -> list[int]:
        return [probe.pid for probe in self.probes]

    @property
    def peak_rss(self) -> int:
        return sum(probe.peak_rss for probe in self.probes)

    def sample(self) -> Sample | None:
        """None when any process is gone: a sum missing one would mislead."""
        samples = [probe.sample() for probe in self.probes]
        if any(sample is None for sample in samples):
            return None
        present = [sample for sample in samples if sample is not None]
        return Sample(sum(s.cpu_seconds for s in present), sum(s.rss for s in present),
                      tuple(s.cpu_seconds for s in present))
