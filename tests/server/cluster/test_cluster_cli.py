"""`game serve --redis`: a Redis that cannot serve is one line and exit 2, before
anything starts; the URL's password is never printed."""

from __future__ import annotations

import subprocess
import sys

from tests.redis_support import free_port
from tests.support import server_root


def test_an_unreachable_redis_is_one_line_and_exit_2() -> None:
    closed = free_port()
    for extra in ([], ["--redis-cluster"]):
        done = subprocess.run(
            [sys.executable, "-m", "game", "serve", "--port", "0",
             "--redis", f"redis://user:s3cret@127.0.0.1:{closed}/0", *extra],
            capture_output=True, text=True, timeout=60, cwd=server_root())
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"game serve: cannot reach Redis at redis://127.0.0.1:{closed}/0")
        assert "s3cret" not in done.stderr + done.stdout
