"""Servers for the hostile-input tests: one per set of settings, shared by a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.harness import assert_clean_logs
from tests.support import ServerProcess, start_server


def serving(tmp: Path, **settings: Any) -> Iterator[ServerProcess]:
    proc = start_server(tmp, **settings)
    try:
        yield proc
    finally:
        proc.stop()
    assert_clean_logs(proc)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Default limits except a short hello timeout and one extra allowed origin. 3 s, not
    1: under load (Chromium and three test workers on two cores) a client's own hello
    sometimes took over a second to arrive, and the server rightly closed it 1008."""
    yield from serving(tmp_path_factory.mktemp("hostile"), hello_timeout=3.0,
                       close_timeout=1.0, allowed_origins=["https://friend.example"],
                       watchers_flush_ms=20)
