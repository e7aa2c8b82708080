"""`game serve` as an operator meets it: bad settings and a taken port are refused in
one line each with exit status 2 before anything is bound or created; logs are lines
for a person on a terminal and JSON otherwise; the startup line says where the data
lives and where to connect."""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from tests.support import ROOT, free_port

TIMEOUT = 30.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's environment without any GAME_* of the caller's, the data dir in tmp."""
    env = {key: value for key, value in os.environ.items()
           if not key.upper().startswith("GAME_")}
    env.update({"XDG_DATA_HOME": str(tmp_path / "xdg"), "PYTHONPATH": str(ROOT),
                "GAME_BOT_WORKERS": "1", **extra})
    return env


def serve_once(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "game", "serve", *args],
                          env=environment(tmp_path, **env), capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=tmp_path)


def nothing_created(tmp_path: Path) -> list[Path]:
    """Whatever a refused start left in tmp_path (it must leave nothing)."""
    return sorted(tmp_path.rglob("*"))


# ---- refused settings -------------------------------------------------------------


def test_each_bad_setting_is_one_readable_line_and_nothing_is_created(tmp_path: Path) -> None:
    done = serve_once(tmp_path, "--port", "-5", "--db", str(tmp_path / "no" / "x.db"),
                      "--log-level", "loud", GAME_TURN_SECONDS="-1",
                      GAME_GRACE_SECONDS="inf", GAME_MATCH_LIST_LIMIT="500",
                      GAME_ALLOWED_ORIGINS="[not json", GAME_ADMIN_TOKEN="short")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "game serve: invalid settings, nothing was started"
    assert lines[-1].strip().startswith("(every setting")
    reasons = [line.removeprefix("  ") for line in lines[1:-1]]
    assert reasons == [
        "--port -5: must be between 0 and 65535",
        f"--db {tmp_path / 'no' / 'x.db'}: directory {tmp_path / 'no'} does not exist: "
        "create it first (only the default directory is created for you)",
        "GAME_ALLOWED_ORIGINS='[not json': must be a JSON list of origins, or origins "
        "separated by commas",
        "GAME_MATCH_LIST_LIMIT=500 with GAME_MATCH_LIST_MAX_LIMIT=200 (default): the "
        "default page cannot be longer than the longest page",
        "GAME_TURN_SECONDS=-1: must be greater than 0",
        "GAME_GRACE_SECONDS=inf: must be a finite number",
        reasons[6],  # the admin token's own rule, worded by its module
        "--log-level loud: must be one of debug, info, warning, error or critical",
    ]
    assert reasons[6].startswith("GAME_ADMIN_TOKEN=(hidden): ") and "short" not in reasons[6]
    assert "Traceback" not in done.stderr and not any(is_json(line) for line in lines)
    assert nothing_created(tmp_path) == []


def test_several_workers_need_redis_and_a_bad_redis_url_is_refused(tmp_path: Path) -> None:
    done = serve_once(tmp_path, "--workers", "3")
    assert done.returncode == 2
    assert "  --workers 3: above 1 needs the Redis mode (--redis)" in done.stderr
    done = serve_once(tmp_path, "--redis", "redis://:secret@127.0.0.1:1/0")
    assert done.returncode == 2  # nothing listens there: one line, no password
    assert done.stderr.startswith("game serve: cannot reach Redis at redis://127.0.0.1:1/0")
    assert "secret" not in done.stderr
    done = serve_once(tmp_path, GAME_WORKERS="0")
    assert done.returncode == 2 and "  GAME_WORKERS=0: must be at least 1" in done.stderr
    assert nothing_created(tmp_path) == []


def test_a_port_in_use_is_one_line_and_exit_2_before_the_store_is_opened(
        tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve_once(tmp_path, "--port", str(port), "--db", str(tmp_path / "game.db"))
    assert done.returncode == 2
    assert done.stderr == (f"game serve: cannot listen on 127.0.0.1:{port}: address already "
                           "in use: another process listens there (stop it, or choose "
                           "another --port)\n")
    assert nothing_created(tmp_path) == []


def test_a_file_that_is_no_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database, but a file someone pointed --db at by mistake\n" * 20)
    before = junk.read_bytes()
    done = serve_once(tmp_path, "--db", str(junk))
    assert done.returncode == 2
    assert done.stderr == f"game serve: cannot open the database {junk}: file is not a database\n"
    assert junk.read_bytes() == before and nothing_created(tmp_path) == [junk]


def test_an_unknown_host_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = serve_once(tmp_path, "--host", "no-such-host.invalid", "--db", ":memory:")
    assert done.returncode == 2
    assert done.stderr.startswith("game serve: cannot listen on no-such-host.invalid:8000: "
                                  "host 'no-such-host.invalid' is unknown")
    assert len(done.stderr.splitlines()) == 1


def test_help_says_where_the_data_lives(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "game", "serve", "--help"],
                          env=environment(tmp_path), capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse wraps lines, even at hyphens
    assert f"here{tmp_path / 'xdg' / 'game-server' / 'game.sqlite3'}." in "".join(text.split())
    assert "$XDG_DATA_HOME/game-server/game.sqlite3" in text
    assert "~/.local/share/game-server/game.sqlite3" in text
    for flag in ("--log-format", "--log-level", "--workers", "--redis", "--db"):
        assert flag in text


# ---- a running server: where the data lives, and its logs --------------------------


class Running:
    """A `game serve` process whose stderr lines are collected as they come."""

    def __init__(self, process: subprocess.Popen[bytes], stream: IO[bytes] | int) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._pump_thread.start()

    def _pump(self, stream: IO[bytes] | int) -> None:
        if isinstance(stream, int):  # a pty's master side
            buffer = b""
            while True:
                try:
                    chunk = os.read(stream, 4096)
                except OSError:  # EIO: the other side is closed
                    break
                if not chunk:
                    break
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                for raw in complete:
                    self.lines.put(raw.decode("utf-8", "replace").rstrip("\r"))
            return
        for raw in stream:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))

    def everything(self) -> list[str]:
        """Every line the process wrote, once it has exited."""
        self._pump_thread.join(TIMEOUT)
        assert not self._pump_thread.is_alive()
        while not self.lines.empty():
            self.seen.append(ANSI.sub("", self.lines.get_nowait()))
        return self.seen

    def wait_for(self, wanted: Callable[[str], bool]) -> str:
        """The first line (from now on) that `wanted` accepts."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            left = deadline - time.monotonic()
            assert left > 0 and self.process.poll() is None, "\n".join(self.seen[-20:])
            try:
                line = ANSI.sub("", self.lines.get(timeout=min(left, 1.0)))
            except queue.Empty:
                continue
            self.seen.append(line)
            if wanted(line):
                return line


@contextmanager
def running(tmp_path: Path, *args: str, terminal: bool = False,
            **env: str) -> Iterator[Running]:
    command = [sys.executable, "-m", "game", "serve", "--port", "0", *args]
    environ = environment(tmp_path, **env)
    master = None
    if terminal:
        master, slave = pty.openpty()
        process = subprocess.Popen(command, env=environ, cwd=tmp_path, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        server = Running(process, master)
    else:
        process = subprocess.Popen(command, env=environ, cwd=tmp_path, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert process.stderr is not None
        server = Running(process, process.stderr)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if master is not None:
            os.close(master)


def is_json(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def console_fields(line: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", line))


def test_json_lines_off_a_terminal_and_the_default_data_dir_is_created(
        tmp_path: Path) -> None:
    with running(tmp_path, GAME_TRUN_SECONDS="5") as server:
        started = json.loads(server.wait_for(lambda line: "server_started" in line))
        assert all(is_json(line) for line in server.seen), server.seen
        db = tmp_path / "xdg" / "game-server" / "game.sqlite3"
        assert started["db"] == str(db) and db.is_file()
        url = started["url"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url) and not url.endswith(":0/")
        assert httpx.get(f"{url}healthz", timeout=10).status_code == 200
        typo = [json.loads(line) for line in server.seen if "setting_unknown" in line]
        assert typo == [{**typo[0], "variable": "GAME_TRUN_SECONDS",
                         "did_you_mean": "GAME_TURN_SECONDS"}]


def test_console_lines_when_asked_and_a_relative_db_is_shown_absolute(
        tmp_path: Path) -> None:
    with running(tmp_path, "--log-format", "console", "--db", "here.sqlite3") as server:
        line = server.wait_for(lambda text: "server_started" in text)
        assert not any(is_json(seen) for seen in server.seen), server.seen
        assert re.match(r"^\S+Z \[info\s*\] server_started\s+\[game\.app\] ", line), line
        fields = console_fields(line)
        assert fields["db"] == str(tmp_path / "here.sqlite3")
        assert httpx.get(f"{fields['url']}healthz", timeout=10).status_code == 200


def test_a_terminal_gets_console_lines_by_default(tmp_path: Path) -> None:
    with running(tmp_path, "--db", ":memory:", terminal=True) as server:
        line = server.wait_for(lambda text: "server_started" in text)
        assert not any(is_json(seen) for seen in server.seen), server.seen
        fields = console_fields(line)
        assert fields["db"] == ":memory:" and fields["keeps_nothing"] == "True"
        assert httpx.get(f"{fields['url']}healthz", timeout=10).status_code == 200


def test_the_deprecated_log_json_still_works_with_a_warning(tmp_path: Path) -> None:
    with running(tmp_path, "--db", ":memory:", GAME_LOG_JSON="false") as server:
        server.wait_for(lambda text: "server_started" in text)
        assert not any(is_json(seen) for seen in server.seen), server.seen
        warning = next(line for line in server.seen if "setting_deprecated" in line)
        assert console_fields(warning)["use"] == "GAME_LOG_FORMAT"
    done = serve_once(tmp_path, "--log-format", "console", GAME_LOG_JSON="true")
    assert done.returncode == 2
    assert ("  GAME_LOG_JSON=true with --log-format console: log_json is deprecated and "
            "contradicts log_format: drop it") in done.stderr


def test_the_log_level_is_applied(tmp_path: Path) -> None:
    port = free_port()
    with running(tmp_path, "--db", ":memory:", "--log-level", "WARNING", "--port", str(port),
                 GAME_TRUN_SECONDS="5") as server:
        # warnings still come through; info lines (server_started among them) do not
        server.wait_for(lambda text: "setting_unknown" in text)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    lines = server.everything()
    assert any('"level":"warning"' in line for line in lines)
    assert not any("server_started" in line or '"level":"info"' in line for line in lines)
