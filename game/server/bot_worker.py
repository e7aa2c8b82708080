"""A bot worker process: runs one search at a time for the server's bot pool.

The server hands a job down a pipe and reads one answer back. The worker enforces
the job's deadline itself (an interval timer raises inside the search), so an
overrunning bot frees its worker; only a worker that does not answer even then
(stuck in C code) is killed by the server.

A worker never outlives the server: on Linux the kernel kills it when its parent
dies (PR_SET_PDEATHSIG), and everywhere a thread notices the parent is gone (the
worker is re-parented) and exits; a closed pipe ends it too.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any

from game.bots import choose_move

Job = tuple[str | None, str, str, tuple[int | None, ...], int | None, float, float]
"""(plugin, game, level, moves, seed, time_budget, deadline)"""
Answer = tuple[str, Any]
"""("ready", pid), ("ok", move), ("overran", message) or ("error", message)"""

PARENT_POLL_SECONDS = 0.5
PR_SET_PDEATHSIG = 1
MAX_ERROR_CHARS = 300  # an answer stays one small pipe write

_armed = False


class BotOverran(Exception):
    """Raised inside a worker when a bot's deadline passes."""


def _on_deadline(signum: int, frame: FrameType | None) -> None:
    # a timer that fired just as the search returned must not hit the next statement
    if _armed:
        raise BotOverran("the bot overran its deadline")


def run_bot(
    plugin: str | None,
    game: str,
    level: str,
    moves: tuple[int | None, ...],  # a record: None after a move that made a side pass
    seed: int | None,
    time_budget: float,
    deadline: float,
) -> int:
    """The bot's move, raising BotOverran after `deadline` seconds."""
    global _armed
    choose: Callable[..., int]
    if plugin is None:
        def choose(*args: object) -> int:
            return choose_move(game, level, moves, seed, time_budget)
    else:
        module_name, _, function = plugin.partition(":")
        choose = getattr(importlib.import_module(module_name), function)
    previous = signal.signal(signal.SIGALRM, _on_deadline)
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        return int(choose(game, moves, seed, time_budget))
    finally:
        _armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def answer(job: Job) -> Answer:
    try:
        return ("ok", run_bot(*job))
    except BotOverran as exc:
        return ("overran", str(exc))
    except Exception as exc:
        return ("error", f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])


def main(conn: Connection, parent: int) -> None:
    """The worker's loop: announce readiness, then answer jobs until the pipe closes."""
    _die_with(parent)
    # Ctrl-C in the server's terminal reaches the whole process group: the server
    # stops its workers itself, so they must not die first with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        conn.send(("ready", os.getpid()))
        while True:
            conn.send(answer(conn.recv()))
    except (EOFError, OSError):  # the server closed the pipe or is gone
        return


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(0)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    # no portable event for a parent's death: poll the parent pid (re-parented = dead)
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)
