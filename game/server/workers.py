"""`game serve --workers N`: N server processes on one port, and the supervisor keeping them.

The supervisor (the process `game serve` runs as) reserves the port
(`game.server.listen.reserve`), creates a fresh directory for the shared metric files
(game.server.metric_files) and starts N workers (multiprocessing, spawn). Each worker
binds a listening socket of its own to the port with SO_REUSEPORT, so the kernel
spreads new connections over the workers (by the peer's address and port), and serves
the whole app (`game.server.run.serve`) against the shared Redis: no connection needs
to reach any particular worker.

The supervisor

* forwards SIGTERM and SIGINT to every worker, each of which drains
  (game.server.drain) and exits; it waits for them (`drain_seconds` plus
  `STOP_GRACE`, then kills), removes the metric files and exits 0 when every worker
  exited 0, 1 otherwise; a second Ctrl-C is forwarded too and cuts the drains short;
* restarts a worker that exits on its own after a backoff (`BACKOFF_FIRST` doubling up
  to `BACKOFF_MAX`; a worker that served `STABLE_SECONDS` starts the count again), and
  logs it (`worker_exited`, `worker_restarted`);
* gives up, exit status 3 (uvicorn's for a failed start), when a worker failed
  `START_FAILURES` times in a row before serving while no worker serves: the server
  cannot start (Redis unreachable, say), which a service manager should see, rather
  than restarting forever. While some worker serves, a failing one is retried.

No worker outlives it: each asks the kernel for SIGTERM when the supervisor dies
(PR_SET_PDEATHSIG) and watches its parent as well, so the workers of a SIGKILLed
supervisor drain and exit (and their bot workers with them). Each worker leads a
process group of its own, so Ctrl-C in a terminal reaches the supervisor only, which
forwards it once.

uvicorn's own `--workers` does not fit: its workers accept on one shared socket, and its
supervisor runs `uvicorn.Server` (not our draining `GameServer`), restarts without
backoff and leaves its workers running when it is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing import get_context, resource_tracker
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import mark_process_dead

from game.server.metric_files import ENV, MetricFiles
from game.server.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger("game.workers")

EXIT_FAILING = 3
START_FAILURES = 5
"""Failed starts in a row of one worker, while none serves, before the supervisor gives up."""
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0
STABLE_SECONDS = 30.0
"""A worker that served this long before it exited is restarted as if for the first time."""
STOP_GRACE = 10.0
"""Seconds past `drain_seconds` a stopping worker gets (closing the store, joining its
bot workers) before it is killed."""
PARENT_POLL_SECONDS = 0.5
PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass
class Worker:
    """One slot of the N, and the process in it (None while it waits for a restart)."""

    index: int
    process: BaseProcess | None = None
    pipe: Connection | None = None
    """The worker writes its pid down it once it serves."""
    pid: int | None = None
    serving_since: float | None = None
    failures: int = 0
    restart_at: float | None = None


def supervise(settings: Settings, sock: socket.socket, json_lines: bool) -> int:
    """Run `settings.workers` workers on the port `sock` holds (game.server.listen.reserve)
    until SIGTERM or SIGINT; the exit status of `game serve`."""
    settings.port = int(sock.getsockname()[1])  # port 0: the one the kernel chose
    directory = tempfile.mkdtemp(prefix="game-metrics-")
    os.environ[ENV] = directory  # the workers inherit it (prometheus-client's own name)
    supervisor = Supervisor(settings, directory, json_lines)
    try:
        return supervisor.run()
    finally:
        supervisor.files.close()
        shutil.rmtree(directory, ignore_errors=True)
        sock.close()


class Supervisor:
    """See the module docstring."""

    def __init__(self, settings: Settings, directory: str, json_lines: bool) -> None:
        self.settings = settings
        self.directory = directory
        self.json_lines = json_lines
        self.workers = [Worker(index) for index in range(settings.workers)]
        self.files = MetricFiles(directory)
        self.restarts = 0
        self.stopping = False
        self.status = 0
        self._context = get_context("spawn")
        self._signals: list[int] = []
        self._wakeup_read, self._wakeup_write = socket.socketpair()
        self._handlers: dict[int, Any] = {}
        self._wakeup_fd = -1
        self._all_served = False

    def run(self) -> int:
        self._catch_signals()
        try:
            log.info("workers_starting", workers=len(self.workers), port=self.settings.port,
                     metrics_dir=self.directory)
            # started now, not by the first worker's start: starting it unblocks the stop
            # signals that `_start` blocks around each worker's start
            resource_tracker.ensure_running()
            for worker in self.workers:
                self._start(worker)
            while not self.stopping:
                self._step(self._next_restart())
                self._restart_due()
            return self._stop()
        finally:
            self._release_signals()

    # ---- the loop ------------------------------------------------------------------------

    def _step(self, timeout: float | None) -> None:
        """Wait for a signal, a worker's word or a worker's exit, and handle it."""
        ready = set(wait(self._waitables(), timeout))
        self._take_signals()
        for worker in self.workers:
            if worker.pipe is not None and worker.pipe in ready:
                self._heard(worker)
            process = worker.process
            if process is not None and process.sentinel in ready:
                if self.stopping:
                    self._stopped(worker)
                else:
                    self._exited(worker)

    def _waitables(self) -> list[Connection | socket.socket | int]:
        found: list[Connection | socket.socket | int] = [self._wakeup_read]
        for worker in self.workers:
            if worker.pipe is not None:
                found.append(worker.pipe)
            if worker.process is not None:
                found.append(worker.process.sentinel)
        return found

    def _next_restart(self) -> float | None:
        due = [w.restart_at for w in self.workers if w.restart_at is not None]
        return max(0.0, min(due) - time.monotonic()) if due else None

    def _restart_due(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if worker.restart_at is not None and worker.restart_at <= now \
                    and not self.stopping:
                worker.restart_at = None
                self.restarts += 1
                self._start(worker)
                log.info("worker_restarted", worker=worker.index, pid=worker.pid,
                         restarts=self.restarts)

    # ---- workers -------------------------------------------------------------------------

    def _start(self, worker: Worker) -> None:
        ours, theirs = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=worker_main, name=f"game-worker-{worker.index}",
            args=(self.settings, worker.index, os.getpid(), self.directory,
                  self.json_lines, theirs))
        # a stop signal waits (blocked: the mask is inherited) until the worker's own
        # handlers are in place; it would otherwise end it mid-import with a traceback
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            process.start()  # from the main thread: PDEATHSIG follows the starting thread
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        theirs.close()
        worker.process, worker.pipe, worker.pid = process, ours, process.pid
        worker.serving_since = None
        self._publish()

    def _heard(self, worker: Worker) -> None:
        assert worker.pipe is not None
        try:
            worker.pipe.recv()
        except (EOFError, OSError):  # it exited before serving: its sentinel says so
            worker.pipe.close()
            worker.pipe = None
            return
        worker.pipe.close()
        worker.pipe = None
        worker.serving_since = time.monotonic()
        self._publish()
        if not self._all_served and all(w.serving_since is not None
                                             for w in self.workers):
            self._all_served = True
            log.info("workers_started", workers=len(self.workers), port=self.settings.port,
                     pids=[w.pid for w in self.workers])

    def _exited(self, worker: Worker) -> None:
        """A worker exited on its own: restart it after the backoff, or give up."""
        served = worker.serving_since
        code = self._reap(worker)
        if served is not None and time.monotonic() - served >= STABLE_SECONDS:
            worker.failures = 0
        worker.failures += 1
        if served is None and worker.failures >= START_FAILURES and all(
                w.serving_since is None for w in self.workers):
            log.error("workers_failing", worker=worker.index, exitcode=code,
                      failed_starts=worker.failures, exit_status=EXIT_FAILING,
                      hint="every worker fails to start: see its log lines above")
            self.status = EXIT_FAILING
            self._begin_stop(signal.SIGTERM)
            return
        delay = min(BACKOFF_FIRST * 2 ** (worker.failures - 1), BACKOFF_MAX)
        worker.restart_at = time.monotonic() + delay
        log.error("worker_exited", worker=worker.index, pid=worker.pid, exitcode=code,
                  served=served is not None, restart_in=delay)

    def _reap(self, worker: Worker) -> int | None:
        """Join an exited worker and drop its live gauges from the shared figures."""
        process = worker.process
        assert process is not None
        process.join(STOP_GRACE)
        if worker.pipe is not None:
            worker.pipe.close()
            worker.pipe = None
        worker.process = None
        worker.serving_since = None
        if worker.pid is not None:
            mark_process_dead(worker.pid, self.directory)  # type: ignore[no-untyped-call]
        self._publish()
        return process.exitcode

    def _publish(self) -> None:
        """The supervisor's own figures, in its own files beside the workers'."""
        restarts = CounterMetricFamily("game_worker_restarts", "Workers restarted by the "
                                       "supervisor after they exited", value=self.restarts)
        serving = GaugeMetricFamily("game_workers_serving", "Worker processes serving the "
                                    "shared port", value=sum(
                                        w.serving_since is not None for w in self.workers))
        self.files.write([restarts, serving])

    # ---- signals and the stop ------------------------------------------------------------

    def _catch_signals(self) -> None:
        self._wakeup_write.setblocking(False)
        self._wakeup_read.setblocking(False)
        self._handlers = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        self._wakeup_fd = signal.set_wakeup_fd(self._wakeup_write.fileno())

    def _release_signals(self) -> None:
        signal.set_wakeup_fd(self._wakeup_fd)
        for sig, handler in self._handlers.items():
            signal.signal(sig, handler)
        self._wakeup_read.close()
        self._wakeup_write.close()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # the wakeup fd ends the wait; the signal is handled from the loop
        self._signals.append(signum)

    def _take_signals(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wakeup_read.recv(64):
                pass
        while self._signals:
            self._begin_stop(self._signals.pop(0))

    def _begin_stop(self, signum: int) -> None:
        if not self.stopping:
            self.stopping = True
            log.info("workers_stopping", signal=signal.Signals(signum).name,
                     workers=[w.pid for w in self.workers if w.process is not None])
        for worker in self.workers:
            worker.restart_at = None
            if worker.process is not None and worker.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signum)

    def _stop(self) -> int:
        """Wait for the workers to drain and exit; kill those still there at the end."""
        deadline = time.monotonic() + self.settings.drain_seconds + STOP_GRACE
        while any(w.process is not None for w in self.workers):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._step(left)  # a second Ctrl-C goes to the workers too
        for worker in self.workers:
            if worker.process is not None:
                log.error("worker_killed", worker=worker.index, pid=worker.pid,
                          after=self.settings.drain_seconds + STOP_GRACE)
                worker.process.kill()
                self._stopped(worker)
        log.info("workers_stopped", exit_status=self.status, restarts=self.restarts)
        return self.status

    def _stopped(self, worker: Worker) -> None:
        code = self._reap(worker)
        if code != 0 and self.status == 0:
            self.status = 1
            log.warning("worker_stopped_badly", worker=worker.index, pid=worker.pid,
                        exitcode=code)


# ---- in the worker ---------------------------------------------------------------------


def worker_main(settings: Settings, index: int, parent: int, directory: str,
                json_lines: bool, serving: Connection) -> None:
    """A worker's life: bind its own socket to the shared port and serve until stopped."""
    for sig in STOP_SIGNALS:  # uvicorn's handlers (the drain) replace these once it runs
        signal.signal(sig, _quit)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by the supervisor
    _follow(parent, settings.drain_seconds + STOP_GRACE)
    os.setpgid(0, 0)  # the terminal's Ctrl-C reaches the supervisor, which forwards it
    from game.server.listen import ListenError, listen
    from game.server.logs import configure_logging
    from game.server.metrics import share_through
    from game.server.run import serve

    configure_logging(settings.log_level, json_lines)
    structlog.contextvars.bind_contextvars(worker=index)
    share_through(directory)
    try:
        sock = listen(settings, reuse_port=True)
    except ListenError as exc:
        log.error("worker_cannot_listen", error=str(exc))
        sys.exit(EXIT_FAILING)

    def started(app: FastAPI) -> None:
        app.state.hub.metrics.start_sharing()
        serving.send(os.getpid())
        serving.close()

    serve(settings, sock, on_started=started)
    for sig in STOP_SIGNALS:  # drained: a late signal must not cut the exit short
        signal.signal(sig, signal.SIG_IGN)


def _quit(signum: int, frame: FrameType | None) -> None:
    # stopped while importing or binding: nothing to drain or close yet. Not SystemExit:
    # a second signal while that unwinds would end the worker by the signal after all
    os._exit(0)


def _follow(parent: int, limit: float) -> None:
    """Drain and exit when the supervisor is gone: the kernel sends SIGTERM on Linux
    (PR_SET_PDEATHSIG), and a thread watching the parent pid does it everywhere; past
    `limit` seconds more the worker exits whatever it was doing."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(0)
    threading.Thread(target=_watch, args=(parent, limit), name="supervisor-watch",
                     daemon=True).start()


def _watch(parent: int, limit: float) -> None:
    # no portable event for a parent's death: poll the parent pid (re-parented = dead)
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    log.warning("supervisor_gone", parent=parent)
    os.kill(os.getpid(), signal.SIGTERM)  # the drain, as for a stop (once more is harmless)
    time.sleep(limit)
    os._exit(1)
