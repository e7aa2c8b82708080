"""The Redis of a Redis-mode deployment over the measuring window: its CPU, the
commands it ran and its network reads, from `INFO cpu commandstats stats` at the
window's two edges.

`used_cpu_user + used_cpu_sys` is the redis-server process's own rusage (every thread),
so it works for a Redis on another host too. Commands run inside a Lua script count
under their own names as well as under EVALSHA (Redis counts both), so the count of
round trips is `reads` (`total_reads_processed`: socket reads of client requests; a
pipeline that arrives in one read counts once). `writes` counts replies and pub/sub
deliveries. The probe's own INFO calls are left out of the commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

OWN_COMMANDS = frozenset({"info"})
TIMEOUT = 5.0


TOTALS = {"reads": "total_reads_processed", "writes": "total_writes_processed",
          "bytes_in": "total_net_input_bytes", "bytes_out": "total_net_output_bytes"}


@dataclass(frozen=True)
class RedisSample:
    cpu_seconds: float
    calls: dict[str, int]
    usec: dict[str, int]
    totals: dict[str, int]


class RedisProbe:
    """Every node of one Redis (a single server, or each master of a Cluster)."""

    def __init__(self, urls: tuple[str, ...]) -> None:
        self.urls = urls
        self.clients = [redis.Redis.from_url(url, socket_timeout=TIMEOUT,
                                             socket_connect_timeout=TIMEOUT) for url in urls]

    def sample(self) -> RedisSample | None:
        """Summed over the nodes; None when one does not answer."""
        cpu = 0.0
        calls: dict[str, int] = {}
        usec: dict[str, int] = {}
        totals = dict.fromkeys(TOTALS, 0)
        for client in self.clients:
            try:
                info: dict[str, Any] = client.info("cpu", "commandstats", "stats")
            except redis.RedisError:
                return None
            cpu += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
            for name, field in TOTALS.items():
                totals[name] += int(info.get(field, 0))
            for key, stats in info.items():
                if key.startswith("cmdstat_") and isinstance(stats, dict):
                    name = key.removeprefix("cmdstat_")
                    calls[name] = calls.get(name, 0) + int(stats["calls"])
                    usec[name] = usec.get(name, 0) + int(stats["usec"])
        return RedisSample(cpu, calls, usec, totals)

    def close(self) -> None:
        for client in self.clients:
            client.close()


def window_figures(first: RedisSample, last: RedisSample, seconds: float,
                   moves: int) -> dict[str, Any]:
    """What Redis did between two samples, per second and per move."""
    by_command: dict[str, dict[str, float]] = {}
    for name, calls in last.calls.items():
        done = calls - first.calls.get(name, 0)
        if done <= 0 or name in OWN_COMMANDS:
            continue
        spent = last.usec.get(name, 0) - first.usec.get(name, 0)
        by_command[name] = {"calls": done,
                            "per_move": round(done / moves, 3) if moves else 0.0,
                            "usec_per_call": round(spent / done, 2)}
    cpu = last.cpu_seconds - first.cpu_seconds
    ordered = dict(sorted(by_command.items(), key=lambda item: -item[1]["calls"]))
    per_move = {name: round((last.totals[name] - first.totals[name]) / moves, 2) if moves
                else None for name in TOTALS}
    return {
        "cpu_seconds": round(cpu, 3),
        "cpu_percent": round(100 * cpu / seconds, 1),
        "cpu_us_per_move": round(1e6 * cpu / moves, 1) if moves else None,
        "per_move": per_move,
        "commands": ordered,
    }
