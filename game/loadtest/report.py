"""The result of a run: one JSON-ready dict, and its human rendering with rich."""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.table import Table

from game.loadtest.config import Config
from game.loadtest.stats import WorkerResult

SATURATED_PERCENT = 85.0


def build_result(config: Config, total: WorkerResult, workers: list[WorkerResult],
                 server: dict[str, Any] | None, idle: dict[str, Any] | None = None,
                 redis: dict[str, Any] | None = None) -> dict[str, Any]:
    window = config.duration
    errors = dict(sorted(total.errors.items()))
    generator = [round(100 * w.cpu_seconds / window, 1) for w in workers]
    result: dict[str, Any] = {
        "config": config.to_dict(),
        "moves": total.moves,
        "moves_per_second": round(total.moves / window, 1),
        "frames_per_second": round((total.frames_in + total.frames_out) / window, 1),
        "matches_finished": total.matches,
        "latency_ms": total.latency.summary(),
        "errors": {"total": sum(errors.values()), "by_kind": errors},
        "verified_hashes": total.verified,
        "connections": total.connections,
        "server": server,
        "redis": redis,
        "generator": {
            "processes": len(workers),
            "cpu_percent": generator,
            "cpu_percent_max": max(generator, default=0.0),
            "cpu_seconds": round(sum(w.cpu_seconds for w in workers), 3),
            "saturated": any(value >= SATURATED_PERCENT for value in generator),
            "cores": os.cpu_count(),
        },
    }
    if config.mode == "fanout":
        result["latency_ms_name"] = "move sent -> last watcher has the patch"
        result["opponent_latency_ms"] = total.opponent.summary()
    else:
        result["latency_ms_name"] = "move sent -> opponent has the patch"
    if idle is not None:
        result["idle"] = idle
        result["generator"]["saturated"] = False
    return result


def render(result: dict[str, Any], console: Console) -> None:
    config = result["config"]
    title = (f"{config['mode']} vs {config['target']} {config['url']} - {config['game']}, "
             f"{config['codec']}")
    table = Table(title=title, show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    if config["mode"] == "idle":
        for key, value in (result.get("idle") or {}).items():
            table.add_row(key.replace("_", " "), str(value))
    else:
        table.add_row("moves / s", f"{result['moves_per_second']:,.0f}")
        table.add_row("frames / s (all clients, in + out)", f"{result['frames_per_second']:,.0f}")
        table.add_row("matches finished", str(result["matches_finished"]))
        latency = result["latency_ms"]
        table.add_row(result["latency_ms_name"],
                      "p50 {p50_ms} / p90 {p90_ms} / p99 {p99_ms} / max {max_ms} ms"
                      .format(**latency))
        if "opponent_latency_ms" in result:
            table.add_row("move sent -> opponent",
                          "p50 {p50_ms} / p99 {p99_ms} / max {max_ms} ms"
                          .format(**result["opponent_latency_ms"]))
        table.add_row("hashes verified", str(result["verified_hashes"]))
    errors = result["errors"]
    table.add_row("errors", f"{errors['total']} {errors['by_kind'] or ''}".strip())
    server = result.get("server")
    if server:
        table.add_row("server pid", " ".join(str(pid) for pid in server["pids"]))
        if "cpu_percent" in server:
            table.add_row("server CPU", f"{server['cpu_percent']} %")
            table.add_row("server RSS", f"{server['rss_mib']} MiB")
    else:
        table.add_row("server", "not local (no CPU or memory figures)")
    _render_redis(result.get("redis"), table)
    generator = result["generator"]
    if config["mode"] != "idle":
        flag = " [red]SATURATED: add --procs[/red]" if generator["saturated"] else ""
        table.add_row("generator CPU per process", f"{generator['cpu_percent']} %{flag}")
    console.print(table)


def _render_redis(redis: dict[str, Any] | None, table: Table) -> None:
    if not redis:
        return
    table.add_row("Redis CPU", f"{redis['cpu_percent']} % ({redis['cpu_us_per_move']} µs a move)")
    per_move = redis["per_move"]
    table.add_row("Redis reads / writes a move", f"{per_move['reads']} / {per_move['writes']}")
    top = list(redis["commands"].items())[:8]
    table.add_row("Redis commands a move", ", ".join(
        f"{name} {figures['per_move']}" for name, figures in top))
